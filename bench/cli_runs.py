"""Parts 1 and 2: the CLI on a cache hit and live over TLS, next to what a user would write
by hand, all in one interleaved run so every ratio compares runs made side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .env import CACHE_TTL, Stage
from .harness import Case, command, interleave, median
from .table import Row, ms, ratio, times

#: The shortest honest httpx equivalent of the live check.
HTTPX_ONE_LINER = (
    "import httpx, os; print(httpx.get(os.environ['BENCH_URL'], headers={'Authorization': "
    "'Bearer ' + os.environ['PREDEV_API_KEY']}).json()['creditsRemaining'])"
)

#: The floor for any Python client: the standard library, certificates verified.
STDLIB = (
    "import http.client, json, os, ssl, urllib.parse; "
    "u = urllib.parse.urlsplit(os.environ['BENCH_URL']); "
    "c = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context()); "
    "k = os.environ['PREDEV_API_KEY']; "
    "c.request('GET', u.path, headers={'Authorization': 'Bearer ' + k}); "
    "print(json.loads(c.getresponse().read())['creditsRemaining'])"
)

#: The vendor's documented Python snippet (shared/api/credits-balance.md), verbatim except
#: that the URL and key come from the environment.
VENDOR_SNIPPET = '''
import os
import requests

def get_credits_balance(api_key: str) -> dict:
    """Get the current credits balance for the API key."""
    url = os.environ["BENCH_URL"]
    headers = {"Authorization": f"Bearer {api_key}"}

    try:
        response = requests.get(url, headers=headers, timeout=60)
        response.raise_for_status()
        data = response.json()
        return {
            "success": data["success"],
            "creditsRemaining": data["creditsRemaining"]
        }
    except requests.RequestException as e:
        raise Exception(f"Request failed: {str(e)}") from e

api_key = os.environ["PREDEV_API_KEY"]
balance = get_credits_balance(api_key)
print(f"Credits remaining: {balance['creditsRemaining']}")
'''

#: What a cache hit cannot do without as the CLI is designed (argv parsing, a JSON cache file
#: named by a SHA-256), imported and nothing else: the floor any refactor of that path can reach.
#: json and argparse both import re (and with it enum, functools, collections).
CACHE_HIT_NEEDS = "import argparse, hashlib, json"
CACHE_HIT_NEEDS_NO_ARGPARSE = "import hashlib, json"
CACHE_HIT_NEEDS_HASH_ONLY = "import hashlib"

CACHE_HIT_TARGET = 2.0
LIVE_VS_HTTPX_TARGET = 1.1


def cases(stage: Stage) -> dict[str, Case]:
    """Every command timed side by side; each checks its output, so none can pass by failing."""
    env, cwd = stage.env(), stage.work
    python, answer = stage.runtime.python, str(450)
    return {
        "pass": command([python, "-c", "pass"], env, cwd),
        "needs": command([python, "-c", CACHE_HIT_NEEDS], env, cwd),
        "needs-no-argparse": command([python, "-c", CACHE_HIT_NEEDS_NO_ARGPARSE], env, cwd),
        "needs-hash-only": command([python, "-c", CACHE_HIT_NEEDS_HASH_ONLY], env, cwd),
        "hit": command([stage.cli, "--cache-ttl", CACHE_TTL], env, cwd, expect="(cached)"),
        "stdlib": command([python, "-c", STDLIB], env, cwd, expect=answer),
        "httpx": command([python, "-c", HTTPX_ONE_LINER], env, cwd, expect=answer),
        "requests": command([stage.requests.python, "-c", VENDOR_SNIPPET], env, cwd, expect=answer),
        "live": command([stage.cli], env, cwd, expect=answer),
    }


class Table:
    """Rows comparing two cases of one interleaved run: medians, their ratio, and the spread.

    Rounds are interleaved, so the i-th sample of every case ran within the same second; the
    median of those per-round ratios is given too, as a check on load that came and went.
    """

    def __init__(self, samples: Mapping[str, Sequence[float]], repeats: int) -> None:
        self.samples = samples
        self.how = f"median of {repeats} interleaved runs"

    def spread(self, case: str) -> str:
        ordered = sorted(self.samples[case])
        quarter = len(ordered) // 4
        return f"{ms(ordered[quarter])} to {ms(ordered[-1 - quarter])}"

    def row(
        self, part: str, measure: str, case: str, base: str, target: float | None, notes: str
    ) -> Row:
        ours, baseline = median(self.samples[case]), median(self.samples[base])
        r = ratio(ours, baseline)
        paired = median(
            [a / b for a, b in zip(self.samples[case], self.samples[base], strict=True) if b > 0]
        )
        return Row(
            part,
            measure,
            ms(ours),
            ms(baseline),
            times(r),
            f"≤ {target:g}x" if target is not None else "— (reference)",
            None if target is None else r <= target,
            f"{notes}; {self.how}, IQR {self.spread(case)}; paired ratio {times(paired)}",
        )


def rows(stage: Stage, repeats: int) -> list[Row]:
    stage.fill_cache()
    samples = interleave(cases(stage), repeats)
    stage.medians.update({name: median(s) for name, s in samples.items()})
    return table(Table(samples, repeats))


def table(t: Table) -> list[Row]:
    venv = "runtime-only venv"
    tls = "over TLS on loopback, throwaway CA via SSL_CERT_FILE"
    return [
        t.row("1", "`python -c pass`", "pass", "pass", None, f"{venv}: the floor of part 1"),
        t.row(
            "1",
            f"`python -c '{CACHE_HIT_NEEDS}'` vs `python -c pass`",
            "needs",
            "pass",
            None,
            "what a cache hit needs as designed today: the floor for a refactor of that path",
        ),
        t.row(
            "1",
            f"`python -c '{CACHE_HIT_NEEDS_NO_ARGPARSE}'` vs `python -c pass`",
            "needs-no-argparse",
            "pass",
            None,
            "the same floor if argv were parsed without argparse on that path",
        ),
        t.row(
            "1",
            f"`python -c '{CACHE_HIT_NEEDS_HASH_ONLY}'` vs `python -c pass`",
            "needs-hash-only",
            "pass",
            None,
            "and if the cache file were not JSON either (json imports re, enum, functools...)",
        ),
        t.row(
            "1",
            "Cache-hit CLI run vs `python -c pass`",
            "hit",
            "pass",
            CACHE_HIT_TARGET,
            f"`predev-credits-check --cache-ttl 3600`, {venv}",
        ),
        t.row(
            "2",
            "Standard library (`http.client` + `ssl`) vs `python -c pass`",
            "stdlib",
            "pass",
            None,
            "the floor for any Python client: CA bundle, handshake, one request",
        ),
        t.row("2", "Bare httpx one-liner vs the standard library", "httpx", "stdlib", None, venv),
        t.row(
            "2",
            "Vendor's requests snippet vs the standard library",
            "requests",
            "stdlib",
            None,
            "venv with requests only",
        ),
        t.row(
            "2",
            "Live CLI check vs the bare httpx one-liner",
            "live",
            "httpx",
            LIVE_VS_HTTPX_TARGET,
            f"{tls}, {venv}",
        ),
        t.row("2", "Live CLI check vs the standard library", "live", "stdlib", None, tls),
        t.row(
            "2", "Live CLI check vs the vendor's requests snippet", "live", "requests", None, tls
        ),
    ]
