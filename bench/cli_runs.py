"""Parts 1 and 2: the CLI on a cache hit and live, next to what a user would write by hand."""

from __future__ import annotations

from .env import CACHE_TTL, CLI, PYTHON, Stage
from .harness import command, interleave, median
from .table import Row, ms, ratio, times

#: The shortest honest httpx equivalent of the live check.
HTTPX_ONE_LINER = (
    "import httpx, os; print(httpx.get(os.environ['BENCH_URL'], headers={'Authorization': "
    "'Bearer ' + os.environ['PREDEV_API_KEY']}).json()['creditsRemaining'])"
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

CACHE_HIT_TARGET = 2.5
LIVE_VS_HTTPX_TARGET = 1.05


def cache_hit(stage: Stage, repeats: int) -> list[Row]:
    """Part 1: a cache-hit run against interpreter start-up, same interpreter."""
    stage.fill_cache()
    env = stage.env()
    samples = interleave(
        {
            "floor": command([PYTHON, "-c", "pass"], env, stage.work),
            "hit": command([CLI, "--cache-ttl", CACHE_TTL], env, stage.work, expect="(cached)"),
        },
        repeats,
    )
    hit, floor = median(samples["hit"]), median(samples["floor"])
    r = ratio(hit, floor)
    return [
        Row(
            "1",
            "Cache-hit CLI run vs `python -c pass`",
            ms(hit),
            ms(floor),
            times(r),
            f"≤ {CACHE_HIT_TARGET}x",
            r <= CACHE_HIT_TARGET,
            f"median of {repeats} interleaved runs; `predev-credits-check --cache-ttl 3600`",
        )
    ]


def live(stage: Stage, repeats: int) -> list[Row]:
    """Part 2: one live check through the CLI against three hand-written equivalents."""
    env = stage.env()
    samples = interleave(
        {
            "cli": command([CLI], env, stage.work, expect="450"),
            "httpx": command([PYTHON, "-c", HTTPX_ONE_LINER], env, stage.work, expect="450"),
            "requests": command([PYTHON, "-c", VENDOR_SNIPPET], env, stage.work, expect="450"),
            "curl": command(
                ["curl", "-sS", "--fail", "-H", f"@{stage.header_file}", stage.endpoint],
                env,
                stage.work,
                expect="450",
            ),
        },
        repeats,
    )
    cli = median(samples["cli"])
    rows = []
    for name, measure, target, limit in (
        ("httpx", "bare httpx one-liner", f"≤ {LIVE_VS_HTTPX_TARGET}x", LIVE_VS_HTTPX_TARGET),
        ("requests", "vendor's requests snippet", "≤ 1.00x", 1.0),
        ("curl", "`curl`", "", None),
    ):
        base = median(samples[name])
        r = ratio(cli, base)
        rows.append(
            Row(
                "2",
                f"Live CLI check vs {measure}",
                ms(cli),
                ms(base),
                times(r),
                target or "— (reference)",
                None if limit is None else r <= limit,
                f"median of {repeats} interleaved runs against the sandbox (http://127.0.0.1)",
            )
        )
    return rows
