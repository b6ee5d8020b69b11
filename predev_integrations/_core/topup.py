"""Edges, not levels: which balance readings mean "credits are back".

An event-driven watcher that fired whenever the balance is at or above the floor would start
a run every interval while it stays there. `observe` turns a stream of readings into edges:
one event when the balance rises from below the floor to at or above it, and (when
`min_increase` is set) one when it rises by at least that much between two readings while at
or above the floor. A failed reading is no reading: the last observation stands.

Pure: no clock, no I/O. The caller keeps the `Observation` between readings, and persists it
(`to_json`/`from_json`) where it can, so a restart compares with the last reading instead of
taking the first new one as the baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .verdict import Balance

#: The longest wait between attempts while the key or the connection is unusable.
MAX_ERROR_DELAY = 300.0
_VERSION = 1


class FiredBy(str, Enum):
    FLOOR = "floor"  # rose from below the floor to at or above it
    TOP_UP = "top_up"  # rose by at least min_increase, and is at or above the floor

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Observation:
    """The last balance seen: all the edge detection needs to remember."""

    balance: Balance

    def to_json(self) -> dict[str, Any]:
        return {"v": _VERSION, "balance": self.balance}

    @classmethod
    def from_json(cls, value: object) -> Observation | None:
        """What `to_json` wrote, or None for anything else (a stored value is outside input)."""
        if not isinstance(value, dict) or value.get("v") != _VERSION:
            return None
        balance = value.get("balance")
        if isinstance(balance, bool) or not isinstance(balance, (int, float)):
            return None
        return cls(balance) if math.isfinite(balance) else None


@dataclass(frozen=True)
class TopUp:
    """One event: the balance that fired it, the one before, the floor, and which rule."""

    balance: Balance
    previous: Balance
    floor: float
    fired_by: FiredBy

    def payload(self) -> dict[str, Any]:
        return {
            "balance": self.balance,
            "previous": self.previous,
            "floor": self.floor,
            "fired_by": self.fired_by.value,
        }


def observe(
    previous: Observation | None,
    balance: Balance,
    floor: float,
    min_increase: float | None = None,
) -> tuple[TopUp | None, Observation]:
    """The event this reading makes (or None) and the observation to keep.

    With no previous observation the reading is the baseline and fires nothing: a (re)start
    cannot tell a top-up from a balance that was already there.
    """
    current = Observation(balance)
    if previous is None or balance < floor:
        return None, current
    if previous.balance < floor:
        fired_by: FiredBy | None = FiredBy.FLOOR
    elif min_increase is not None and balance - previous.balance >= min_increase:
        fired_by = FiredBy.TOP_UP
    else:
        fired_by = None
    if fired_by is None:
        return None, current
    return TopUp(balance, previous.balance, floor, fired_by), current


def error_delay(interval: float, failures: int) -> float:
    """Wait before retrying after `failures` (>= 1) readings in a row failed for good (a
    rejected key, a missing connection): doubling from one interval up to `MAX_ERROR_DELAY`
    (or the interval, when that is longer), so a fixed connection is picked up on its own."""
    ceiling = max(interval, MAX_ERROR_DELAY)
    return float(min(ceiling, interval * 2 ** min(max(failures - 1, 0), 32)))
