"""The low-credit alert's edges: once per fall below the threshold (or the runway below its
minimum), quiet while low or hovering, the same across a restart that keeps its state, and
at most one more (never one fewer) across a restart that lost it: a start with no stored state
is armed, so a balance already low alerts once."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core import watch_history as hist
from predev_integrations._core.forecast import Forecast
from predev_integrations._core.watch import (
    LowAlert,
    LowRule,
    LowSettings,
    LowState,
    default_rearm_above,
    low_edges,
    low_settings,
    observe_low,
)
from predev_integrations.errors import ConfigError

THRESHOLD = 200.0
REARM = default_rearm_above(THRESHOLD)  # 220
T0 = 1_767_225_600.0  # 2026-01-01
STEP = 600.0  # 10 minutes between readings: a runway is known after 7 of them

balances = st.integers(0, 400) | st.floats(0, 400, allow_nan=False)
#: A reading is a balance, or None for a reading that failed (an outage, a rejected key).
readings = st.lists(balances | st.none(), max_size=60)
bands = st.none() | st.floats(0, 100)  # rearm_above - threshold; None: the default


def settings(
    band: float | None = None, min_runway: float | None = None, interval: float = STEP
) -> LowSettings:
    rearm = None if band is None else THRESHOLD + band
    return low_settings(THRESHOLD, interval, rearm, min_runway)


def run(
    seq: Sequence[float | None],
    config: LowSettings,
    start: LowState | None = None,
    t0: float = T0,
) -> tuple[list[LowAlert], LowState | None]:
    """Feed readings STEP apart as the trigger does: a failed reading leaves the state alone."""
    alerts: list[LowAlert] = []
    state = start
    for n, balance in enumerate(seq):
        if balance is None:
            continue
        alert, state = observe_low(state, t0 + n * STEP, balance, config)
        if alert is not None:
            alerts.append(alert)
    return alerts, state


def crossings(seq: Sequence[float | None], threshold: float, rearm: float) -> int:
    """The first reading below the threshold, and every later one with a reading at or above
    `rearm` since the reading below the threshold before it (the start counts as healthy)."""
    seen = [b for b in seq if b is not None]
    count, last_low = 0, None
    for i, balance in enumerate(seen):
        if balance < threshold:
            if last_low is None or max(seen[last_low + 1 : i], default=-math.inf) >= rearm:
                count += 1
            last_low = i
    return count


def payloads(alerts: list[LowAlert]) -> list[dict[str, Any]]:
    return [alert.payload() for alert in alerts]


def identity(alert: LowAlert) -> tuple[float, float, LowRule]:
    return alert.at, alert.balance, alert.fired_by


def stored(state: LowState | None) -> LowState | None:
    """The state as the asset state store gives it back: through JSON."""
    return LowState.from_json(json.loads(json.dumps(state.to_json()))) if state else None


@given(readings, bands)
def test_one_alert_per_fall_below_the_threshold_after_a_recovery(
    seq: list[float | None], band: float | None
) -> None:
    config = settings(band)
    alerts, _ = run(seq, config)
    assert len(alerts) == crossings(seq, THRESHOLD, config.rearm_above)
    assert all(a.fired_by is LowRule.THRESHOLD and a.balance < THRESHOLD for a in alerts)


@given(readings)
def test_without_hysteresis_alerts_are_exactly_the_downward_crossings(
    seq: list[float | None],
) -> None:
    """... counting from a healthy level before the first reading (first sight is armed)."""
    seen = [THRESHOLD, *(b for b in seq if b is not None)]
    expected = sum(1 for before, after in pairwise(seen) if before >= THRESHOLD > after)
    assert len(run(seq, settings(band=0))[0]) == expected


@given(readings, st.lists(st.floats(0, THRESHOLD - 0.01), min_size=1, max_size=40), bands)
def test_staying_low_alerts_at_most_once(
    before: list[float | None], low: list[float], band: float | None
) -> None:
    config = settings(band)
    _, state = run(before, config)
    alerts, _ = run(low, config, start=state)
    assert len(alerts) <= 1
    assert len(alerts) == (1 if state is None or state.armed else 0)


@given(readings, st.lists(st.floats(0, 219.99), max_size=40))
def test_hovering_inside_the_band_after_an_alert_stays_quiet(
    before: list[float | None], hovering: list[float]
) -> None:
    config = settings()  # rearm at 220
    _, state = run([*before, 300, 150], config)  # ... ends with an alert
    assert state is not None
    assert not state.armed
    assert run(hovering, config, start=state)[0] == []


@given(readings, readings, bands)
def test_a_restart_with_the_stored_state_is_no_restart(
    before: list[float | None], after: list[float | None], band: float | None
) -> None:
    config = settings(band)
    whole, _ = run(before + after, config)
    first, kept = run(before, config)
    second, _ = run(after, config, start=stored(kept), t0=T0 + len(before) * STEP)
    assert payloads(first + second) == payloads(whole)


@given(readings, readings, bands)
def test_a_restart_without_a_store_may_add_one_alert_and_never_loses_one(
    before: list[float | None], after: list[float | None], band: float | None
) -> None:
    config = settings(band)
    whole, _ = run(before + after, config)
    first, _ = run(before, config)
    second, _ = run(after, config, t0=T0 + len(before) * STEP)  # no state
    assert len(whole) <= len(first) + len(second) <= len(whole) + 1
    # The same alerts (when, what, which rule), plus at most the restart's first one.
    later = [identity(alert) for alert in whole[len(first) :]]
    again = [identity(alert) for alert in second]
    assert all(alert in again for alert in later)
    assert all(alert in later for alert in again[1:])


def test_a_start_with_no_stored_state_alerts_once_on_a_balance_already_low() -> None:
    alerts, state = run([50, 40, 30, 210, 20], settings())
    assert [a.balance for a in alerts] == [50]  # 210 is inside the band: not re-armed
    assert state is not None
    assert not state.armed  # recorded: the stored state does not alert again
    assert run([30, 20], settings(), start=stored(state))[0] == []
    assert [a.balance for a in run([250, 50], settings())[0]] == [50]


@pytest.mark.parametrize(
    ("seq", "alerts"),
    [
        ([300, 199], [199]),
        ([300, 200, 199], [199]),  # the threshold itself is not low
        ([300, 150, 210, 150], [150]),  # 210 is inside the band: not re-armed
        ([300, 150, 220, 150], [150, 150]),  # 220 is rearm_above: re-armed
        ([210, 150], [150]),  # started inside the band: armed at first sight
        ([150, 300, 100, 50, 100, 300, 10], [150, 100, 10]),  # started low: alerts once
    ],
)
def test_examples(seq: list[float], alerts: list[float]) -> None:
    assert [a.balance for a in run(seq, settings())[0]] == alerts


# --- the runway rule ------------------------------------------------------------------------

DAY = 86_400.0
#: Phases of steady spending: (credits per reading, readings, a top-up before the phase?,
#: readings that fail in it); a fit needs steady phases, as real spending mostly is.
Phase = tuple[float, int, bool, int]
spending = st.lists(
    st.tuples(
        st.floats(0, 10) | st.floats(10, 150), st.integers(1, 15), st.booleans(), st.integers(0, 3)
    ),
    min_size=1,
    max_size=6,
)
runways = st.sampled_from([2 * 3_600.0, 6 * 3_600.0, 12 * 3_600.0, DAY])


def declining(phases: list[Phase], start: float = 3_000) -> list[float | None]:
    balances: list[float | None] = []
    balance = start
    for burn, length, top_up, failing in phases:
        balance += 2_000 if top_up else 0
        for n in range(length):
            balance = max(0.0, balance - burn)
            balances.append(None if n < failing else balance)
    return balances


def test_the_runway_rule_fires_once_when_the_runway_falls_below_the_minimum() -> None:
    # 10 credits per 10 minutes = 1440/day: from 3000 the runway is ~2 days. The rule fires
    # once, when the floor has a 1-in-5 chance of coming within 1.5 days (the gate rule).
    seq = [3_000 - 10 * n for n in range(100)]
    alerts, state = run(seq, settings(min_runway=1.5 * DAY), start=LowState(runway_armed=True))
    assert [a.fired_by for a in alerts] == [LowRule.RUNWAY]
    [alert] = alerts
    payload = alert.payload()
    assert payload["runway_status"] == "known"
    assert payload["runway_seconds"] < 2.5 * DAY  # the median; the band's early end is nearer
    assert payload["burn_per_hour"] == pytest.approx(60)
    assert payload["runs_out_at"].endswith("Z")
    assert state is not None
    assert not state.runway_armed


def test_the_runway_rule_is_armed_at_first_sight_and_again_only_once_seen_healthy() -> None:
    # Started with ~10 hours left at 300 credits per 10 minutes: one alert once the runway is
    # known (an hour of readings), then quiet while it stays short.
    fast = [20_000 - 300 * n for n in range(40)]
    alerts, state = run(fast, settings(min_runway=1.5 * DAY, band=0))
    assert [(a.fired_by, a.at) for a in alerts] == [(LowRule.RUNWAY, T0 + 6 * STEP)]
    assert state is not None
    # Slower spending, a runway back over 1.5 x 1.5 days, re-arms it; fast again fires again.
    slow = [8_000 - 10 * n for n in range(1, 60)] + [7_410 - 300 * n for n in range(1, 25)]
    again, _ = run(slow, settings(min_runway=1.5 * DAY, band=0), start=LowState(True, False))
    assert [a.fired_by for a in again] == [LowRule.RUNWAY]


def test_when_both_rules_fire_at_one_reading_one_alert_says_threshold() -> None:
    seq = [3_000 - 10 * n for n in range(6)] + [150]  # the runway is known from the 7th on
    state = LowState(armed=True, runway_armed=True)
    alerts, after = run(seq, settings(min_runway=30 * DAY), start=state)
    assert [a.fired_by for a in alerts] == [LowRule.THRESHOLD]
    assert after == LowState(False, False, after.history if after else ())


@given(spending, spending, runways)
def test_with_the_runway_rule_a_restart_with_the_stored_state_is_no_restart(
    before: list[Phase], after: list[Phase], minimum: float
) -> None:
    config = settings(min_runway=minimum)
    seq_before, seq_after = declining(before), declining(after, start=2_000)
    whole, _ = run(seq_before + seq_after, config)
    first, kept = run(seq_before, config)
    second, _ = run(seq_after, config, start=stored(kept), t0=T0 + len(seq_before) * STEP)
    assert payloads(first + second) == payloads(whole)


@given(spending, spending, runways)
def test_after_a_restart_without_a_store_each_rule_fires_at_most_once_until_seen_healthy(
    before: list[Phase], after: list[Phase], minimum: float
) -> None:
    """A restart is first sight: each rule may fire once (an alert the lost state may have
    sent already); every later alert follows a healthy reading, as without a restart."""
    config = settings(min_runway=minimum)
    seq = declining(before + after)[len(declining(before)) :]
    state: LowState | None = None
    healthy = {LowRule.THRESHOLD: True, LowRule.RUNWAY: True}
    for n, balance in enumerate(seq):
        if balance is None:
            continue
        at = T0 + n * STEP
        runway = hist.runway(state.history if state else (), at, balance)
        alert, state = observe_low(state, at, balance, config)
        if alert is not None:
            assert healthy[alert.fired_by]
            healthy[alert.fired_by] = False
        healthy[LowRule.THRESHOLD] |= balance >= config.rearm_above
        healthy[LowRule.RUNWAY] |= runway.status == "not_spending" or (
            runway.status == "known" and (runway.seconds_to_floor or 0) >= 1.5 * minimum
        )


# --- recovered: the reading where every rule is armed again ---------------------------------


def recoveries(seq: Sequence[float], config: LowSettings) -> list[int]:
    """The readings (indexes) `low_edges` calls recovered, threshold rule only, from no state."""
    armed: bool | None = None
    found = []
    for n, balance in enumerate(seq):
        edges = low_edges(armed, None if armed is None else True, balance, None, config)
        armed = edges.armed
        if edges.recovered:
            found.append(n)
    return found


@given(st.lists(balances, max_size=60), bands)
def test_recovered_is_the_first_reading_at_the_rearm_level_after_each_alert(
    seq: list[float], band: float | None
) -> None:
    config = settings(band)
    expected, down = [], False
    for n, balance in enumerate(seq):
        if down and balance >= config.rearm_above:
            expected.append(n)
            down = False
        elif not down and balance < THRESHOLD:
            down = True
    assert recoveries(seq, config) == expected
    assert 0 not in recoveries(seq, config)  # never on first sight


@pytest.mark.parametrize("balance", [0, 150, 210, 220, 10_000])
def test_first_sight_is_never_a_recovery(balance: float) -> None:
    edges = low_edges(None, None, balance, None, settings())
    assert not edges.recovered
    assert edges.fired == (LowRule.THRESHOLD if balance < THRESHOLD else None)


@pytest.mark.parametrize(
    ("armed", "runway_armed", "balance", "runway_hours", "recovered"),
    [
        (False, True, 220, 100, True),  # the balance back at rearm_above, the runway fine
        (False, True, 219, 100, False),  # inside the band
        (False, False, 300, 100, True),  # both back at one reading
        (False, False, 300, 20, False),  # the balance back, the runway still short of 1.5 x 1 d
        (True, False, 300, 36, True),  # the runway back at 1.5 x min_runway
        (True, False, 300, None, True),  # not spending is a healthy runway
        (True, True, 300, 100, False),  # nothing had fired
        (True, True, 100, 100, False),  # a fall is no recovery
    ],
)
def test_recovered_only_when_every_configured_rule_is_armed_again(
    armed: bool, runway_armed: bool, balance: float, runway_hours: float | None, recovered: bool
) -> None:
    config = settings(min_runway=DAY)
    if runway_hours is None:
        runway = Forecast("not_spending", burn_per_hour=0.0)
    else:
        runway = Forecast("known", seconds_to_floor=runway_hours * 3_600, burn_per_hour=1.0)
    assert low_edges(armed, runway_armed, balance, runway, config).recovered is recovered


def test_without_the_runway_rule_its_flag_never_holds_a_recovery_back() -> None:
    assert low_edges(False, False, 300, None, settings()).recovered


# --- settings and stored state ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "rearm"),
    [(200, 220.0), (1_000, 1_100.0), (5, 6.0), (0, 1.0), (0.5, 1.5)],
)
def test_the_default_band_is_ten_percent_and_at_least_one_credit(
    threshold: float, rearm: float
) -> None:
    assert low_settings(threshold, 60).rearm_above == rearm


def test_readings_are_kept_at_least_five_minutes_or_an_interval_apart() -> None:
    assert low_settings(200, 60).spacing == hist.SPACING
    assert low_settings(200, 900).spacing == 900


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": math.nan}, "threshold must be a finite number"),
        ({"threshold": "200"}, "threshold must be a number >= 0"),
        ({"threshold": True}, "threshold must be a number >= 0"),
        ({"threshold": -5}, "threshold must be a number >= 0"),
        ({"threshold": 1e16}, "threshold must be a number >= 0 and <= 1000000000000000"),
        ({"interval": 0}, "poke_interval must be a number above 0"),
        ({"rearm_above": 199}, r"rearm_above must be at or above the threshold \(200\)"),
        ({"rearm_above": math.inf}, "rearm_above must be a finite number"),
        ({"min_runway": 0}, "min_runway must be a number above 0"),
        ({"min_runway": "2d"}, "min_runway must be a number above 0"),
        ({"min_runway": 400 * DAY}, "min_runway must be a number above 0 and <= 31536000"),
    ],
)
def test_settings_that_cannot_describe_an_alert_are_refused(
    kwargs: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {"threshold": 200, "interval": 60, **kwargs}
    with pytest.raises(ConfigError, match=message):
        low_settings(**values)


def test_settings_that_can_are_accepted() -> None:
    assert low_settings(200, 60, rearm_above=200).rearm_above == 200  # no hysteresis
    assert low_settings(0.5, 0.1, min_runway=1).min_runway == 1


def test_the_state_key_names_every_setting_an_edge_uses() -> None:
    keys = {
        low_settings(200, 60).state_key(),
        low_settings(200, 60, rearm_above=250).state_key(),
        low_settings(200, 60, min_runway=DAY).state_key(),
        low_settings(300, 60).state_key(),
    }
    assert len(keys) == 4
    assert low_settings(200, 60).state_key() == low_settings(200, 300).state_key()


@pytest.mark.parametrize(
    "value",
    [
        None,
        "x",
        [],
        {},
        {"v": 2, "armed": True, "runway_armed": False, "history": []},
        {"v": 1, "armed": 1, "runway_armed": False, "history": []},
        {"v": 1, "armed": True, "runway_armed": None, "history": []},
        {"v": 1, "armed": True, "runway_armed": False, "history": None},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[1, 2, 3]]},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[2, 5], [1, 5]]},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[1, math.nan]]},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[1, 10**400]]},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[-1, 5]]},
        {"v": 1, "armed": True, "runway_armed": False, "history": [[1, True]]},
        {
            "v": 1,
            "armed": True,
            "runway_armed": False,
            "history": [[n, 5] for n in range(hist.LIMIT + 1)],
        },
    ],
)
def test_a_stored_value_we_did_not_write_is_no_state(value: object) -> None:
    assert LowState.from_json(value) is None


def test_the_payload_is_json_and_holds_what_the_message_needs() -> None:
    [alert], _ = run([300, 150], settings())
    payload = alert.payload()
    assert json.loads(json.dumps(payload)) == payload
    assert payload == {
        "balance": 150,
        "threshold": THRESHOLD,
        "rearm_above": REARM,
        "min_runway": None,
        "fired_by": "threshold",
        "runway_status": "unknown",
        "runway_seconds": None,
        "burn_per_hour": None,
        "runs_out_at": None,
        "runway_reason": "only 2 readings (need 3)",
        "read_at": "2026-01-01T00:10:00Z",
    }
