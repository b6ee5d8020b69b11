"""`predev-credits-check`: the command every integration runs.

Exit codes: 0 at/above the floor, 1 below it, 2 usage/configuration error, 3 API unreadable.
Imports stay lazy: a cache hit loads neither httpx nor (without a config file) yaml.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ..__version__ import __version__
from .._core import defaults
from .._core.outcome import Outcome
from .._core.ranges import (
    CREDITS,
    RETRIES,
    SECONDS,
    TTL,
    Range,
    chance_text,
    number_from_text,
    risk_from_text,
)
from .._core.sanitize import safe_text
from .._core.verdict import ERROR
from ..errors import (
    EXIT_INTERNAL,
    EXIT_LOW,
    EXIT_OK,
    ApiError,
    ConfigError,
    PreDevError,
)
from .report import render

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

    from .._core.forecast import Forecast
    from .._core.need import Need
    from .._core.outcome import AlertReport
    from .._core.secret import Secret, Secrets
    from .alerting import AlertPlan
    from .history import Stored
    from .settings import KeySources

PROG = "predev-credits-check"
#: Longest error line printed; every part quoted from outside is shorter still.
MAX_LINE = 1000
FORMATS = ("text", "json", "github")

#: Built-in defaults, below presets, the config file and flags (in that order of precedence).
DEFAULTS: dict[str, Any] = {
    "min_credits": defaults.MIN_CREDITS,
    "warn_below": None,
    "on_error": defaults.FAIL,
    "on_low": defaults.FAIL,
    "cache_ttl": defaults.CACHE_TTL,
    "timeout": defaults.TIMEOUT,
    "retries": defaults.RETRIES,
    "deadline": defaults.DEADLINE,
    "min_runway": None,
    "warn_runway": None,
    "runway_risk": defaults.FORECAST_RISK,
    "alert_below": None,
    "alert_runway": None,
    "alert_rearm_above": None,
    "topup_url": None,
    "need": None,
    "spec_cost": None,
}

#: A commit or push must never hang or break on an outage: short timeouts, cached, warn on error.
_HOOK_DEFAULTS: dict[str, Any] = {
    "cache_ttl": 300,
    "on_error": defaults.WARN,
    "timeout": 3.0,
    "retries": 1,
    "deadline": 5.0,
}

#: Integration presets change defaults only; a config file and flags still win.
PRESETS: dict[str, dict[str, Any]] = {
    "pre-commit": _HOOK_DEFAULTS,
    "pre-push": _HOOK_DEFAULTS,
}

#: How to get past a hook that cannot find its key; appended to that one-line error.
SKIP_HINTS = {
    "pre-commit": "To skip this hook once: SKIP=predev-credits-check git commit ...",
    "pre-push": "To skip this hook once: SKIP=predev-credits-check-push git push ...",
}


class _Parser(argparse.ArgumentParser):
    #: Set by main() for `--format github`: a usage error then sets the step outputs and an
    #: ::error annotation too, like every other outcome (the Action's outputs are never unset).
    github = False
    #: Set by main(): every key source, redacted from the step's files (stdout and stderr
    #: redact them already).
    secrets: Secrets | None = None

    def error(self, message: str) -> NoReturn:
        """One line instead of usage + message, with the documented exit code 2.

        argparse quotes the command line, which may hold anything (even a key pasted as a
        flag by mistake): the message is cleaned here and redacted by main's output path.
        """
        message = safe_text(message, self.secrets, MAX_LINE)
        code = ConfigError.exit_code
        if self.github:
            outcome = Outcome(ERROR, error=f"{message} (see --help)")
            render(outcome, "github", self.prog, secrets=self.secrets)
            self.exit(code)
        self.exit(code, f"{self.prog}: error: {message} (see --help)\n")


def _asks_for_github(argv: Sequence[str]) -> bool:
    """`--format github` or `--format=github`, seen before parsing so usage errors honour it.

    Exact, because the parser refuses abbreviations (`--form github` is a usage error).
    """
    return any(
        arg == "--format=github" or (arg == "--format" and list(argv[i + 1 : i + 2]) == ["github"])
        for i, arg in enumerate(argv)
    )


def _flag(bounds: Range, cast: type[float] | None = None) -> Callable[[str], float | int]:
    """An argparse `type` that parses a number within `bounds` (see ranges)."""

    def parse(text: str) -> float | int:
        try:
            value = number_from_text(text, bounds)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return cast(value) if cast is not None else value

    return parse


def _duration(text: str) -> float:
    """An argparse `type` for `--min-runway 7d`: seconds, via the forecast's parser."""
    from .._core.forecast import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _risk(text: str) -> float:
    """An argparse `type` for `--runway-risk 1-in-10` (or `10%`, `0.1`): the core's one rule."""
    try:
        return risk_from_text(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _topup_url(text: str) -> str:
    """An argparse `type` for `--topup-url`: an https link, by the core's one rule."""
    from .._core.urls import normalize_topup_url

    try:
        return normalize_topup_url(text, "the link")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc).removesuffix(".")) from None


