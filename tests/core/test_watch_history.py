"""The readings a watcher keeps for the runway: weeks of them, thinned with age, spaced,
bounded, JSON-safe, and proof against a clock that runs ahead."""

from __future__ import annotations

import json
import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core import watch_history as hist
from predev_integrations._core.defaults import FORECAST_WINDOW
from predev_integrations._core.forecast import CLOCK_SKEW

T0 = 1_767_225_600.0
HOUR, DAY = 3_600.0, 86_400.0

gaps = st.floats(0, 4 * HOUR) | st.floats(0, 3 * DAY)
steps = st.lists(st.tuples(gaps, st.floats(-50, 5)), max_size=400)


def feed(
    items: list[tuple[float, float]],
    spacing: float = hist.SPACING,
    kept: hist.History = (),
    start: tuple[float, float] | None = None,
) -> hist.History:
    """Readings `gap` seconds apart, each `change` credits from the one before, from `start`
    (default: the newest kept reading, else T0 and 10 000 credits)."""
    at, balance = start or (kept[-1] if kept else (T0, 10_000.0))
    for gap, change in items:
        at, balance = at + gap, max(0.0, balance + change)
        kept = hist.add(kept, at, balance, spacing)
    return kept


SPAN_DAYS = hist.SPAN / DAY


def steady(days: float, step: float = hist.SPACING) -> hist.History:
    """One reading every `step` seconds for `days`, 1 credit each."""
    return feed([(step, -1.0)] * int(days * DAY / step))


@given(steps, st.sampled_from([hist.SPACING, 900.0, 7_200.0]))
def test_the_history_is_bounded_ordered_spaced_and_within_the_window(
    items: list[tuple[float, float]], spacing: float
) -> None:
    kept = feed(items, spacing)
    assert len(kept) <= hist.LIMIT
    times = [at for at, _ in kept]
    assert all(later - earlier >= spacing - 1 for earlier, later in pairwise(times))
    if len(kept) > 1:  # thinned as of the reading before the newest
        assert times[-2] - times[0] <= hist.SPAN


