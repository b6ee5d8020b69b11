"""Edges, not levels: which balance readings make a watcher's event, upward and downward.

A watcher that fired whenever a level holds (the balance at or above a floor, or below a
threshold) would start a run, or send a mail, every interval while it stays there. Both
watchers here turn a stream of readings into edges, each with what it must remember:

- Up (`observe`, the "credits are back" watcher): one event when the balance rises from below
  the floor to at or above it, and (with `min_increase`) one when it rises by at least that much
  between two readings while at or above the floor. It remembers the last balance.
- Down (`observe_low`, the low-credit alert; `low_edges`, its rule, which the CLI uses too):
  one event when the balance falls below the threshold, and (with `min_runway`) one when the
  runway falls below that many seconds (the gate's rule: the floor has at least a
  `runway_risk` chance, by default 1 in 5, of coming within it). Each rule fires once and
  disarms; it is armed again only once the level was seen healthy (the balance at or above
  `rearm_above`, somewhat above the threshold; the runway at least RUNWAY_REARM times
  `min_runway`, or no spending at all), so a balance hovering around the threshold fires
  once, not at every wobble. The reading where every configured rule is armed again after one
  fired is `recovered`. It remembers the two arming flags and the readings the forecast needs
  (`watch_history.py`).

A start without stored state errs the safe way for each direction. Up: the first reading
after a start with no stored observation fires nothing (a top-up cannot be told from a balance that
was already there), so a restart may lose the one event at its first reading. Down: with no
stored state (a first start, a lost or refused state) both rules start armed, so a balance
(or runway) already low fires once and is recorded: a restart may repeat one alert, and a
deployment started while low hears about it. With the stored state, a restart is no restart.
A failed reading is no reading: the state stands. Pure: no clock, no I/O. The caller keeps
the state between readings and persists it (`to_json`/`from_json`) where it can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import ConfigError
from . import watch_history as hist
from .defaults import FORECAST_RISK
from .forecast import KNOWN, NOT_SPENDING, Forecast, decisive_seconds, iso_utc
from .ranges import CREDITS, RUNWAY, WATCH, number_value, risk_value
from .verdict import Balance

#: The longest wait between attempts while the key or the connection is unusable.
MAX_ERROR_DELAY = 300.0
#: The default hysteresis band: re-arm at 10 % above the threshold, at least 1 credit above it.
REARM_SHARE = 0.10
REARM_MIN = 1.0
#: The runway rule re-arms once the runway is back to this many times `min_runway`.
RUNWAY_REARM = 1.5
_VERSION = 1


def error_delay(interval: float, failures: int) -> float:
    """Wait before retrying after `failures` (>= 1) readings in a row failed for good (a
    rejected key, a missing connection): doubling from one interval up to `MAX_ERROR_DELAY`
    (or the interval, when that is longer), so a fixed connection is picked up on its own."""
    ceiling = max(interval, MAX_ERROR_DELAY)
    return float(min(ceiling, interval * 2 ** min(max(failures - 1, 0), 32)))


def _is_finite(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False


# --- up: credits are back ---------------------------------------------------------------------


class FiredBy(str, Enum):
    FLOOR = "floor"  # rose from below the floor to at or above it
    TOP_UP = "top_up"  # rose by at least min_increase, and is at or above the floor

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Observation:
    """The last balance seen: all the upward edge detection needs to remember."""

    balance: Balance

    def to_json(self) -> dict[str, Any]:
        return {"v": _VERSION, "balance": self.balance}

    @classmethod
    def from_json(cls, value: object) -> Observation | None:
        """What `to_json` wrote, or None for anything else (a stored value is outside input)."""
        if not isinstance(value, dict) or value.get("v") != _VERSION:
            return None
        balance = value.get("balance")
        if not isinstance(balance, (int, float)) or not _is_finite(balance):
            return None
        return cls(balance)


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


# --- down: credits are running low --------------------------------------------------------------


class LowRule(str, Enum):
    THRESHOLD = "threshold"  # the balance fell below the threshold
    RUNWAY = "runway"  # the runway at the current rate fell below min_runway

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class LowSettings:
    """A low-credit watcher's settings, checked, with the defaults applied (`low_settings`)."""

    threshold: float
    rearm_above: float
    min_runway: float | None = None
    spacing: float = hist.SPACING
    #: The chance at which the runway rule fires (`--runway-risk`); None: the gate's default.
    runway_risk: float | None = None

    @property
    def risk(self) -> float:
        """The risk the runway is forecast with."""
        return FORECAST_RISK if self.runway_risk is None else self.runway_risk

    def state_key(self) -> str:
        """What tells two watchers' states apart in one store: every setting an edge uses (the
        risk only when the runway rule is on and the risk is not the default, so that a key
        made before the risk could be set stays the same)."""
        key = f"{self.threshold!r}/{self.rearm_above!r}/{self.min_runway!r}"
        if self.min_runway is not None and self.risk != FORECAST_RISK:
            key += f"/{self.risk!r}"
        return key


def default_rearm_above(threshold: float) -> float:
    """10 % above the threshold, and at least 1 credit above it."""
    return float(threshold + max(abs(threshold) * REARM_SHARE, REARM_MIN))