def _need(text: str) -> str:
    """An argparse `type` for `--need 600` / `--need "12 deep, 3 fast"`: checked here, kept as
    text (a `--need 0` still overrides a config file's need)."""
    from .._core.need import parse_need

    try:
        parse_need(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _spec_cost(text: str) -> dict[str, float]:
    """An argparse `type` for `--spec-cost deep=40,fast=8`."""
    from .._core.need import parse_spec_cost

    try:
        return parse_spec_cost(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description="Fail (or warn) when the pre.dev prototype-credit balance is below a floor.",
        epilog="Exit codes: 0 ok/warn, 1 below the floor, 2 usage or configuration error, "
        f"3 the API could not be read. The key is read from ${defaults.API_KEY_ENV} "
        "(or --api-key-env / --api-key-file), never from a command-line value.",
    )
    p.add_argument(
        "--min-credits",
        type=_flag(CREDITS),
        metavar="N",
        help=f"floor: fail below this balance (default {defaults.MIN_CREDITS})",
    )
    p.add_argument(
        "--warn-below",
        type=_flag(CREDITS),
        metavar="N",
        help="warn (still exit 0) when the balance is below this",
    )
    p.add_argument(
        "--need",
        type=_need,
        metavar="NEED",
        help='what the coming work will spend: credits ("600") or specs by kind ("12 deep, 3 '
        'fast", priced at Deep 50 and Fast 10); fail unless the balance covers the floor plus it',
    )
    p.add_argument(
        "--spec-cost",
        type=_spec_cost,
        metavar="KIND=N,...",
        help="your own credits per spec for --need (deep=40,fast=8); default the vendor's "
        "upper ends",
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API base URL (default ${defaults.BASE_URL_ENV} or {defaults.BASE_URL})",
    )
    key = p.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key-env",
        metavar="NAME",
        help=f"read the key from this environment variable (default {defaults.API_KEY_ENV})",
    )
    key.add_argument("--api-key-file", metavar="PATH", help="read the key from this file")
    p.add_argument(
        "--timeout",
        type=_flag(SECONDS, float),
        metavar="S",
        help=f"seconds per request (default {defaults.TIMEOUT:g})",
    )
    p.add_argument(
        "--retries",
        type=_flag(RETRIES),
        metavar="N",
        help=f"retries after the first attempt (default {defaults.RETRIES}; 0 disables)",
    )
    p.add_argument(
        "--deadline",
        type=_flag(SECONDS, float),
        metavar="S",
        help=f"seconds for the whole check, retries and waits included "
        f"(default {defaults.DEADLINE:g})",
    )
    p.add_argument(
        "--cache-ttl",
        type=_flag(TTL),
        metavar="S",
        help=f"reuse a balance read less than S seconds ago (default {defaults.CACHE_TTL} = off)",
    )
    p.add_argument(
        "--on-error",
        choices=defaults.POLICIES,
        help="API unreadable: fail (exit 3, default) or warn (exit 0)",
    )
    p.add_argument(
        "--on-low",
        choices=defaults.POLICIES,
        help="below the floor: fail (exit 1, default) or warn (exit 0)",
    )
    p.add_argument(
        "--min-runway",
        type=_duration,
        metavar="DURATION",
        help="fail (exit 1, like a low balance) when, at the current burn rate, the floor is "
        "this close: 90m, 36h, 3d, 2w. An unknown runway never fails (docs/runway.md)",
    )
    p.add_argument(
        "--warn-runway",
        type=_duration,
        metavar="DURATION",
        help="warn (still exit 0) when the floor is this close at the current burn rate",
    )
    p.add_argument(
        "--runway-risk",
        type=_risk,
        metavar="CHANCE",
        help="the chance of the floor coming within a runway limit (--min-runway, "
        "--warn-runway, --alert-runway) at which the limit fails: 1-in-10, 10%%, 0.1; from "
        f"1-in-100 up to, not including, 1-in-2 (default {chance_text(defaults.FORECAST_RISK)})",
    )
    p.add_argument(
        "--alert-below",
        type=_flag(CREDITS),
        metavar="N",
        help="alert once (ALERT: line, JSON alert.fired) on the run where the balance falls "
        "below N; quiet while low; re-armed at --alert-rearm-above. Never changes the exit code",
    )
    p.add_argument(
        "--alert-runway",
        type=_duration,
        metavar="DURATION",
        help="alert once on the run where the runway to the floor (--min-credits) falls below "
        "this: 90m, 36h, 3d; re-armed at 1.5 times it",
    )
    p.add_argument(
        "--alert-rearm-above",
        type=_flag(CREDITS),
        metavar="N",
        help="re-arm the --alert-below alert once the balance is back at or above N "
        "(default 10%% above --alert-below, at least 1 credit)",
    )
    p.add_argument(
        "--topup-url",
        type=_topup_url,
        metavar="URL",
        help=f"the https link in every LOW/warn line and alert (default {defaults.TOP_UP_URL}; "
        f"enterprise: {defaults.ENTERPRISE_TOP_UP_URL})",
    )
    p.add_argument(
        "--no-history",
        action="store_true",
        help="do not record this reading, nor read past ones: no runway forecast",
    )
    p.add_argument(
        "--show-history",
        action="store_true",
        help="print the recorded readings, a sparkline and the fitted burn rate, then exit "
        "(no request is made)",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument(
        "--config", metavar="PATH", help="config file (default ./.predev-credits.yml if present)"
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="defaults tuned for a git hook (pre-commit, pre-push): cached, short, warn",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def resolve_options(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults < preset < config file < flags; then cross-field validation."""
    from .config import find_config

    chosen = dict(DEFAULTS)
    if args.preset:
        chosen.update(PRESETS[args.preset])
    path = find_config(args.config)
    if path is not None:
        from .config import load_config

        chosen.update(load_config(path))
    if args.preset:
        chosen["need"] = None  # a commit spends nothing: a hook asks for the floor, not a batch
    for name in DEFAULTS:
        value = getattr(args, name, None)
        if value is not None:
            chosen[name] = value
    warn_below, floor = chosen["warn_below"], chosen["min_credits"]
    if warn_below is not None and warn_below < floor:
        raise ConfigError(
            f"warn_below ({warn_below}) is below min_credits ({floor}), so it would never warn; "
            "raise warn_below or lower min_credits."
        )
    min_runway, warn_runway = chosen["min_runway"], chosen["warn_runway"]
    if min_runway is not None and warn_runway is not None and warn_runway < min_runway:
        raise ConfigError(
            "warn_runway is shorter than min_runway, so it would never warn; "
            "lengthen warn_runway or shorten min_runway."
        )
    below, rearm = chosen["alert_below"], chosen["alert_rearm_above"]
    if rearm is not None and below is None:
        raise ConfigError(
            "alert_rearm_above is set but alert_below is not; set alert_below or remove "
            "alert_rearm_above."
        )
    if rearm is not None and below is not None and rearm < below:
        raise ConfigError(
            f"alert_rearm_above ({rearm}) is below alert_below ({below}), so the alert would "
            "re-arm while still low; raise alert_rearm_above or remove it for the default."
        )
    if args.deadline is None and chosen["timeout"] > chosen["deadline"]:
        # A longer --timeout than the default deadline means "wait that long": one attempt
        # always gets its full timeout unless a deadline was asked for explicitly.
        chosen["deadline"] = chosen["timeout"]
    return chosen


def _integration(args: argparse.Namespace) -> str:
    if args.format == "github":
        return "github-action"
    return args.preset or "cli"


def _fetch(base_url: str, key: Secret, settings: dict[str, Any], integration: str) -> float | int:
    """Read the balance over HTTP; the client validates the base URL before any request."""
    from .._core.retry import RetryPolicy
    from .._http.client import CreditsClient

    policy = RetryPolicy(
        retries=settings["retries"], timeout=settings["timeout"], deadline=settings["deadline"]
    )
    with CreditsClient(key, base_url=base_url, policy=policy, integration=integration) as client:
        return client.get_balance()


def load_key(args: argparse.Namespace, sources: KeySources) -> Secret:
    """The key the flags name, from the sources main read first; a hook's error says how to
    skip the hook."""
    try:
        return sources.load(api_key_env=args.api_key_env, api_key_file=args.api_key_file)
    except ConfigError as exc:
        if args.preset in SKIP_HINTS:
            raise ConfigError(f"{exc} {SKIP_HINTS[args.preset]}") from None
        raise


def check(args: argparse.Namespace, sources: KeySources | None = None) -> tuple[Outcome, int]:
    """Run one check and return what to report and the exit code.

    The key comes from `sources` (read by main before anything else, so that its output path
    redacts every key source). Every input is validated before any use of it. Errors from our
    inputs raise (ConfigError); an unreadable API is an outcome, because `--on-error warn` may
    tolerate it. An alert (`alerting`) never changes the exit code.
    """
    from .._core.verdict import Verdict, evaluate
    from . import cache
    from .settings import KeySources, base_url_setting

    sources = KeySources() if sources is None else sources
    settings = resolve_options(args)
    base_url = base_url_setting(args.base_url)
    key = load_key(args, sources)
    floor, warn_below = settings["min_credits"], settings["warn_below"]
    need = _priced_need(settings)
    topup_url = settings["topup_url"] or defaults.TOP_UP_URL
    common: dict[str, Any] = {
        "need": need,
        "min_credits": floor,
        "warn_below": warn_below,
        "topup_url": topup_url,
    }

    ttl = settings["cache_ttl"]
    keep_history = not args.no_history
    directory = cache.location(cache.cache_dir()) if ttl > 0 or keep_history else None
    path = cache.entry_path(directory, base_url, key) if directory is not None and ttl > 0 else None
    balance = cache.read(path, ttl, time.time()) if path is not None else None
    cached = balance is not None
    alert = _AlertRun(settings, keep_history, directory, base_url, key)
    live: tuple[list[tuple[float, float]] | None, AlertPlan | None] = (None, None)
    if balance is None:
        try:
            balance = _fetch(base_url, key, settings, _integration(args))
        except ApiError as exc:
            soft = settings["on_error"] == defaults.WARN
            error = safe_text(exc.describe(), key, MAX_LINE)
            outcome = Outcome(ERROR, error=error, soft=soft, **common)
            outcome.alert = alert.idle(0)
            return outcome, EXIT_OK if soft else exc.exit_code
        now = time.time()
        if path is not None:
            cache.write(path, balance, now)
        live = alert.record(balance, now)
    readings, plan = live

    verdict = evaluate(balance if need is None else covered(balance, need), floor, warn_below)
    asked = settings["min_runway"] is not None or settings["warn_runway"] is not None
    if readings is None and (asked or verdict is not Verdict.OK) and alert.file is not None:
        # A cache hit reads the history only when a runway was asked for or the balance is
        # low: the everyday hit stays as cheap as before.
        readings = alert.stored().readings
    outcome = Outcome(verdict, balance=balance, cached=cached, **common)
    if readings is not None:
        now = time.time() if plan is None else plan.now
        _add_runway(outcome, readings, settings, now, None if plan is None else plan.forecast)
        verdict = Verdict(outcome.status)
    elif asked:
        from .._core.forecast import UNKNOWN, Forecast

        why = "--no-history is set" if not keep_history else "no cache directory for a history"
        outcome.runway = Forecast(UNKNOWN, reason=why)
        outcome.show_runway = True
    outcome.alert = alert.idle(balance) if plan is None else alert.report(plan, outcome)
    outcome.soft = verdict is Verdict.LOW and settings["on_low"] == defaults.WARN
    return outcome, EXIT_LOW if verdict is Verdict.LOW and not outcome.soft else EXIT_OK


def covered(balance: float, need: Need) -> float:
    """What remains once the need is spent: the balance the floor is compared with."""
    from .._core.need import covered as remaining

    return remaining(balance, need)


def _priced_need(settings: dict[str, Any]) -> Need | None:
    """The need the flags or the config file give, priced; None for none (or 0)."""
    if settings["need"] is None:
        return None
    from .._core.need import need_value

    return need_value(settings["need"], spec_cost=settings["spec_cost"])


class _AlertRun:
    """One run's history file and alert settings: records the live reading (deciding the
    alert under the history's lock) and reports the alert (`alerting`)."""

    def __init__(
        self,
        settings: dict[str, Any],
        keep_history: bool,
        directory: str | None,
        base_url: str,
        key: Secret,
    ) -> None:
        self.settings = settings
        self.asked = settings["alert_below"] is not None or settings["alert_runway"] is not None
        self.why = "--no-history is set" if not keep_history else "no cache directory"
        self._where = (directory, base_url, key) if keep_history and directory else None
        self._stored: Stored | None = None

    @property
    def file(self) -> str | None:
        """The history file, None when none is kept (the everyday hit never imports history)."""
        if self._where is None:
            return None
        from . import history

        return history.history_path(*self._where)

    def stored(self) -> Stored:
        """The history file's content, read once."""
        if self._stored is None:
            from . import history

            self._stored = history.load_stored(self.file) if self.file else history.Stored()
        return self._stored

    def record(
        self, balance: float, now: float
    ) -> tuple[list[tuple[float, float]] | None, AlertPlan | None]:
        """Record a live reading; the readings as they now stand and the alert's decision."""
        if self.file is None:
            return None, None
        from . import history

        plan = None
        if self.asked:
            from .alerting import AlertPlan

            plan = AlertPlan(self.settings, balance, now)
        recorded = history.record(
            self.file,
            now,
            balance,
            alert_key=None if plan is None else plan.key,
            decide=None if plan is None else plan.decide,
        )
        if not recorded.kept:
            self.why = "no usable cache directory"
        return recorded.readings, plan

    def report(self, plan: AlertPlan, outcome: Outcome) -> AlertReport | None:
        """What this run's live reading decided (nothing when no history could be kept)."""
        if plan.edges is None:
            return plan.off(self.why)
        return plan.report(outcome.runway, outcome.topup_url)

    def idle(self, balance: float) -> AlertReport | None:
        """A run that decided nothing (a cache hit, an unreadable API, no history): the
        stored state; None when no alert is set."""
        if not self.asked:
            return None
        from .alerting import AlertPlan

        plan = AlertPlan(self.settings, balance, 0.0)
        if self.file is None:
            return plan.off(self.why)
        return plan.idle(self.stored().states.get(plan.key))


def _add_runway(
    outcome: Outcome,
    readings: list[tuple[float, float]],
    settings: dict[str, Any],
    now: float,
    result: Forecast | None = None,
) -> None:
    """Forecast from `readings` down to the floor (unless the alert made that forecast
    already: `result`); a known runway within --min-runway or --warn-runway raises the verdict
    (never lowers it)."""
    from .._core.forecast import forecast
    from .._core.runway import runway_verdict, worse
    from .._core.verdict import Verdict

    min_runway, warn_runway = settings["min_runway"], settings["warn_runway"]
    if result is None:
        result = forecast(readings, outcome.min_credits, now=now, risk=settings["runway_risk"])
    outcome.runway, outcome.now, outcome.history = result, now, readings
    outcome.min_runway, outcome.warn_runway = min_runway, warn_runway
    outcome.show_runway = min_runway is not None or warn_runway is not None
    by_balance = Verdict(outcome.status)
    by_runway = runway_verdict(result, min_runway, warn_runway)
    if worse(by_balance, by_runway) is not by_balance:
        outcome.status = by_runway.value
        outcome.runway_verdict = by_runway


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: never raises, never prints a traceback.

    A bug of ours is one line naming the log file that holds the traceback (see crashlog).
    A report that cannot be written (stdout closed or full) is dropped: the exit code is still
    the verdict's, and nothing is printed about it.
    """
    from .output import redirected
    from .settings import KeySources

    argv = sys.argv[1:] if argv is None else list(argv)
    # First of all, before any flag or file is read: every key source, redacted from every
    # byte this run prints or writes, whatever raises and wherever the key was pasted.
    sources = KeySources(argv)
    with redirected(sources.secrets):
        return _run(argv, sources)


def _run(argv: Sequence[str], sources: KeySources) -> int:
    secrets = sources.secrets
    parser = build_parser()
    if isinstance(parser, _Parser):
        parser.github = _asks_for_github(argv)
        parser.secrets = secrets
    args = parser.parse_args(argv)
    try:
        if args.show_history:
            from .show_history import show

            settings = resolve_options(args)
            return show(args, load_key(args, sources), settings, sys.stdout)
        outcome, code = check(args, sources)
    except PreDevError as exc:
        outcome = Outcome(ERROR, error=safe_text(exc.describe(), secrets, MAX_LINE))
        code = exc.exit_code
        _fill_floor(outcome, args)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, the traceback in a log
        from .crashlog import log_internal_error

        line = log_internal_error(exc, secrets)
        outcome, code = Outcome(ERROR, error=safe_text(line, secrets, MAX_LINE)), EXIT_INTERNAL
    try:
        render(outcome, args.format, PROG, secrets=secrets)
        sys.stdout.flush()
    except OSError:
        _drop_output()
    return code


def _drop_output() -> None:
    """stdout/stderr cannot be written: point them at /dev/null, so that the interpreter's
    own flush at exit does not print "Exception ignored ... BrokenPipeError" and exit 120."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            continue
    os.close(devnull)


def _fill_floor(outcome: Outcome, args: argparse.Namespace) -> None:
    """Reports of configuration errors still show the floor that was asked for."""
    if args.min_credits is not None:
        outcome.min_credits = args.min_credits
    outcome.warn_below = args.warn_below
