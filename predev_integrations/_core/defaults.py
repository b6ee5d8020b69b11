"""The one home of every default and choice the integrations share.

The CLI, the retry policy, the config file and the Airflow provider all read them from here,
so a default changes in one place. This module imports nothing: the CLI loads it on every run.
"""

from __future__ import annotations

#: Fail below this balance.
MIN_CREDITS = 1
#: Seconds per request.
TIMEOUT = 10.0
#: Retries after the first attempt.
RETRIES = 2
#: Seconds for the whole check, retries and waits included.
DEADLINE = 30.0
#: Seconds a cached balance is reused; 0 turns the cache off.
CACHE_TTL = 0
#: What to do when the API is unreadable (`on_error`) or the balance is low (`on_low`).
FAIL, WARN = "fail", "warn"
POLICIES = (FAIL, WARN)

#: The variable that holds the API key unless --api-key-env names another.
API_KEY_ENV = "PREDEV_API_KEY"
#: The variable that overrides the API's base URL.
BASE_URL_ENV = "PREDEV_BASE_URL"
#: The API's base URL.
BASE_URL = "https://api.pre.dev"
#: Where solo users see and buy prototype credits (the vendor's "Dashboard Access").
TOP_UP_URL = "https://pre.dev/project/playground"
#: Where enterprise users buy them; `--topup-url` (and its twins) points every message there.
ENTERPRISE_TOP_UP_URL = "https://pre.dev/enterprise/dashboard?page=api"

# The runway forecast (`_core/forecast.py`). A forecast needs at least MIN_READINGS readings
# over at least MIN_SPAN seconds within WINDOW seconds of now: three readings over an hour is
# the least that tells a rate from a single burst, and four weeks show the weekly cycle four
# times without remembering last quarter.
#: Seconds of history a forecast fits (4 weeks: enough to see a weekly cycle more than once).
FORECAST_WINDOW = 28 * 86_400.0
#: Readings a forecast needs.
FORECAST_MIN_READINGS = 3
#: Seconds those readings must span (1 hour).
FORECAST_MIN_SPAN = 3_600.0
#: A rise of more than this many credits between two readings is a top-up (the spending in
#: that gap is unknown); a smaller one is a refund (a Deep Spec costs at most 50), netted
#: against the spending.
FORECAST_TOP_UP_TOLERANCE = 50.0
#: The gate's risk: a runway limit (`--min-runway` and its twins) fails when the floor has at
#: least this chance of coming within it (1 in 5). Chosen on the evaluation's tuning seeds as
#: the risk at which a forecaster told a varying weekly batch's true process meets both alarm
#: bounds (bench/README.md); at 1 in 10 even that forecaster raised 4 % false alarms.
FORECAST_RISK = 0.2

# What specs cost (the vendor's pricing page: Deep ~10-50, Fast ~5-10 credits). The runway
# model's spread starts from these ranges; `need` (`_core/need.py`) prices at the upper end, so
# a batch it lets through never runs dry halfway. `--spec-cost` (`spec_cost`) is a team's own.
#: The spec kinds a need may name, in the order a line says them.
SPEC_KINDS = ("deep", "fast")
#: The vendor's published range per spec kind, in whole credits.
SPEC_COST_RANGE = {"deep": (10, 50), "fast": (5, 10)}
#: Credits per spec when no `spec_cost` is given: the vendor's upper ends.
SPEC_COST = {kind: high for kind, (_, high) in SPEC_COST_RANGE.items()}
#: An explicit spec cost above this is a typo, not a price (20 times the dearest spec).
MAX_SPEC_COST = 1_000
#: More specs than this in one need is not a batch anyone plans (per kind).
MAX_NEED_SPECS = 10_000
#: A need of more credits than this is not one anyone plans.
MAX_NEED_CREDITS = 1_000_000_000