@given(steps)
def test_no_two_kept_readings_share_a_time_slot_of_their_age(
    items: list[tuple[float, float]],
) -> None:
    kept = feed(items)
    if len(kept) < 2:
        return
    now = kept[-2][0]
    for (a, _), (b, _) in pairwise(kept[:-1]):
        grain = hist.grain(now - b)
        assert (grain, a // grain) != (grain, b // grain) or hist.grain(now - a) != grain


@given(steps)
def test_the_newest_reading_is_kept_once_the_spacing_has_passed(
    items: list[tuple[float, float]],
) -> None:
    kept = feed(items)
    at = (kept[-1][0] if kept else T0) + hist.SPACING + 0.5
    assert hist.add(kept, at, 7.0)[-1] == (math.floor(at), 7.0)


@given(steps, steps)
def test_what_is_stored_is_what_is_loaded_and_carries_on_the_same(
    before: list[tuple[float, float]], after: list[tuple[float, float]]
) -> None:
    kept = feed(before)
    loaded = hist.from_json(json.loads(json.dumps(hist.to_json(kept))))
    assert loaded == kept
    assert feed(after, kept=loaded) == feed(after, kept=kept)


def test_four_weeks_of_readings_every_five_minutes_are_kept_dense_when_recent() -> None:
    kept = steady(SPAN_DAYS + 2)
    now = kept[-1][0]
    assert len(kept) <= hist.LIMIT
    assert now - kept[0][0] >= hist.SPAN - 2 * HOUR  # reaches back the forecast's window
    for (a, _), (b, _) in pairwise(kept):
        age = now - b
        most = 300 if age < 6 * HOUR else 900 if age < 2 * DAY else HOUR if age < 7 * DAY else 7_200
        assert b - a <= most + hist.SPACING, (age, b - a)
    assert sum(1 for at, _ in kept if now - at <= 6 * HOUR) >= 72  # one per 5 minutes


def test_the_window_is_the_forecasts_and_the_bound_fits_four_weeks() -> None:
    assert hist.SPAN == FORECAST_WINDOW
    # Over 4 weeks (the forecast's window, issue 24): 72 + 168 + 120 + 252 slots, the ends.
    assert hist._most(28 * DAY) == 616


@pytest.mark.parametrize(
    ("balance", "most"),
    [(lambda n: 123_456 - n, 14_000), (lambda n: 123_456.789 - 0.37 * n, 18_000)],
    ids=["whole credits", "17-digit balances"],
)
def test_four_weeks_stored_are_far_below_airflows_64_kb_per_value(
    balance: object, most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measured at the 4-week window whatever the forecast's window is today; the figures
    are the module's."""
    monkeypatch.setattr(hist, "SPAN", 28 * DAY)
    monkeypatch.setattr(hist, "LIMIT", hist._most(28 * DAY) + 1)
    assert callable(balance)
    kept: hist.History = ()
    for n in range(30 * 288):
        kept = hist.add(kept, T0 + 300 * n + 0.123456, balance(n))
    size = len(json.dumps(hist.to_json(kept)))
    print(f"\n4 weeks kept: {len(kept)} readings, {size} bytes")
    assert hist.LIMIT - 5 <= len(kept) <= hist.LIMIT  # the bound is close to what is kept
    assert size < most


def test_readings_closer_than_the_spacing_are_not_kept() -> None:
    kept = hist.add((), T0, 100)
    assert hist.add(kept, T0 + hist.SPACING - 1, 99) == kept
    assert hist.add(kept, T0 + hist.SPACING, 99) == ((T0, 100), (T0 + hist.SPACING, 99))


def test_times_are_kept_to_the_second_never_later_than_read() -> None:
    assert hist.add((), T0 + 0.999, 100) == ((T0, 100),)
    assert json.dumps(hist.to_json(((T0, 100.0), (T0 + 300, 99.5)))) == (
        "[[1767225600, 100], [1767225900, 99.5]]"
    )


def test_a_top_up_is_a_reading_like_any_other() -> None:
    """The forecast tells top-ups from spending; the history keeps what was read."""
    kept = hist.add(hist.add((), T0, 100), T0 + 600, 90)
    assert hist.add(kept, T0 + 1_200, 500) == (*kept, (T0 + 1_200, 500))
    assert hist.add(kept, T0 + 700, 500) == kept  # inside the spacing, as any reading


def test_a_single_reading_from_a_clock_far_ahead_is_forgotten_at_the_next_reading() -> None:
    kept = steady(3)
    newest = kept[-1][0]
    ahead = hist.add(kept, newest + 365 * DAY, 5)
    assert ahead[-1] == (newest + 365 * DAY, 5)
    assert ahead[0] == kept[0]  # prunes nothing: thinned as of the reading before it
    back = hist.add(ahead, newest + hist.SPACING, 4)
    assert back == hist.add(kept, newest + hist.SPACING, 4)  # as if it had never come
    assert hist.runway(back[:-1], *back[-1]).status == "known"


@given(steps, st.floats(CLOCK_SKEW + 1, 1e9), steps)
def test_a_reading_from_a_clock_ahead_never_stays_the_newest_nor_prunes_the_history(
    before: list[tuple[float, float]], lead: float, after: list[tuple[float, float]]
) -> None:
    kept = feed(before)
    start = kept[-1] if kept else (T0, 10_000.0)
    poisoned = hist.add(kept, start[0] + hist.SPACING + lead, 5)
    later = feed([(hist.SPACING, -1.0), *after], kept=kept, start=start)
    healed = feed([(hist.SPACING, -1.0), *after], kept=poisoned, start=start)
    assert healed[-1] == later[-1]  # the real reading after it is the newest again
    assert healed[0] == later[0]  # and nothing was lost to it


def test_a_clock_a_little_behind_the_newest_changes_nothing() -> None:
    kept = steady(1)
    assert hist.add(kept, kept[-1][0] - CLOCK_SKEW, 1) == kept


def test_a_reading_from_a_clock_far_behind_drops_the_readings_after_it() -> None:
    """Which of two clocks is right cannot be told from one reading; the current one is the
    clock the forecast runs on (documented)."""
    kept = steady(1)
    at = kept[0][0] - DAY
    assert hist.add(kept, at, 5) == ((at, 5),)


@pytest.mark.parametrize("at", [-5.0, 1e20, math.nan])
def test_a_reading_at_a_time_no_forecast_can_use_is_not_kept(at: float) -> None:
    kept = steady(0.1)
    assert hist.add(kept, at, 5) == kept


def test_the_runway_is_known_after_an_hour_of_kept_readings() -> None:
    kept: hist.History = ()
    for n in range(13):
        kept = hist.add(kept, T0 + n * hist.SPACING, 1_000 - n)
    forecast = hist.runway(kept, T0 + 13 * hist.SPACING, 987)
    assert forecast.status == "known"
    assert forecast.burn_per_hour == 12
    # the median: at or a little after the pace's 987 / 12 hours (spending comes in specs)
    assert 987 / 12 * 3_600 <= (forecast.seconds_to_floor or 0) <= 1.03 * 987 / 12 * 3_600


def test_a_clock_out_of_range_gives_an_unknown_runway_not_an_error() -> None:
    assert hist.runway((), -5.0, 100).status == "unknown"
    assert hist.runway((), 1e20, 100).status == "unknown"


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        [[1, 2, 3]],
        [[2, 5], [1, 5]],
        [[1, 5], [1, 6]],
        [[1, math.nan]],
        [[1, 10**400]],
        [[1, 2e15]],
        [[-1, 5]],
        [[3e11, 5]],
        [[1, True]],
        [["1", 5]],
        [[n, 5] for n in range(hist.LIMIT + 1)],
    ],
)
def test_a_stored_history_we_did_not_write_is_refused(value: object) -> None:
    assert hist.from_json(value) is None
