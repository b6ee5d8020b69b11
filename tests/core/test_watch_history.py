"""The readings a watcher keeps for the runway: spaced, bounded, reaching back, JSON-safe."""

from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core import watch_history as hist
from predev_integrations._core.defaults import FORECAST_WINDOW

T0 = 1_767_225_600.0

gaps = st.floats(0, 4 * 3_600)
steps = st.lists(st.tuples(gaps, st.floats(-50, 5)), max_size=400)


def feed(items: list[tuple[float, float]], spacing: float = hist.SPACING) -> hist.History:
    kept: hist.History = ()
    at, balance = T0, 10_000.0
    for gap, change in items:
        at, balance = at + gap, max(0.0, balance + change)
        kept = hist.add(kept, at, balance, spacing)
    return kept


@given(steps)
def test_the_history_is_bounded_ordered_spaced_and_within_the_window(
    items: list[tuple[float, float]],
) -> None:
    kept = feed(items)
    assert len(kept) <= hist.LIMIT
    times = [at for at, _ in kept]
    assert all(later - earlier >= hist.SPACING for earlier, later in pairwise(times))
    if kept:
        assert times[-1] - times[0] <= FORECAST_WINDOW


@given(steps)
def test_what_is_stored_is_what_is_loaded(items: list[tuple[float, float]]) -> None:
    kept = feed(items)
    assert hist.from_json(json.loads(json.dumps(hist.to_json(kept)))) == kept


def test_a_full_history_thins_its_older_half_and_reaches_further_back() -> None:
    kept = feed([(hist.SPACING, -1.0)] * (3 * hist.LIMIT))
    assert hist.LIMIT // 2 < len(kept) <= hist.LIMIT
    span = kept[-1][0] - kept[0][0]
    assert span > (len(kept) - 1) * hist.SPACING  # older readings are further apart
    assert kept[-1][0] - kept[-2][0] == hist.SPACING  # recent ones are not


def test_readings_closer_than_the_spacing_are_not_kept() -> None:
    kept = hist.add((), T0, 100)
    assert hist.add(kept, T0 + hist.SPACING - 1, 99) == kept
    assert hist.add(kept, T0 + hist.SPACING, 99) == ((T0, 100), (T0 + hist.SPACING, 99))


def test_a_top_up_or_a_clock_that_went_back_starts_a_new_history() -> None:
    kept = hist.add(hist.add((), T0, 100), T0 + 600, 90)
    assert hist.add(kept, T0 + 700, 500) == ((T0 + 700, 500),)  # even inside the spacing
    assert hist.add(kept, T0 + 300, 80) == ((T0 + 300, 80),)
    assert hist.add(kept, T0 + 1_200, 91) == (*kept, (T0 + 1_200, 91))  # a 1-credit refund


def test_the_runway_is_known_after_an_hour_of_kept_readings() -> None:
    kept: hist.History = ()
    for n in range(13):
        kept = hist.add(kept, T0 + n * hist.SPACING, 1_000 - n)
    forecast = hist.runway(kept, T0 + 13 * hist.SPACING, 987)
    assert forecast.status == "known"
    assert forecast.burn_per_hour == 12
    assert forecast.seconds_to_floor == 987 / 12 * 3_600


def test_a_clock_out_of_range_gives_an_unknown_runway_not_an_error() -> None:
    assert hist.runway((), -5.0, 100).status == "unknown"
    assert hist.runway((), 1e20, 100).status == "unknown"
