"""One fan-out measurement in a fresh process: N pollers in one event loop, RSS and requests.

`python -m bench.fanout_child trigger|httpx N INTERVAL INTERVALS OUT.json` writes one JSON
object. Run by `bench.fanout`; the key and URL come from the environment, never argv.
One warm-up poller runs first, so one-time costs (lazy imports, first client) are not
charged to the N measured ones: the RSS figure is what each added poller costs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

Poller = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]

FLOOR_ABOVE_BALANCE = 10**9  # the triggers must keep waiting, never fire


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def sandbox_requests(base_url: str) -> int:
    """The sandbox's own count of /credits-balance requests (control endpoint, no key)."""
    with urllib.request.urlopen(f"{base_url}/_sandbox/state", timeout=10) as answer:
        return int(json.load(answer)["requests"])


def trigger_poller(interval: float) -> Poller:
    from predev_airflow.triggers.credits import PreDevCreditsTrigger

    async def poll(ready: Callable[[], None]) -> None:
        trigger = PreDevCreditsTrigger("predev_default", FLOOR_ABOVE_BALANCE, interval)
        ready()  # its first poll runs as soon as the loop gets to it
        async for event in trigger.run():
            raise RuntimeError(f"the trigger fired: {event}")

    return poll


def httpx_poller(interval: float) -> Poller:
    """A hand-written poller, one AsyncClient each, as Airflow's HttpSensorTrigger does."""
    import httpx

    url = os.environ["PREDEV_BASE_URL"] + "/credits-balance"
    headers = {"Authorization": f"Bearer {os.environ['PREDEV_API_KEY']}"}

    async def poll(ready: Callable[[], None]) -> None:
        async with httpx.AsyncClient() as client:
            first = True
            while True:
                try:
                    response = await client.get(url, headers=headers)
                    if response.json()["creditsRemaining"] >= FLOOR_ABOVE_BALANCE:
                        return
                except httpx.HTTPError:
                    pass  # as a sensor would: try again at the next interval
                if first:
                    ready()
                    first = False
                await asyncio.sleep(interval)

    return poll


async def start(poll: Poller, n: int, limit: float) -> list[asyncio.Task[None]]:
    """Start `n` pollers and return once each has started polling (or `limit` seconds)."""
    started = 0
    all_ready = asyncio.Event()

    def ready() -> None:
        nonlocal started
        started += 1
        if started >= n:
            all_ready.set()

    tasks = [asyncio.create_task(poll(ready)) for _ in range(n)]
    await asyncio.wait_for(all_ready.wait(), limit)
    return tasks


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def measure(mode: str, n: int, interval: float, intervals: int) -> dict[str, Any]:
    base_url = os.environ["PREDEV_BASE_URL"]
    poll = trigger_poller(interval) if mode == "trigger" else httpx_poller(interval)
    polled = await asyncio.to_thread(sandbox_requests, base_url)
    warmup = await start(poll, 1, 60)
    # Until the warm-up's first request has landed: on Airflow 3.0 the first connection read
    # imports and builds a few MB once (secrets backends, the ORM, alembic), which a fixed
    # pause did not cover and which, divided by N, read as ~170 KiB per trigger at N = 200.
    deadline = time.monotonic() + 120
    while await asyncio.to_thread(sandbox_requests, base_url) <= polled:
        if time.monotonic() > deadline:
            raise RuntimeError("the warm-up poller never polled")
        await asyncio.sleep(0.05)
    await asyncio.sleep(interval * 1.5)
    gc.collect()
    rss_before = rss_kib()
    began = time.monotonic()
    tasks = await start(poll, n, 300)
    startup = time.monotonic() - began
    await asyncio.sleep(interval * 1.5)  # every poller is now in its steady rhythm
    first = await asyncio.to_thread(sandbox_requests, base_url)
    window_start = time.monotonic()
    await asyncio.sleep(interval * intervals)
    last = await asyncio.to_thread(sandbox_requests, base_url)
    window = time.monotonic() - window_start
    rss_after = rss_kib()
    crashed = [t for t in tasks + warmup if t.done()]
    await stop(tasks + warmup)
    if crashed:
        error = "cancelled" if crashed[0].cancelled() else crashed[0].exception()
        raise RuntimeError(f"{len(crashed)} of {n} pollers stopped early: {error}")
    return {
        "mode": mode,
        "n": n,
        "requests_per_interval": (last - first) / (window / interval),
        "rss_per_poller_kib": (rss_after - rss_before) / n,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "startup_s": startup,
    }


def main(argv: list[str]) -> int:
    mode, n, interval, intervals = argv[0], int(argv[1]), float(argv[2]), int(argv[3])
    result = asyncio.run(measure(mode, n, interval, intervals))
    Path(argv[4]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
