"""The readings a long-running watcher keeps for the runway forecast: few, recent, bounded.

A watcher reads the balance every interval for as long as it is deployed; the forecast
(`forecast.py`) needs a few readings over an hour or more, and costs O(n^2) in the readings it
fits. So a watcher keeps at most one reading per `spacing` seconds (SPACING, or the interval
when longer), at most LIMIT of them, none older than the forecast's window; when full, every
other reading of the older half goes, so the history reaches further back at a coarser grain
instead of forgetting. A top-up (a rise of more than the forecast's tolerance) or a clock that
stepped back starts a new history: the forecast only fits the series since the last top-up.

The history is a tuple of `(Unix time, balance)` pairs, JSON-safe as lists, and a function of
the readings alone: a watcher that stores it and a restarted one that loads it keep the same
one. Pure: the caller passes the time of each reading.
"""

from __future__ import annotations

from .defaults import FORECAST_TOP_UP_TOLERANCE, FORECAST_WINDOW
from .forecast import MAX_BALANCE, MAX_NOW, UNKNOWN, Forecast, finite_number, forecast

#: The most readings kept: a forecast over them costs about 1 ms.
LIMIT = 128
#: The least time between two kept readings (5 minutes): 12 an hour, so a runway is known an
#: hour after a (re)start without a stored history.
SPACING = 300.0
#: Credits the runway runs down to: it says when the credits run out.
RUNWAY_FLOOR = 0.0

History = tuple[tuple[float, float], ...]


def spacing_for(interval: float) -> float:
    """The spacing a watcher polling every `interval` seconds keeps its readings at."""
    return max(SPACING, interval)


def add(history: History, at: float, balance: float, spacing: float = SPACING) -> History:
    """`history` with the reading `(at, balance)` kept or not (see the module)."""
    reading = (float(at), float(balance))
    if not history:
        return (reading,)
    last_at, last_balance = history[-1]
    if at < last_at or balance - last_balance > FORECAST_TOP_UP_TOLERANCE:
        return (reading,)  # a clock that went back, or a top-up: a new series
    if at - last_at < spacing or at == last_at:
        return history
    kept = [item for item in history if item[0] >= at - FORECAST_WINDOW]
    kept.append(reading)
    if len(kept) > LIMIT:
        half = len(kept) // 2
        kept = kept[:half:2] + kept[half:]
    return tuple(kept)


def runway(history: History, at: float, balance: float) -> Forecast:
    """The forecast down to RUNWAY_FLOOR from the kept readings and the newest one."""
    if not 0 <= at <= MAX_NOW:  # a clock no forecast can be made at
        return Forecast(UNKNOWN, reason="the clock is out of range")
    return forecast([*history, (at, balance)], RUNWAY_FLOOR, now=at)


def from_json(value: object) -> History | None:
    """A history `to_json` wrote, or None for anything else (a stored value is outside input)."""
    if not isinstance(value, list) or len(value) > LIMIT:
        return None
    readings: list[tuple[float, float]] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            return None
        at, balance = (finite_number(x) for x in item)
        if at is None or balance is None or at < 0 or abs(balance) > MAX_BALANCE:
            return None
        if readings and at <= readings[-1][0]:
            return None
        readings.append((at, balance))
    return tuple(readings)


def to_json(history: History) -> list[list[float]]:
    return [[at, balance] for at, balance in history]
