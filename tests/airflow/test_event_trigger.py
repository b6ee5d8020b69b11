"""`PreDevCreditsEventTrigger` in an event loop, as the triggerer runs an asset watcher."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from predev_airflow._compat import AirflowException
from predev_airflow.triggers.credits import PreDevCreditsTrigger
from predev_airflow.triggers.credits_event import STATE_KEY_PREFIX, PreDevCreditsEventTrigger
from predev_integrations.sandbox import Sandbox

from .conftest import (
    FAST,
    BrokenStore,
    FakeStore,
    conn_json,
    drive,
    events_until,
    fired,
    run_together,
    seen,
    until,
)

FLOOR = 500


def watcher(store: FakeStore | None = None, **settings: Any) -> PreDevCreditsEventTrigger:
    trigger = PreDevCreditsEventTrigger(**{"min_credits": FLOOR, "poke_interval": FAST, **settings})
    if store is not None:
        trigger.asset_state_store = store  # type: ignore[assignment] # as the triggerer does
    return trigger


def test_serialize_carries_the_connection_id_and_settings_never_the_key(
    predev_conn: str, api_key: str
) -> None:
    trigger = PreDevCreditsEventTrigger(min_credits=500, poke_interval=30, min_increase=100)
    classpath, kwargs = trigger.serialize()
    assert classpath == "predev_airflow.triggers.credits_event.PreDevCreditsEventTrigger"
    assert kwargs == {
        "predev_conn_id": "predev_default",
        "min_credits": 500,
        "poke_interval": 30.0,
        "min_increase": 100,
    }
    assert PreDevCreditsEventTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert api_key not in repr(trigger) + repr(vars(trigger))


def test_an_asset_watcher_accepts_it() -> None:
    from airflow.sdk import Asset, AssetWatcher

    trigger = PreDevCreditsEventTrigger(min_credits=500)
    asset = Asset("predev_credits", watchers=[AssetWatcher(name="credits_back", trigger=trigger)])
    assert asset.watchers[0].trigger is trigger


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"min_credits": "500"}, "min_credits must be a number >= 0"),
        ({"min_credits": -1}, "min_credits must be a number >= 0"),
        ({"min_credits": 500, "min_increase": 0}, "min_increase must be a number above 0"),
        ({"min_credits": 500, "min_increase": -5}, "min_increase must be a number above 0"),
        ({"min_credits": 5, "poke_interval": 0}, "poke_interval must be a number above 0"),
    ],
)
def test_settings_that_cannot_describe_an_edge_fail_when_the_dag_is_parsed(
    settings: dict[str, Any], message: str
) -> None:
    """Beside the hostile numbers of `test_floor_everywhere`: the ones an edge cannot use."""
    with pytest.raises(AirflowException, match=message):
        PreDevCreditsEventTrigger(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"min_credits": 0, "poke_interval": 0.5},
        {"min_credits": 500.5, "poke_interval": 60, "min_increase": 25},
    ],
)
def test_settings_that_can_are_kept(settings: dict[str, Any]) -> None:
    kept = PreDevCreditsEventTrigger(**settings).serialize()[1]
    assert {name: kept[name] for name in settings} == settings


async def test_one_event_per_upward_crossing_none_while_the_level_holds(
    balances: Callable[[Sequence[float]], list[float]],
) -> None:
    sequence = [100, 200, 600, 700, 800, 650, 300, 100, 900, 900, 900]
    served = balances(sequence)
    events = await events_until(watcher(), seen(served, len(sequence) + 3))
    assert fired(events) == [(600, "floor"), (900, "floor")]
    assert events[0] == {
        "balance": 600,
        "previous": 200,
        "floor": FLOOR,
        "fired_by": "floor",
        "predev_conn_id": "predev_default",
    }


async def test_with_min_increase_a_top_up_above_the_floor_fires_too(
    balances: Callable[[Sequence[float]], list[float]],
) -> None:
    sequence = [100, 600, 580, 700, 690, 1200, 1150]
    served = balances(sequence)
    events = await events_until(watcher(min_increase=100), seen(served, len(sequence) + 3))
    assert fired(events) == [(600, "floor"), (700, "top_up"), (1200, "top_up")]


async def test_the_first_reading_is_a_baseline_however_high(
    balances: Callable[[Sequence[float]], list[float]],
) -> None:
    served = balances([900])
    assert await events_until(watcher(), seen(served, 5)) == []


@pytest.mark.parametrize(
    ("before", "after", "with_store", "expected"),
    [
        # Restarted while high: nothing, with a store or without.
        ([100, 900], [900, 900], True, [[900], []]),
        ([100, 900], [900, 900], False, [[900], []]),
        # Topped up while the triggerer was down: the store sees it, a baseline cannot.
        ([100, 200], [900, 900], True, [[], [900]]),
        ([100, 200], [900, 900], False, [[], []]),
    ],
)
async def test_a_restart_neither_repeats_nor_with_a_store_loses_an_event(
    balances: Callable[[Sequence[float]], list[float]],
    before: list[float],
    after: list[float],
    with_store: bool,
    expected: list[list[float]],
) -> None:
    store = FakeStore() if with_store else None
    served = balances(before + after)
    first = await events_until(watcher(store), seen(served, len(before)))
    await asyncio.sleep(2 * FAST)  # a new triggerer process has no shared answer to reuse
    second = await events_until(watcher(store), seen(served, len(before) + len(after) + 2))
    assert [[e["balance"] for e in first], [e["balance"] for e in second]] == expected
    if store is not None:
        assert store.values == {STATE_KEY_PREFIX + "predev_default": {"v": 1, "balance": 900}}


async def test_the_store_is_written_only_when_the_balance_changes(
    balances: Callable[[Sequence[float]], list[float]],
) -> None:
    store = FakeStore()
    served = balances([100, 100, 100, 900, 900, 900, 900])
    await events_until(watcher(store), seen(served, 10))
    assert store.writes == 2


async def test_a_store_that_refuses_is_logged_once_and_the_watch_goes_on(
    balances: Callable[[Sequence[float]], list[float]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    served = balances([100, 600, 100, 600])
    events = await events_until(watcher(BrokenStore()), seen(served, 6))
    assert fired(events) == [(600, "floor"), (600, "floor")]
    assert caplog.text.count("the last observation in the asset state store") == 1


@pytest.mark.parametrize(("status", "error"), [(400, "Missing context"), (401, "Unauthorized")])
async def test_a_rejected_key_is_logged_once_backs_off_and_recovers_when_fixed(
    predev_conn: str,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    api_key: str,
    status: int,
    error: str,
) -> None:
    caplog.set_level(logging.INFO)
    sandbox.configure(balance=100, statuses=[200] + [status] * 1000)
    events: list[dict[str, Any]] = []
    fixed: list[int] = []

    async def fix_and_top_up() -> None:
        await asyncio.sleep(2.0)
        sandbox.configure(statuses=[], balance=900)  # the key is accepted again, and topped up
        fixed.append(sandbox.requests)  # each later request reads 900

    fixer = asyncio.create_task(fix_and_top_up())
    # Until two readings after the fix: the event, then one that repeats nothing.
    done = lambda: bool(fixed) and sandbox.requests >= fixed[0] + 2  # noqa: E731
    await events_until(watcher(poke_interval=0.1), done, events=events)
    await fixer
    assert fired(events) == [(900, "floor")]
    # 2 s at 0.1 s would be about 20 requests; backing off (0.1, 0.2, 0.4, 0.8, ...) makes 5.
    # A busy machine only makes fewer: each delay is a floor on the event loop's clock.
    assert fixed[0] - 1 <= 6
    assert caplog.text.count(f"HTTP {status} ({error}") == 1
    assert caplog.text.count("readable again") == 1
    assert api_key not in caplog.text + json.dumps(events)


async def test_a_missing_connection_is_logged_once_and_picked_up_once_created(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: Sandbox,
    api_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from predev_airflow.hooks.predev import PreDevHook

    caplog.set_level(logging.INFO)
    monkeypatch.delenv("AIRFLOW_CONN_PREDEV_DEFAULT", raising=False)
    sandbox.configure(balance=100)
    lookups: list[str] = []
    read_settings = PreDevHook.aget_settings

    async def counted(self: PreDevHook) -> Any:
        lookups.append(self.predev_conn_id)
        return await read_settings(self)

    monkeypatch.setattr(PreDevHook, "aget_settings", counted)

    async def create_connection_then_top_up() -> None:
        await until(lambda: len(lookups) >= 3)  # looked for it 3 times (logged once)
        monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", conn_json(sandbox.url, api_key))
        await until(lambda: sandbox.requests >= 1)  # the first reading: 100, the baseline
        sandbox.configure(balance=900)

    creator = asyncio.create_task(create_connection_then_top_up())
    events = await events_until(watcher(poke_interval=0.1), lambda: sandbox.requests >= 3)
    await creator
    assert fired(events) == [(900, "floor")]
    assert caplog.text.count("'predev_default' is not defined") == 1


async def test_a_transient_error_is_logged_once_and_the_watch_goes_on(
    predev_conn: str, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # Two failed readings (1 try + 2 retries each), then the balance is back.
    sandbox.configure(balance=100, statuses=[200] + [500] * 6)
    trigger = watcher(poke_interval=0.1)
    events_task = asyncio.create_task(events_until(trigger, lambda: sandbox.requests >= 9))
    await until(lambda: sandbox.requests >= 2)  # read 100, then the first failure
    sandbox.configure(balance=900)  # while the readings fail
    events = await events_task
    assert fired(events) == [(900, "floor")]  # seen at the first reading that worked
    assert (
        caplog.text.count("Could not read the pre.dev balance on 'predev_default' (HTTP 500") == 1
    )


@pytest.mark.parametrize("shared_stream", [False, True], ids=["run", "airflow-shared-stream"])
async def test_watchers_and_deferred_sensors_on_one_connection_share_one_request_per_interval(
    predev_conn: str, sandbox: Sandbox, shared_stream: bool, hooks_read: list[int]
) -> None:
    interval = 0.25
    sandbox.configure(balance=100)
    watchers = [watcher(poke_interval=interval, min_credits=FLOOR + i) for i in range(20)]
    sensors = [PreDevCreditsTrigger(predev_conn, 800, interval) for _ in range(20)]
    # Each sensor and each poll loop (one per watcher, or one shared) has its own hook.
    readers = len(sensors) + (1 if shared_stream else len(watchers))
    topped_up: list[int] = []

    async def top_up() -> None:
        await until(lambda: len(set(hooks_read)) >= readers)  # every watcher's baseline is low
        sandbox.configure(balance=900)
        topped_up.append(sandbox.requests)

    raising = asyncio.create_task(top_up())
    # Every sensor once, every watcher once, then two more readings that add nothing.
    together = await run_together(
        sensors,
        watchers,
        shared_stream,
        lambda events: len(events) >= 40 and sandbox.requests >= topped_up[0] + 3,
    )
    await raising
    assert len(together.events) == 40
    assert sandbox.requests <= together.seconds / interval + 1


async def test_in_airflows_shared_stream_n_watchers_read_the_connection_and_log_once(
    predev_conn: str,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = pytest.importorskip("airflow.triggers.shared_stream")  # Airflow 3.3+
    from predev_airflow.hooks.predev import PreDevHook

    caplog.set_level(logging.INFO)
    reads: list[str] = []
    read_settings = PreDevHook.aget_settings

    async def counted(self: PreDevHook) -> Any:
        reads.append(self.predev_conn_id)
        return await read_settings(self)

    monkeypatch.setattr(PreDevHook, "aget_settings", counted)
    sandbox.configure(statuses=[401])
    watchers = [watcher(poke_interval=0.2, min_credits=FLOOR + n) for n in range(50)]
    manager = shared.SharedStreamManager()
    tasks = [
        asyncio.create_task(
            drive(w.filter_shared_stream(manager.subscribe(trigger_id=n, trigger=w, key=key)), [])
        )
        for n, w in enumerate(watchers)
        if (key := w.shared_stream_key()) is not None
    ]
    # The 401, one back-off, a good reading, and one more that needs no new lookup.
    await until(lambda: "readable again" in caplog.text and sandbox.requests >= 3)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await manager.stop_all()
    assert len(tasks) == 50
    assert len(reads) == 2  # once at the start, once again after the rejected key
    assert caplog.text.count("HTTP 401") == 1
    assert caplog.text.count("readable again") == 1