def low_settings(
    threshold: float,
    interval: float,
    rearm_above: float | None = None,
    min_runway: float | None = None,
    runway_risk: object = None,
) -> LowSettings:
    """Check each number by the core's one rule (`ranges`) and the band's order, each with a
    one-line `ConfigError` naming the parameter; apply the defaults. `runway_risk` is a
    chance (0.1) or its text (`1-in-10`, `10%`); None is the gate's default."""
    threshold = number_value(threshold, "threshold", CREDITS)
    seconds = number_value(interval, "poke_interval", WATCH)
    if rearm_above is None:
        rearm_above = default_rearm_above(threshold)
    else:
        rearm_above = number_value(rearm_above, "rearm_above", CREDITS)
        if rearm_above < threshold:
            raise ConfigError(
                f"rearm_above must be at or above the threshold ({threshold:g}), "
                f"got {rearm_above:g}."
            )
    if min_runway is not None:
        min_runway = number_value(min_runway, "min_runway", RUNWAY)
    risk = None if runway_risk is None else risk_value(runway_risk, "runway_risk")
    return LowSettings(
        threshold=threshold,
        rearm_above=rearm_above,
        min_runway=min_runway,
        spacing=hist.spacing_for(float(seconds)),
        runway_risk=risk,
    )


@dataclass(frozen=True)
class LowState:
    """What the downward watcher remembers: which rules are armed, and its kept readings."""

    armed: bool = False
    runway_armed: bool = False
    history: hist.History = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "v": _VERSION,
            "armed": self.armed,
            "runway_armed": self.runway_armed,
            "history": hist.to_json(self.history),
        }

    @classmethod
    def from_json(cls, value: object) -> LowState | None:
        """What `to_json` wrote, or None for anything else (a stored value is outside input)."""
        if not isinstance(value, dict) or value.get("v") != _VERSION:
            return None
        armed, runway_armed = value.get("armed"), value.get("runway_armed")
        history = hist.from_json(value.get("history"))
        if not isinstance(armed, bool) or not isinstance(runway_armed, bool) or history is None:
            return None
        return cls(armed, runway_armed, history)


@dataclass(frozen=True)
class LowAlert:
    """One downward event: the reading, the settings, which rule fired, and the runway."""

    balance: Balance
    at: float
    settings: LowSettings
    fired_by: LowRule
    runway: Forecast

    def payload(self) -> dict[str, Any]:
        """JSON-safe; the runway fields are None when the forecast could not tell.
        `runway_risk` only when the watcher was given one (payloads without it are as before)."""
        known = self.runway.status == KNOWN
        floor_at = self.runway.floor_at if known else None
        chosen = {} if self.settings.runway_risk is None else {"runway_risk": self.settings.risk}
        return {
            "balance": self.balance,
            "threshold": self.settings.threshold,
            "rearm_above": self.settings.rearm_above,
            "min_runway": self.settings.min_runway,
            "fired_by": self.fired_by.value,
            "runway_status": self.runway.status,
            "runway_seconds": self.runway.seconds_to_floor if known else None,
            "burn_per_hour": self.runway.burn_per_hour,
            "runs_out_at": None if floor_at is None else iso_utc(floor_at),
            "runway_reason": self.runway.reason,
            "read_at": iso_utc(self.at),
            **chosen,
        }


@dataclass(frozen=True)
class LowEdges:
    """What one reading does to the downward rules: which fired (None: none did), whether the
    alert recovered (every rule re-armed, after one had fired), and the arming to keep."""

    fired: LowRule | None
    recovered: bool
    armed: bool
    runway_armed: bool


def low_edges(
    armed: bool | None,
    runway_armed: bool | None,
    balance: Balance,
    runway: Forecast | None,
    settings: LowSettings,
) -> LowEdges:
    """The once-per-crossing rule, for every caller (the Airflow trigger, the CLI).

    `armed`/`runway_armed` are what was stored; None means nothing was (a first run, a lost or
    refused state): the rule is then armed, so a balance already low fires once and is
    recorded. Lost state may repeat one alert, never swallow one. `runway` is the forecast for
    this reading (None when the runway rule is off)."""
    first_sight = armed is None
    armed = True if armed is None else armed
    runway_armed = True if runway_armed is None else runway_armed
    was_down = not armed or (settings.min_runway is not None and not runway_armed)
    fired: LowRule | None = None
    if armed and balance < settings.threshold:
        fired, armed = LowRule.THRESHOLD, False
    elif not armed and balance >= settings.rearm_above:
        armed = True
    if runway is not None and settings.min_runway is not None:
        seconds = decisive_seconds(runway)
        short = seconds is not None and seconds < settings.min_runway
        if runway_armed and short:
            fired, runway_armed = fired or LowRule.RUNWAY, False
        elif not runway_armed and _runway_healthy(runway, settings.min_runway):
            runway_armed = True
    is_down = not armed or (settings.min_runway is not None and not runway_armed)
    recovered = was_down and not is_down and not first_sight
    return LowEdges(fired, recovered, armed, runway_armed)


def observe_low(
    state: LowState | None, at: float, balance: Balance, settings: LowSettings
) -> tuple[LowAlert | None, LowState]:
    """The alert this reading at Unix time `at` makes (or None) and the state to keep."""
    history = hist.add(state.history if state else (), at, balance, settings.spacing)
    previous = state.history if state else ()
    runway: Forecast | None = None
    if settings.min_runway is not None:
        runway = hist.runway(previous, at, balance, settings.risk)
    edges = low_edges(
        state.armed if state else None,
        state.runway_armed if state else None,
        balance,
        runway,
        settings,
    )
    new_state = LowState(edges.armed, edges.runway_armed, history)
    if edges.fired is None:
        return None, new_state
    if runway is None:
        runway = hist.runway(previous, at, balance, settings.risk)
    return LowAlert(balance, at, settings, edges.fired, runway), new_state


def _runway_healthy(runway: Forecast, min_runway: float) -> bool:
    if runway.status == NOT_SPENDING:
        return True
    seconds = decisive_seconds(runway)
    return seconds is not None and seconds >= min_runway * RUNWAY_REARM
