"""The readings a long-running watcher keeps for the runway forecast: weeks of them, thinned.

A watcher reads the balance every interval for as long as it is deployed; the forecast
(`forecast.py`) learns how a team spends from weeks of readings (a weekly batch needs a week
to be seen at all), and runs at every reading. So a watcher keeps at most one reading per
`spacing` seconds (SPACING, or the interval when longer), none older than the forecast's
window (`defaults.FORECAST_WINDOW`, 4 weeks), and thins older readings to a coarser grain
(TIERS): one per 5 minutes for the last 6 hours, one per 15 minutes up to 2 days, one an hour
up to a week, one per 2 hours beyond. In each grain's time slot the oldest reading stays (the
grains nest, so a reading, once dropped, has no reason to come back). The history is a
function of the readings alone: a watcher that stores it and a restarted one that loads it
keep the same one. Times are kept to the whole second (floored: never later than read). At
most LIMIT readings: 617 over 4 weeks, about 13 KB as JSON with whole-credit balances and 17 KB
with 17-digit ones, far below the 64 KB Airflow allows a stored value.

Spending is read from how the balance falls between readings, so a coarser grain loses when
credits went, never how many. A rise (a top-up, a refund) is kept like any reading: the
forecast tells spending from top-ups itself.

Time comes from the caller's clock, which may be wrong. The history is thinned as of the
reading before the newest, so no single reading prunes the others. A reading later than the
new one by more than the forecast's CLOCK_SKEW came from a clock that ran ahead (or this one
stepped back): it is dropped, with any others like it, and the history goes on from the new
reading. So a reading from a clock a year ahead costs nothing and is gone at the next reading,
instead of standing as the newest for ever; a single reading from a clock far behind costs the
readings after it (which of two clocks is right cannot be told from one reading, and the
current clock is the one the forecast runs on). A reading less than CLOCK_SKEW earlier than the
newest kept (two triggerers' clocks disagree a little) is simply not kept: it is within the
spacing. Pure: the caller passes the time of each reading.
"""

from __future__ import annotations

import math

from .defaults import FORECAST_RISK, FORECAST_WINDOW
from .forecast import (
    CLOCK_SKEW,
    MAX_BALANCE,
    MAX_NOW,
    UNKNOWN,
    Forecast,
    forecast,
)
from .numbers import finite_number

#: The least time between two kept readings (5 minutes): 12 an hour, so a runway is known an
#: hour after a (re)start without a stored history.
SPACING = 300.0
#: How far back readings are kept: the forecast's window (4 weeks); older ones tell it nothing.
SPAN = FORECAST_WINDOW
#: The grain by age: up to `age` seconds old, one reading per `grain` seconds. Each grain
#: divides the next, so the time slots nest; beyond the last age, the last grain.
TIERS: tuple[tuple[float, float], ...] = (
    (6 * 3_600.0, SPACING),
    (2 * 86_400.0, 900.0),
    (7 * 86_400.0, 3_600.0),
)
OLDEST_GRAIN = 7_200.0


def _most(span: float) -> int:
    """The most readings the tiers keep over `span` seconds: one per slot, plus one for each
    tier's partial slot at either end."""
    count, start = 0, 0.0
    for age, grain in (*TIERS, (max(span, TIERS[-1][0]), OLDEST_GRAIN)):
        if start >= span:
            break
        count += math.ceil((min(age, span) - start) / grain) + 1
        start = age
    return count


#: The most readings kept (and accepted from a store): what the tiers hold over SPAN before
#: the newest reading, and the newest.
LIMIT = _most(SPAN) + 1
#: Credits the runway runs down to: it says when the credits run out.
RUNWAY_FLOOR = 0.0

History = tuple[tuple[float, float], ...]


def spacing_for(interval: float) -> float:
    """The spacing a watcher polling every `interval` seconds keeps its readings at."""
    return max(SPACING, interval)


def grain(age: float) -> float:
    """The grain of a reading `age` seconds old (see TIERS)."""
    for bound, seconds in TIERS:
        if age <= bound:
            return seconds
    return OLDEST_GRAIN


def add(history: History, at: float, balance: float, spacing: float = SPACING) -> History:
    """`history` with the reading `(at, balance)` kept or not, thinned (see the module)."""
    if not 0 <= at <= MAX_NOW:  # a clock no forecast can be made at: not a reading to keep
        return history
    if history and history[-1][0] > at + CLOCK_SKEW:  # from a clock that ran ahead: forget
        history = tuple(item for item in history if item[0] <= at + CLOCK_SKEW)
    if history and at - history[-1][0] < spacing:
        return history
    reading = (float(math.floor(at)), float(balance))
    if not history:
        return (reading,)
    return (*thin(history, history[-1][0]), reading)


def thin(history: History, now: float) -> History:
    """The readings of `history` (oldest first) that the tiers keep at `now`."""
    kept: list[tuple[float, float]] = []
    last_slot: tuple[float, float] | None = None
    for at, balance in history:
        age = now - at
        if age > SPAN:
            continue
        size = grain(age)
        slot = (size, at // size)
        if slot != last_slot:
            kept.append((at, balance))
            last_slot = slot
    return tuple(kept[1 - LIMIT :])  # the tiers keep fewer; a bound for any input


def runway(history: History, at: float, balance: float, risk: float = FORECAST_RISK) -> Forecast:
    """The forecast down to RUNWAY_FLOOR from the kept readings and the newest one, its limits
    judged at `risk` (checked already: `ranges.risk_value`)."""
    if not 0 <= at <= MAX_NOW:  # a clock no forecast can be made at
        return Forecast(UNKNOWN, reason="the clock is out of range", risk=risk)
    return forecast([*history, (at, balance)], RUNWAY_FLOOR, now=at, risk=risk)


def from_json(value: object) -> History | None:
    """A history `to_json` wrote, or None for anything else (a stored value is outside input):
    at most LIMIT readings, times in range and strictly rising, balances finite and bounded."""
    if not isinstance(value, list) or len(value) > LIMIT:
        return None
    readings: list[tuple[float, float]] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            return None
        at, balance = (finite_number(x) for x in item)
        if at is None or balance is None or not 0 <= at <= MAX_NOW or abs(balance) > MAX_BALANCE:
            return None
        if readings and at <= readings[-1][0]:
            return None
        readings.append((at, balance))
    return tuple(readings)


def to_json(history: History) -> list[list[float]]:
    """Whole numbers without `.0`: the stored state stays small."""
    return [[_compact(at), _compact(balance)] for at, balance in history]


def _compact(value: float) -> float:
    return int(value) if value.is_integer() else value
