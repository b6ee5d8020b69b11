"""The edge logic behind the event trigger: events are upward crossings (and top-ups), only."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core.watch import (
    MAX_ERROR_DELAY,
    FiredBy,
    Observation,
    TopUp,
    error_delay,
    observe,
)

FLOOR = 500.0
balances = st.integers(min_value=0, max_value=1000) | st.floats(0, 1000, allow_nan=False)
#: A reading is a balance, or None for a reading that failed (an outage, a rejected key).
readings = st.lists(balances | st.none(), max_size=60)
increases = st.none() | st.floats(min_value=0.5, max_value=400)


def run(
    seq: Sequence[float | None],
    floor: float = FLOOR,
    min_increase: float | None = None,
    start: Observation | None = None,
) -> tuple[list[TopUp], Observation | None]:
    """Feed readings as the trigger does: a failed reading leaves the observation alone."""
    events: list[TopUp] = []
    observation = start
    for balance in seq:
        if balance is None:
            continue
        event, observation = observe(observation, balance, floor, min_increase)
        if event is not None:
            events.append(event)
    return events, observation


def upward_crossings(seq: Sequence[float | None], floor: float = FLOOR) -> int:
    seen = [b for b in seq if b is not None]
    return sum(1 for before, after in pairwise(seen) if before < floor <= after)


def top_ups(seq: Sequence[float | None], min_increase: float, floor: float = FLOOR) -> int:
    seen = [b for b in seq if b is not None]
    return sum(
        1
        for before, after in pairwise(seen)
        if after >= floor and before >= floor and after - before >= min_increase
    )


@given(readings)
def test_events_are_exactly_the_upward_crossings_of_the_floor(seq: list[float | None]) -> None:
    events, _ = run(seq)
    assert len(events) == upward_crossings(seq)
    assert {event.fired_by for event in events} <= {FiredBy.FLOOR}


@given(readings, st.floats(min_value=0.5, max_value=400))
def test_with_min_increase_top_ups_above_the_floor_fire_as_well(
    seq: list[float | None], min_increase: float
) -> None:
    events, _ = run(seq, min_increase=min_increase)
    fired = [event.fired_by for event in events]
    assert fired.count(FiredBy.FLOOR) == upward_crossings(seq)
    assert fired.count(FiredBy.TOP_UP) == top_ups(seq, min_increase)


@given(readings, increases)
def test_every_event_is_at_or_above_the_floor_and_says_why(
    seq: list[float | None], min_increase: float | None
) -> None:
    for event in run(seq, min_increase=min_increase)[0]:
        assert event.balance >= FLOOR > event.previous or (
            min_increase is not None and event.balance - event.previous >= min_increase
        )
        assert json.loads(json.dumps(event.payload())) == {
            "balance": event.balance,
            "previous": event.previous,
            "floor": FLOOR,
            "fired_by": event.fired_by.value,
        }


@given(st.lists(st.floats(FLOOR, 1e6), max_size=40), st.lists(st.floats(0, FLOOR - 1), max_size=40))
def test_a_balance_that_stays_on_one_side_never_fires(high: list[float], low: list[float]) -> None:
    assert run([FLOOR, *high])[0] == []
    assert run(low)[0] == []


@given(readings, increases)
def test_failed_readings_change_nothing(
    seq: list[float | None], min_increase: float | None
) -> None:
    assert run(seq, min_increase=min_increase) == run(
        [b for b in seq if b is not None], min_increase=min_increase
    )


@given(readings, readings, increases)
def test_a_restart_with_the_stored_observation_neither_repeats_nor_loses_an_event(
    before: list[float | None], after: list[float | None], min_increase: float | None
) -> None:
    whole, _ = run(before + after, min_increase=min_increase)
    first, kept = run(before, min_increase=min_increase)
    stored = json.loads(json.dumps(kept.to_json())) if kept else None  # as a JSON store keeps it
    second, _ = run(after, min_increase=min_increase, start=Observation.from_json(stored))
    assert first + second == whole


@given(readings, readings, increases)
def test_a_restart_without_a_store_takes_a_baseline_and_never_fires_for_it(
    before: list[float | None], after: list[float | None], min_increase: float | None
) -> None:
    whole, _ = run(before + after, min_increase=min_increase)
    first, _ = run(before, min_increase=min_increase)
    second, _ = run(after, min_increase=min_increase)  # no previous observation
    # At most the one event the first reading after the restart would have made is lost.
    assert len(whole) - 1 <= len(first) + len(second) <= len(whole)
    assert set(second) <= set(whole[len(first) :])


def test_the_first_reading_is_the_baseline() -> None:
    assert observe(None, 900, FLOOR) == (None, Observation(900))


@pytest.mark.parametrize(
    ("previous", "balance", "min_increase", "fired"),
    [
        (499, 500, None, FiredBy.FLOOR),  # the floor itself counts as enough
        (100, 900, 50, FiredBy.FLOOR),  # a crossing is a crossing, whatever the increase
        (600, 700, 100, FiredBy.TOP_UP),
        (600, 699, 100, None),
        (100, 400, 100, None),  # a top-up that leaves it below the floor starts nothing
        (600, 700, None, None),
        (500, 499, None, None),
    ],
)
def test_single_steps(
    previous: float, balance: float, min_increase: float | None, fired: FiredBy | None
) -> None:
    event, kept = observe(Observation(previous), balance, FLOOR, min_increase)
    assert kept == Observation(balance)
    assert (event.fired_by if event else None) == fired


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "500",
        [500],
        {},
        {"balance": 500},  # no version
        {"v": 2, "balance": 500},
        {"v": 1, "balance": "500"},
        {"v": 1, "balance": True},
        {"v": 1, "balance": None},
        {"v": 1, "balance": math.inf},
        {"v": 1, "balance": math.nan},
    ],
)
def test_a_stored_value_we_did_not_write_is_no_observation(stored: object) -> None:
    assert Observation.from_json(stored) is None


@pytest.mark.parametrize(
    ("interval", "failures", "expected"),
    [
        (5, 1, 5),
        (5, 2, 10),
        (5, 4, 40),
        (5, 7, MAX_ERROR_DELAY),
        (5, 10_000, MAX_ERROR_DELAY),
        (900, 3, 900),  # an interval longer than the cap is never shortened
    ],
)
def test_the_delay_after_unusable_readings_doubles_up_to_a_cap(
    interval: float, failures: int, expected: float
) -> None:
    assert error_delay(interval, failures) == expected
