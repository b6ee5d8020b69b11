"""`PreDevCreditsLowTrigger` in an event loop, as the triggerer runs an asset watcher."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from predev_airflow import _compat
from predev_airflow._compat import AirflowException
from predev_airflow.triggers import _watch
from predev_airflow.triggers.credits import PreDevCreditsTrigger
from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger
from predev_airflow.triggers.credits_low import STATE_KEY_PREFIX, PreDevCreditsLowTrigger
from predev_integrations._core import watch_history as hist
from predev_integrations._core.defaults import ENTERPRISE_TOP_UP_URL, TOP_UP_URL
from predev_integrations.sandbox import Sandbox

from .conftest import (
    FAST,
    BrokenStore,
    FakeStore,
    events_until,
    fired,
    run_together,
    seen,
    until,
)

THRESHOLD = 200
T0 = 1_767_225_600.0
KEY = f"{STATE_KEY_PREFIX}predev_default:200/220.0/None"


def low(store: FakeStore | None = None, **settings: Any) -> PreDevCreditsLowTrigger:
    trigger = PreDevCreditsLowTrigger(**{"threshold": THRESHOLD, "poke_interval": FAST, **settings})
    if store is not None:
        trigger.asset_state_store = store  # type: ignore[assignment] # as the triggerer does
    return trigger


async def filtered(
    trigger: PreDevCreditsLowTrigger, readings: Sequence[tuple[float, float]]
) -> list[dict[str, Any]]:
    """The trigger's events for these `(Unix time, balance)` readings, as the shared stream
    would hand them over (with the default top-up link)."""
    return [event.payload async for event in trigger.filter_shared_stream(readings_then(*readings))]


async def readings_then(
    *readings: tuple[float, float], topup_url: str = TOP_UP_URL
) -> AsyncIterator[tuple[float, float, str]]:
    for at, balance in readings:
        yield at, balance, topup_url


def test_serialize_carries_the_connection_id_and_settings_never_the_key(
    predev_conn: str, api_key: str
) -> None:
    trigger = PreDevCreditsLowTrigger(threshold=200, poke_interval=300, min_runway=86_400)
    classpath, kwargs = trigger.serialize()
    assert classpath == "predev_airflow.triggers.credits_low.PreDevCreditsLowTrigger"
    assert kwargs == {
        "predev_conn_id": "predev_default",
        "threshold": 200,
        "poke_interval": 300.0,
        "rearm_above": None,
        "min_runway": 86_400,
    }
    assert PreDevCreditsLowTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert api_key not in repr(trigger) + repr(vars(trigger))


def test_an_asset_watcher_accepts_it() -> None:
    from airflow.sdk import Asset, AssetWatcher

    trigger = PreDevCreditsLowTrigger(threshold=200)
    asset = Asset("predev_low", watchers=[AssetWatcher(name="credits_low", trigger=trigger)])
    assert asset.watchers[0].trigger is trigger


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"threshold": "200"}, "threshold must be a number >= 0"),
        ({"threshold": 200, "rearm_above": 100}, "rearm_above must be at or above the threshold"),
        ({"threshold": 200, "poke_interval": 0}, "poke_interval must be a number above 0"),
        ({"threshold": 200, "min_runway": -1}, "min_runway must be a number above 0"),
    ],
)
def test_settings_that_cannot_describe_an_alert_fail_when_the_dag_is_parsed(
    settings: dict[str, Any], message: str
) -> None:
    """Beside the hostile numbers of `test_floor_everywhere`: the ones an alert cannot use."""
    with pytest.raises(AirflowException, match=message):
        PreDevCreditsLowTrigger(**settings)


async def test_one_alert_per_fall_none_while_low_or_hovering_one_more_after_a_recovery(
    balances: Callable[[Sequence[float]], list[float]], api_key: str
) -> None:
    sequence = [
        *[500, 450, 300],  # armed (at or above 220)
        *[150, 150, 120],  # low: one alert, then quiet
        *[199, 205, 210, 190, 215, 180],  # hovering around 200, inside the band: quiet
        *[400, 100, 100],  # recovered, then a second drop: one more
    ]
    served = balances(sequence)
    events = await events_until(low(), seen(served, len(sequence) + 3))
    assert fired(events) == [(150, "threshold"), (100, "threshold")]
    first = events[0]
    assert first["threshold"] == THRESHOLD
    assert first["rearm_above"] == 220
    assert first["predev_conn_id"] == "predev_default"
    assert first["topup_url"] == TOP_UP_URL  # the connection has no topup_url extra
    assert first["runway_status"] == "unknown"  # a few seconds of readings tell no rate
    assert api_key not in json.dumps(events)


async def test_started_while_low_with_no_stored_state_it_alerts_exactly_once(
    balances: Callable[[Sequence[float]], list[float]],
) -> None:
    """First sight is armed: a deployment started while low hears it once, then quiet."""
    served = balances([50, 40, 30, 60, 210, 20])  # 210 is inside the band: not re-armed
    assert fired(await events_until(low(), seen(served, 8))) == [(50, "threshold")]


@pytest.mark.parametrize(
    ("before", "after", "with_store", "expected"),
    [
        # Restarted while low: no second alert with a store; without one, one repeated.
        ([500, 100], [100, 90], True, [[100], []]),
        ([500, 100], [100, 90], False, [[100], [100]]),
        # Fell while the triggerer was down: reported either way (first sight is armed).
        ([500, 400], [100, 100], True, [[], [100]]),
        ([500, 400], [100, 100], False, [[], [100]]),
        # Restarted inside the band after an alert: quiet with a store; without, one more.
        ([500, 100], [210, 150], True, [[100], []]),
        ([500, 100], [210, 150], False, [[100], [150]]),
        # Restarted while healthy: nothing to repeat.
        ([500, 100, 300], [300, 250], False, [[100], []]),
    ],
)
async def test_a_restart_never_loses_an_alert_and_repeats_one_only_without_a_store(
    balances: Callable[[Sequence[float]], list[float]],
    before: list[float],
    after: list[float],
    with_store: bool,
    expected: list[list[float]],
) -> None:
    store = FakeStore() if with_store else None
    served = balances(before + after)
    first = await events_until(low(store), seen(served, len(before)))
    await asyncio.sleep(2 * FAST)  # a new triggerer process has no shared answer to reuse
    second = await events_until(low(store), seen(served, len(before) + len(after) + 2))
    assert [[e["balance"] for e in first], [e["balance"] for e in second]] == expected
    if store is not None:
        assert set(store.values) == {KEY}


async def test_the_alert_is_handed_over_before_the_state_is_written() -> None:
    store = FakeStore()
    events = low(store).filter_shared_stream(readings_then((T0, 500), (T0 + 60, 100)))
    event = await anext(events)
    assert event.payload["balance"] == 100
    assert store.values[KEY]["armed"] is True  # not yet: the triggerer has not queued it
    with pytest.raises(StopAsyncIteration):
        await anext(events)  # the triggerer asks for the next event: this one is queued
    assert store.values[KEY]["armed"] is False


async def test_a_crash_between_handing_over_and_writing_repeats_the_alert_never_loses_it() -> None:
    store = FakeStore()
    events = low(store).filter_shared_stream(readings_then((T0, 500), (T0 + 60, 100)))
    assert (await anext(events)).payload["balance"] == 100
    assert isinstance(events, AsyncGenerator)
    await events.aclose()  # the triggerer dies before asking for the next event
    again = await filtered(low(store), [(T0 + 120, 100), (T0 + 180, 90)])
    assert fired(again) == [(100, "threshold")]  # repeated once, then recorded
    assert store.values[KEY]["armed"] is False


async def test_the_event_carries_the_connections_top_up_link(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: Sandbox,
    api_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    conn = {
        "conn_type": "predev",
        "host": sandbox.url,
        "password": api_key,
        "extra": {"topup_url": ENTERPRISE_TOP_UP_URL},
    }
    monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", json.dumps(conn))
    sandbox.configure(balance=100)
    events = await events_until(low(), lambda: sandbox.requests >= 3)
    assert [e["topup_url"] for e in events] == [ENTERPRISE_TOP_UP_URL]
    assert f"top up at {ENTERPRISE_TOP_UP_URL}." in caplog.text


async def test_the_store_is_written_only_when_the_state_changes() -> None:
    store = FakeStore()
    # One reading a minute for 50 minutes, then the fall at minute 51.
    readings = [(T0 + 60 * n, 1_000 - n) for n in range(50)] + [(T0 + 3_060, 150)]
    events = await filtered(low(store, poke_interval=60), readings)
    assert fired(events) == [(150, "threshold")]
    # The first reading (kept, armed), one kept every 5 minutes (5 ... 45), the alert.
    assert store.writes == 1 + 9 + 1
    assert len(store.values[KEY]["history"]) == 11


async def test_the_runway_rule_alerts_once_with_the_runway_in_the_event() -> None:
    # 40 credits every 10 minutes: 5760 a day. From 5000 the runway is ~21 hours, known (and
    # above 1.5 x 12 hours: armed) after an hour; the floor first has a 1-in-5 chance of
    # coming within 12 hours (the gate rule) at 3080 credits, ~13 hours at the pace.
    readings = [(T0 + 600 * n, 5_000 - 40 * n) for n in range(60)]
    trigger = low(poke_interval=600, min_runway=43_200, rearm_above=250)
    events = await filtered(trigger, readings)
    assert fired(events) == [(events[0]["balance"], "runway")]
    [event] = events
    assert event["runway_status"] == "known"
    assert event["balance"] == 3_080
    assert event["runway_seconds"] == pytest.approx(3_080 / 240 * 3_600, rel=0.03)
    assert event["burn_per_hour"] == pytest.approx(240)
    assert event["runs_out_at"].endswith("Z")
    assert event["min_runway"] == 43_200


async def test_a_store_that_refuses_is_logged_once_and_the_watch_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    readings = [(T0 + n, b) for n, b in enumerate([500, 100, 500, 100])]
    events = await filtered(low(BrokenStore()), readings)
    assert fired(events) == [(100, "threshold"), (100, "threshold")]
    assert caplog.text.count("the low-credit alert's state in the asset state store") == 1


@pytest.mark.parametrize(
    "stored", [None, "junk", {"v": 1, "armed": "yes"}, {"v": 1, "history": [[1, 2]] * 500}]
)
async def test_a_stored_value_we_did_not_write_is_a_fresh_start(stored: Any) -> None:
    store = FakeStore()
    if stored is not None:
        store.values[KEY] = stored
    events = await filtered(low(store), [(T0, 100), (T0 + 60, 90)])
    assert fired(events) == [(100, "threshold")]  # first sight: armed, alerts once


async def test_a_transient_error_is_logged_once_and_the_watch_goes_on(
    predev_conn: str, sandbox: Sandbox, caplog: pytest.LogCaptureFixture, api_key: str
) -> None:
    caplog.set_level(logging.INFO)
    sandbox.configure(balance=500, statuses=[200] + [500] * 6)
    trigger = low(poke_interval=0.1)
    events_task = asyncio.create_task(events_until(trigger, lambda: sandbox.requests >= 9))
    await until(lambda: sandbox.requests >= 2)  # read 500, then the first failure
    sandbox.configure(balance=100)  # while the readings fail
    events = await events_task
    assert fired(events) == [(100, "threshold")]
    assert caplog.text.count("(HTTP 500") == 1
    assert api_key not in caplog.text


async def test_the_poll_loop_sends_the_balance_burn_rate_and_runway_gauges(
    predev_conn: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, float]] = []

    class Recorder:
        @staticmethod
        def gauge(stat: str, value: float, *, tags: dict[str, Any]) -> None:
            assert tags == {"conn_id": "predev_default"}
            sent.append((stat, value))

    monkeypatch.setattr(_compat, "_Stats", Recorder)
    ticks = iter(T0 + 600 * n for n in range(1_000))
    balance = iter(range(10_000, 0, -10))
    sandbox.configure(balance=next(balance))

    async def loop() -> None:
        async for _ in _watch.readings("predev_default", 0.01, clock=lambda: next(ticks)):
            sandbox.configure(balance=next(balance))  # 10 credits per (pretend) 10 minutes

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    while sum(1 for stat, _ in sent if stat == "predev.credits.remaining") < 10:
        await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    stats = [stat for stat, _ in sent]
    assert stats[:2] == ["predev.credits_remaining", "predev.credits.remaining"]
    # Known from the 7th reading on (an hour of readings at 10-minute steps).
    assert stats.count("predev.credits.runway_hours") == stats.count("predev.credits.remaining") - 6
    burn = [value for stat, value in sent if stat == "predev.credits.burn_per_hour"]
    hours = [value for stat, value in sent if stat == "predev.credits.runway_hours"]
    early = [value for stat, value in sent if stat == "predev.credits.runway_hours_p10"]
    late = [value for stat, value in sent if stat == "predev.credits.runway_hours_p90"]
    assert burn[0] == pytest.approx(60)
    # the median: at or a little after the pace's 9 940 / 60 hours (spending comes in specs)
    assert 9_940 / 60 <= hours[0] <= 1.01 * 9_940 / 60
    # the band comes with every runway, its ends around it
    assert len(early) == len(late) == len(hours)
    assert all(e < h < x for e, h, x in zip(early, hours, late, strict=True))


@pytest.mark.parametrize("shared_stream", [False, True], ids=["run", "airflow-shared-stream"])
async def test_both_watcher_kinds_and_deferred_sensors_share_one_request_per_interval(
    predev_conn: str, sandbox: Sandbox, shared_stream: bool
) -> None:
    interval = 0.25
    sandbox.configure(balance=900)
    lows = [low(poke_interval=interval, threshold=THRESHOLD + n) for n in range(20)]
    ups = [
        PreDevCreditsEventTrigger(min_credits=10**9 + n, poke_interval=interval) for n in range(20)
    ]
    sensors = [PreDevCreditsTrigger(predev_conn, 10**9, interval) for _ in range(20)]
    fell: list[int] = []

    async def fall() -> None:
        await until(lambda: sandbox.requests >= 2)  # healthy, then low
        sandbox.configure(balance=100)
        fell.append(sandbox.requests)

    falling = asyncio.create_task(fall())
    # Every low watcher once, then two more readings that add nothing.
    together = await run_together(
        sensors,
        [*lows, *ups],
        shared_stream,
        lambda events: len(events) >= 20 and sandbox.requests >= fell[0] + 3,
    )
    await falling
    if shared_stream:
        assert together.groups == 1  # one poll loop for both kinds of watcher
    assert len(together.events) == 20  # every low watcher once; the others never
    assert sandbox.requests <= together.seconds / interval + 1


async def test_run_keeps_watching(predev_conn: str, sandbox: Sandbox) -> None:
    """A watch never ends by itself: no event, no error, until cancelled (`events_until`
    fails if the watch ends before it has read the balance 5 times)."""
    sandbox.configure(balance=500)
    assert await events_until(low(poke_interval=0.05), lambda: sandbox.requests >= 5) == []


def test_the_history_bound_keeps_a_stored_state_small() -> None:
    """What a watcher stores stays far below Airflow's 64 KB per-value policy, at the most
    readings it keeps (617 over 4 weeks), each balance 17 digits long."""
    from predev_integrations._core.watch import LowState

    history = tuple((T0 + 300.0 * n, 123_456.789 - n / 3) for n in range(hist.LIMIT))
    size = len(json.dumps(LowState(True, True, history).to_json()))
    assert size < 24_000


@pytest.mark.parametrize(
    ("given", "kept"), [(0.05, 0.05), ("1-in-20", 0.05), ("5%", 0.05), (1 / 3, 1 / 3)]
)
def test_runway_risk_round_trips_through_serialize_as_a_chance(given: Any, kept: float) -> None:
    trigger = PreDevCreditsLowTrigger(threshold=200, min_runway=86_400, runway_risk=given)
    classpath, kwargs = trigger.serialize()
    assert kwargs["runway_risk"] == pytest.approx(kept)
    again = PreDevCreditsLowTrigger(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert again.low_settings == trigger.low_settings


def test_without_runway_risk_the_kwargs_and_the_state_key_are_as_before() -> None:
    """A watcher deployed before the risk could be set is the same trigger, with the same
    stored state, after the upgrade."""
    _, kwargs = PreDevCreditsLowTrigger(threshold=200, min_runway=86_400).serialize()
    assert "runway_risk" not in kwargs
    assert low().low_settings.state_key() == KEY.removeprefix(f"{STATE_KEY_PREFIX}predev_default:")
    assert low(runway_risk=0.2).low_settings.state_key() == low().low_settings.state_key()
    stricter = low(min_runway=86_400, runway_risk="1-in-20").low_settings.state_key()
    assert stricter == "200/220.0/86400/0.05"


@pytest.mark.parametrize(
    "risk", [0, 0.5, 0.9, "1-in-0", "abc", "nan", float("nan"), True, [0.1], "1" * 10_000]
)
def test_a_runway_risk_that_is_no_chance_fails_when_the_dag_is_parsed(risk: Any) -> None:
    with pytest.raises(AirflowException, match=r"^runway_risk must be a chance") as refused:
        PreDevCreditsLowTrigger(threshold=200, min_runway=86_400, runway_risk=risk)
    assert "\n" not in str(refused.value)
    assert len(str(refused.value)) < 300


@pytest.mark.parametrize(("risk", "fires_above"), [(None, 3_060), ("1-in-20", 3_120)])
async def test_a_smaller_runway_risk_alerts_earlier_and_says_so_in_the_event(
    risk: str | None, fires_above: float
) -> None:
    """The runway test's burn: at 1-in-5 the rule fires at 3080 credits; at 1-in-20 sooner,
    with more credits left, and the event names the risk."""
    readings = [(T0 + 600 * n, 5_000 - 40 * n) for n in range(60)]
    chosen: dict[str, Any] = {} if risk is None else {"runway_risk": risk}
    trigger = low(poke_interval=600, min_runway=43_200, rearm_above=250, **chosen)
    [event] = await filtered(trigger, readings)
    assert event["fired_by"] == "runway"
    assert event["balance"] > fires_above
    if risk is None:
        assert "runway_risk" not in event
    else:
        assert event["runway_risk"] == pytest.approx(0.05)
