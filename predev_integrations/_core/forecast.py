"""When do the credits run out? A runway forecast from balance readings, or why it cannot tell.

`forecast(readings, floor, now=...)` learns how the team spends from the readings `(Unix time,
balance)` (`spending.py`: spending per hour, the weekly cycle, growth) and says how long until
the balance reaches the floor, with a band. The rules, each chosen so that a pager never goes
off on too little or too noisy data:

- Nothing about the input is trusted. Non-numbers, non-finite values, balances beyond 1e15,
  readings from the future (more than CLOCK_SKEW seconds after `now`) and timestamps that carry
  two different balances are ignored (counted in `ignored`); a reading repeated exactly counts
  once; times are kept to the millisecond (closer readings are at one time). Input order never
  matters: readings are sorted by time (a clock that stepped back appends an earlier time
  later; the time is what we believe, not the order).
- The readings within `window` seconds of `now` count (the newest MAX_FIT of them). A rise of
  more than `top_up_tolerance` credits between two readings is a top-up: that gap's spending
  is unknown and taken at the pace of the hours like it, nothing else is; a smaller rise is a
  refund, netted.
- A runway needs `min_readings` readings over `min_span` seconds, and at least `min_span` of
  them between top-ups. When nothing was spent (refunds included) it is NOT_SPENDING after
  IDLE_AFTER of readings, UNKNOWN before (a weekly job has not run yet); when at
  least MAX_RISE_SHARE of the balance's movement goes up, the readings are noise: UNKNOWN.
- The runway starts from the newest reading: the API reports the balance exactly, so the
  newest reading is where we are, less what the model expects to have been spent since; at or
  below the floor, the runway is 0. `spending.py` gives the distribution of the time to the
  floor: the forecast (`seconds_to_floor`) is its median (half the time the floor comes
  sooner), the band (`seconds_to_floor_p10`/`_p90`) its 10th to 90th percentile, never
  narrower than half a typical gap between readings on each side. What a limit compares
  (`decisive_seconds`) is its `risk` quantile (by default RISK, the 20th percentile, in the
  same gap rule): one rule for every amount of data, a limit fails when the floor has at least
  a 1-in-5 chance (or the `risk` given: `--runway-risk`) of coming within it. The forecast
  keeps the risk it was made with, so its words (`risk_text`) say that chance.
- A runway beyond MAX_RUNWAY is NOT_SPENDING.

Pure: no clock, no I/O, no imports but `bisect`, `itertools`, `math`, `operator`, `defaults`,
`numbers`, `ranges` (the risk's bounds and words) and `spending` (which imports `defaults` and
standard modules only); callers pass `now`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator

from . import spending
from .defaults import FORECAST_MIN_READINGS as MIN_READINGS
from .defaults import FORECAST_MIN_SPAN as MIN_SPAN
from .defaults import FORECAST_RISK as RISK
from .defaults import FORECAST_TOP_UP_TOLERANCE as TOP_UP_TOLERANCE
from .defaults import FORECAST_WINDOW as WINDOW
from .numbers import finite_number
from .ranges import RISK as RISK_RANGE
from .ranges import chance_text
from .spending import Z90

#: How far below the median time (in its spread) a limit is judged by default: the floor's
#: chance of coming by then is RISK.
RISK_Z = spending.z_of(RISK)
#: RISK in words: `1-in-5` (a whole number of tries), else a percentage (`chance_text`).
RISK_TEXT = chance_text(RISK)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "CLOCK_SKEW",
    "KNOWN",
    "MAX_DURATION",
    "MAX_FIT",
    "MAX_RUNWAY",
    "MIN_READINGS",
    "MIN_SPAN",
    "NOT_SPENDING",
    "TOP_UP_TOLERANCE",
    "UNKNOWN",
    "WINDOW",
    "Forecast",
    "Reading",
    "band_text",
    "decisive_seconds",
    "describe",
    "duration_text",
    "forecast",
    "iso_utc",
    "parse_duration",
    "risk_text",
]

#: The statuses of a forecast.
KNOWN, UNKNOWN, NOT_SPENDING = "known", "unknown", "not_spending"
#: Seconds a reading may lie ahead of `now` (two machines' clocks disagree a little); later
#: readings are from a clock we cannot trust.
CLOCK_SKEW = 60.0
#: The newest readings a forecast reads (a 4-week history thinned as the CLI keeps it holds
#: fewer); the cost is linear in them.
MAX_FIT = 2_000
#: Of all the balance's movement (drops plus refunds), the share going up at which the
#: readings are noise, not a decline.
MAX_RISE_SHARE = 1 / 3
#: The most points of the projected path a forecast carries (for charts).
PATH_POINTS = 40
#: How long nothing must be spent before the key is called idle: a weekly job spends once a
#: week, and "not spending" while it waits for its day would be silence while credits drain.
IDLE_AFTER = 7 * 86_400.0
#: A runway longer than this (10 years) is not a forecast worth making: NOT_SPENDING.
MAX_RUNWAY = 3_650 * 86_400.0
#: A balance beyond this is a broken source, not a balance (as `ranges.BALANCE`).
MAX_BALANCE = 1e15
#: The latest `now` accepted (1 Jan 9000): a floor date 10 years later still has 4 digits.
MAX_NOW = 221_845_392_000.0
#: `parse_duration`'s bounds: the longest duration, and the longest text.
MAX_DURATION = 365 * 86_400.0
MAX_DURATION_TEXT = 20

_UNITS = {"s": 1.0, "m": 60.0, "h": 3_600.0, "d": 86_400.0, "w": 604_800.0}
_DIGITS = frozenset("0123456789")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Reading(tuple[float, float]):
    """One balance `balance` read at Unix time `at` (seconds, UTC). A plain tuple works too.

    A tuple subclass, not a NamedTuple: `typing` costs the CLI's start-up a few milliseconds.
    """

    __slots__ = ()

    def __new__(cls, at: float, balance: float) -> Reading:
        return tuple.__new__(cls, (at, balance))

    @property
    def at(self) -> float:
        return self[0]

    @property
    def balance(self) -> float:
        return self[1]

    def __repr__(self) -> str:
        return f"Reading(at={self[0]!r}, balance={self[1]!r})"


#: Readings closer than this (seconds) are at one time, to the millisecond: `_series` rounds
#: their times (and no slope between two readings can overflow).
_TICK = 0.001


class Forecast:
    """The result: a runway (`KNOWN`), `NOT_SPENDING`, or `UNKNOWN` and why (`reason`).

    `burn_per_hour` is the fitted rate in credits per hour when a rate was fitted and trusted
    (KNOWN, or NOT_SPENDING because the floor is beyond MAX_RUNWAY), 0.0 when flat or rising,
    None when unknown. `seconds_to_floor` and `floor_at` (Unix time) are set only when KNOWN.
    `readings` and `span_seconds` describe the current series as fitted; `ignored` counts the
    readings refused as untrustworthy. `risk` is the chance `seconds_to_floor_decisive` was
    computed for (the gate's RISK unless `forecast` was given another). Immutable.
    """

    __slots__ = (
        "burn_per_hour",
        "floor_at",
        "ignored",
        "model",
        "path",
        "readings",
        "reason",
        "risk",
        "seconds_to_floor",
        "seconds_to_floor_decisive",
        "seconds_to_floor_p10",
        "seconds_to_floor_p90",
        "span_seconds",
        "spend_by_weekday",
        "status",
    )
    status: str
    burn_per_hour: float | None
    seconds_to_floor: float | None
    floor_at: float | None
    readings: int
    span_seconds: float
    reason: str | None
    ignored: int
    seconds_to_floor_p10: float | None
    seconds_to_floor_p90: float | None
    seconds_to_floor_decisive: float | None
    model: str | None
    spend_by_weekday: tuple[float, ...] | None
    path: tuple[tuple[float, float], ...]
    risk: float

    def __init__(
        self,
        status: str,
        *,
        burn_per_hour: float | None = None,
        seconds_to_floor: float | None = None,
        floor_at: float | None = None,
        readings: int = 0,
        span_seconds: float = 0.0,
        reason: str | None = None,
        ignored: int = 0,
        seconds_to_floor_p10: float | None = None,
        seconds_to_floor_p90: float | None = None,
        seconds_to_floor_decisive: float | None = None,
        model: str | None = None,
        spend_by_weekday: tuple[float, ...] | None = None,
        path: tuple[tuple[float, float], ...] = (),
        risk: float = RISK,
    ) -> None:
        values = {
            "status": status,
            "burn_per_hour": burn_per_hour,
            "seconds_to_floor": seconds_to_floor,
            "floor_at": floor_at,
            "readings": readings,
            "span_seconds": span_seconds,
            "reason": reason,
            "ignored": ignored,
            "seconds_to_floor_p10": seconds_to_floor_p10,
            "seconds_to_floor_p90": seconds_to_floor_p90,
            "seconds_to_floor_decisive": seconds_to_floor_decisive,
            "model": model,
            "spend_by_weekday": spend_by_weekday,
            "path": path,
            "risk": risk,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Forecast is immutable: cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Forecast is immutable: cannot delete {name}")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in sorted(self.__slots__))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Forecast):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Forecast({shown})"

    def to_json(self) -> dict[str, object]:
        """The `runway` object of `--format json`; `floor_at` as ISO 8601 UTC, or None."""
        return {
            "status": self.status,
            "burn_per_hour": self.burn_per_hour,
            "seconds_to_floor": self.seconds_to_floor,
            "floor_at": None if self.floor_at is None else iso_utc(self.floor_at),
            "readings": self.readings,
            "span_seconds": self.span_seconds,
            "reason": self.reason,
            "ignored": self.ignored,
            "seconds_to_floor_p10": self.seconds_to_floor_p10,
            "seconds_to_floor_p90": self.seconds_to_floor_p90,
            "floor_at_p10": _at(self.floor_at, self.seconds_to_floor, self.seconds_to_floor_p10),
            "floor_at_p90": _at(self.floor_at, self.seconds_to_floor, self.seconds_to_floor_p90),
            "seconds_to_floor_decisive": decisive_seconds(self),
            "model": self.model,
            "spend_by_weekday": (
                None if self.spend_by_weekday is None else list(self.spend_by_weekday)
            ),
        }


def _at(floor_at: float | None, seconds: float | None, other: float | None) -> str | None:
    """The time `other` seconds from now, given `floor_at` is `seconds` from now."""
    if floor_at is None or seconds is None or other is None:
        return None
    return iso_utc(floor_at - seconds + other)


def forecast(
    readings: Iterable[Reading | tuple[float, float]],
    floor: float,
    *,
    now: float,
    window: float = WINDOW,
    min_readings: int = MIN_READINGS,
    min_span: float = MIN_SPAN,
    top_up_tolerance: float = TOP_UP_TOLERANCE,
    risk: float = RISK,
) -> Forecast:
    """The runway of `readings` down to `floor`, as seen at Unix time `now` (see the module).

    `risk` is the chance at which a limit fails (`seconds_to_floor_decisive`), from 0.01 up to,
    not including, 0.5 (outside input is checked by `ranges.risk_value` first). The settings
    are ours, not outside input: nonsense there raises ValueError (TypeError for a
    `min_readings` that is not an int). Cost: O(n log n) over the n readings given, plus
    O(hours covered) for the model and the walk.
    """
    _check_settings(
        floor=floor,
        now=now,
        window=window,
        min_readings=min_readings,
        min_span=min_span,
        top_up_tolerance=top_up_tolerance,
        risk=risk,
    )
    series, ignored = _series(readings, now, window)
    series = series[-MAX_FIT:]
    count = len(series)
    span = series[-1][0] - series[0][0] if series else 0.0

    def unknown(reason: str) -> Forecast:
        return Forecast(
            UNKNOWN, readings=count, span_seconds=span, reason=reason, ignored=ignored, risk=risk
        )

    def not_spending(reason: str, burn_per_hour: float = 0.0) -> Forecast:
        return Forecast(
            NOT_SPENDING,
            burn_per_hour=burn_per_hour,
            readings=count,
            span_seconds=span,
            reason=reason,
            ignored=ignored,
            risk=risk,
        )

    refused = f"; {ignored} ignored" if ignored else ""
    if count == 0:
        return unknown(f"no readings in the last {_dur(window)}{refused.replace(';', ',')}")
    if count < min_readings:
        return unknown(f"only {_plural(count, 'reading')} (need {min_readings}{refused})")
    if span < min_span:
        return unknown(f"readings span only {duration_text(span)} (need {_dur(min_span)})")
    spent = spending.spending(series, top_up_tolerance)
    if spent.observed == 0:
        return unknown(
            f"no spending seen between top-ups (need {_dur(min_span)} of readings without one)"
        )
    if spent.observed < min_span:
        return unknown(
            f"only {duration_text(spent.observed)} of readings between top-ups "
            f"(need {_dur(min_span)})"
        )
    if spent.drops <= spent.rises:
        if span < IDLE_AFTER:
            return unknown(
                f"nothing spent over {duration_text(span)} (a week of readings tells an "
                "idle key from a weekly job)"
            )
        return not_spending(f"balance flat or rising over {duration_text(span)}")
    if spent.rises >= MAX_RISE_SHARE * (spent.drops + spent.rises):
        share = round(100 * spent.rises / (spent.drops + spent.rises))
        return unknown(
            f"no steady decline: {share}% of the movement goes up "
            f"(must be under {MAX_RISE_SHARE:.0%})"
        )
    model = spending.fit(spent, span)
    last_at, last_balance = series[-1]
    ahead = max(0.0, now - last_at)
    above = last_balance - floor
    burn = model.level  # credits per hour, on an average hour of the week, now
    if model.level <= 0:
        return not_spending(f"balance flat or rising over {duration_text(span)}")

    def known(
        seconds: float,
        p10: float,
        p90: float | None,
        path: tuple[tuple[float, float], ...] = ((now, floor),),
        decisive: float | None = None,
    ) -> Forecast:
        return Forecast(
            KNOWN,
            burn_per_hour=burn,
            seconds_to_floor=seconds,
            floor_at=now + seconds,
            readings=count,
            span_seconds=span,
            ignored=ignored,
            seconds_to_floor_p10=p10,
            seconds_to_floor_p90=p90,
            seconds_to_floor_decisive=decisive,
            model=_model_text(model),
            spend_by_weekday=model.by_weekday(),
            path=path,
            risk=risk,
        )

    if above <= 0:
        return known(0.0, 0.0, 0.0)
    runway = spending.Runway(model)
    walk = runway.likeliest
    limit = ahead + MAX_RUNWAY
    middle = runway.reach(above, 0.0, limit)
    if middle > limit:
        return not_spending(
            f"burning {_rate_text(burn)}: the floor is more than 10 years away", burn
        )
    early = runway.reach(above, Z90, limit)
    late = runway.reach(above, -Z90, limit)
    # Spending between two readings is spread over the gap, so when in a gap the floor comes
    # is unknown: the band is at least as wide as a typical gap.
    gap = span / (count - 1) / 2
    p10 = max(0.0, min(early, middle - gap) - ahead)
    p90 = None if late > limit else max(0.0, max(late, middle + gap) - ahead)
    expected = walk.credits_by(middle)
    pace = above / expected if expected > 0 else 1.0
    path = _path(
        walk, last_at=last_at, balance=last_balance, now=now, middle=middle, floor=floor, pace=pace
    )
    z = RISK_Z if risk == RISK else spending.z_of(risk)
    decisive = max(0.0, min(runway.reach(above, z, limit), middle - gap) - ahead)
    return known(max(0.0, middle - ahead), p10, p90, path, decisive)


def _model_text(model: spending.Model) -> str:
    """`weekly`, `weekly, growing 3%/day`, `daily average, shrinking 0.4%/day`, `recent
    average`: the pattern and the growth, each named only when the data tells it from none."""
    if not model.growing:
        return model.kind
    per_day = math.expm1(model.growth * 86_400.0)
    verb = "growing" if per_day > 0 else "shrinking"
    return f"{model.kind}, {verb} {abs(per_day):.{0 if abs(per_day) >= 0.01 else 1}%}/day"


def _path(
    walk: spending.Walk,
    *,
    last_at: float,
    balance: float,
    now: float,
    middle: float,
    floor: float,
    pace: float,
) -> tuple[tuple[float, float], ...]:
    """The projected balance from now to the floor, reached at `middle` after the newest
    reading, spending `pace` times the walk: at most PATH_POINTS points evenly spread in
    time, about one an hour for a short runway (times as Unix seconds)."""
    ahead = now - last_at
    if middle <= ahead:  # the floor came between the newest reading and now
        return ((now, floor),)
    count = min(PATH_POINTS, max(2, math.ceil((middle - ahead) / spending.HOUR) + 1))
    step = (middle - ahead) / (count - 1)
    points = [
        (now + i * step, balance - pace * walk.credits_by(ahead + i * step))
        for i in range(count - 1)
    ]
    points.append((last_at + middle, floor))
    return tuple((round(at, 3), round(value, 6)) for at, value in points)


def _check_settings(
    *,
    floor: float,
    now: float,
    window: float,
    min_readings: int,
    min_span: float,
    top_up_tolerance: float,
    risk: float,
) -> None:
    if not _is_number(floor) or abs(floor) > MAX_BALANCE:
        raise ValueError(f"floor must be a finite number within 1e15, got {floor!r}")
    if not _is_number(now) or not 0 <= now <= MAX_NOW:
        raise ValueError(f"now must be a Unix time between 1970 and 9000, got {now!r}")
    if not _is_number(window) or not 0 < window <= MAX_RUNWAY:
        raise ValueError(f"window must be above 0 and at most 10 years, got {window!r}")
    if isinstance(min_readings, bool) or not isinstance(min_readings, int):
        raise TypeError(f"min_readings must be a whole number, got {min_readings!r}")
    if not 2 <= min_readings <= MAX_FIT:
        raise ValueError(f"min_readings must be between 2 and {MAX_FIT}, got {min_readings}")
    if not _is_number(min_span) or not 0 <= min_span < window:
        raise ValueError(f"min_span must be at least 0 and below the window, got {min_span!r}")
    if not _is_number(top_up_tolerance) or top_up_tolerance < 0:
        raise ValueError(f"top_up_tolerance must be 0 or more, got {top_up_tolerance!r}")
    if not _is_number(risk) or not RISK_RANGE.low <= risk < RISK_RANGE.high:
        raise ValueError(
            f"risk must be a chance from {RISK_RANGE.low:g} up to, not including, "
            f"{RISK_RANGE.high:g}, got {risk!r}"
        )


def _is_number(value: object) -> bool:
    return finite_number(value) is not None


def _series(
    readings: Iterable[object], now: float, window: float
) -> tuple[list[tuple[float, float]], int]:
    """The trusted readings within the window, oldest first, and how many were refused."""
    start, latest = now - window, now + CLOCK_SKEW
    items = list(readings)
    usual = _usual(items, start, latest)
    if usual is not None:
        return usual, 0
    trusted: list[tuple[float, float]] = []
    keep = trusted.append
    ignored = 0
    for item in items:
        # The usual reading (a tuple of a float time and a float or int balance, as the API
        # and the history file give it, in range), checked inline; anything else in full.
        if isinstance(item, tuple) and len(item) == 2:
            at, balance = item
            if (
                type(at) is float
                and (type(balance) is float or type(balance) is int)
                and 0.0 <= at <= latest
                and -MAX_BALANCE <= balance <= MAX_BALANCE
            ):
                if at >= start:
                    keep((at, balance + 0.0))
                continue
        reading = _trusted(item, latest)
        if reading is None:
            ignored += 1
        elif reading[0] >= start:
            keep(reading)
    trusted.sort()
    times = [at for at, _ in trusted]  # plain floats: the closest neighbours, in one C loop
    if len(times) < 2 or min(map(operator.sub, times[1:], times)) >= _TICK:
        return trusted, ignored  # the usual case: no two readings within a millisecond
    trusted = sorted((round(t, 3), b) for t, b in trusted)
    series: list[tuple[float, float]] = []
    i, count = 0, len(trusted)
    while i < count:
        at, balance = trusted[i]
        j = i + 1
        while j < count and trusted[j][0] == at:
            j += 1
        if trusted[j - 1][1] == balance:  # sorted: the same balance first and last
            series.append((at, balance))
        else:
            ignored += j - i  # two balances at one time: neither is believed
        i = j
    return series, ignored


def _usual(items: list[Any], start: float, latest: float) -> list[tuple[float, float]] | None:
    """The series of `items` if every one is the usual reading (a tuple of a float time and a
    float or int balance, in range, as the history file gives them) and they come oldest
    first, a _TICK or more apart; else None (`_series` then checks each). The same checks as
    `_series`, but each over all the readings at once, in C loops."""
    if not items or not set(map(type, items)) <= _PAIR_TYPES or set(map(len, items)) != {2}:
        return None
    times, balances = zip(*items, strict=True)
    if set(map(type, times)) != {float} or not set(map(type, balances)) <= {float, int}:
        return None
    if len(times) > 1 and min(map(operator.sub, times[1:], times)) < _TICK:
        return None
    if not (
        min(balances) >= -MAX_BALANCE
        and max(balances) <= MAX_BALANCE
        and math.isfinite(sum(times) + sum(balances))  # no nan (which comparisons let by)
        and times[0] >= 0.0  # the times are in order, as just checked
        and times[-1] <= latest
    ):
        return None
    first = bisect.bisect_left(times, start)
    kept = balances[first:]
    # Floats, -0.0 and 0.0 one balance: `balance + 0.0` as `_series`, or where no balance is
    # 0, float() (the same numbers, cheaper).
    floats = map(float, kept) if 0 not in kept else map(operator.add, kept, itertools.repeat(0.0))
    return list(zip(times[first:], floats, strict=True))


#: The types of a reading `_usual` takes (a tuple, or a Reading, which is one).
_PAIR_TYPES = frozenset((tuple, Reading))


def _trusted(item: object, latest: float) -> tuple[float, float] | None:
    """`item` as `(at, balance)` floats, or None when it is not a reading we can believe."""
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        return None
    at, balance = item
    if type(at) is float and type(balance) is float:  # the usual case, checked quickly
        if not (math.isfinite(at) and math.isfinite(balance)):
            return None
    else:
        at, balance = finite_number(at), finite_number(balance)
        if at is None or balance is None:
            return None
    if not 0 <= at <= latest or abs(balance) > MAX_BALANCE:
        return None
    # + 0.0 makes -0.0 and 0.0 one balance.
    return at, balance + 0.0


def parse_duration(text: str) -> float:
    """Seconds in a duration such as `45s`, `90m`, `36h`, `3d`, `2w` or `1.5d`.

    ASCII digits (an optional decimal point) then one unit, lower case; from 1 second to
    365 days. ValueError says what is wrong without echoing the text: the caller quotes it
    (sanitized) if it shows it.
    """
    if not isinstance(text, str):  # a YAML number: one error type for every bad config value
        raise ValueError("a duration must be text, like 90m, 36h or 3d")  # noqa: TRY004
    stripped = text.strip()
    if len(stripped) > MAX_DURATION_TEXT:
        raise ValueError("too long to be a duration (like 90m, 36h or 3d)")
    number, unit = stripped[:-1], stripped[-1:]
    if unit not in _UNITS:
        raise ValueError("a duration needs a unit: s, m, h, d or w (like 90m, 36h or 3d)")
    whole, _, fraction = number.partition(".")
    if (
        not whole + fraction
        or not set(whole + fraction) <= _DIGITS
        or (number.endswith(".") and not fraction)
    ):
        raise ValueError("a duration is a number then a unit, like 90m, 36h or 3d")
    seconds = float(number) * _UNITS[unit]
    if not 1 <= seconds <= MAX_DURATION:
        raise ValueError("a duration must be at least 1s and at most 365d")
    return seconds


def describe(result: Forecast, now: float) -> str:
    """The forecast as a phrase for a status line, e.g. `burning ~120/day, floor in ~3.3 days
    (Thu 3 Dec 14:00 UTC; likely Wed 2 Dec to Fri 4 Dec)`, `not spending (balance flat or rising
    over 2 days)` or `runway unknown: only 2 readings (need 3)`. The year is shown when it is
    not `now`'s; the band (P10-P90) when the forecast has one."""
    if result.status == KNOWN and result.burn_per_hour is not None:
        rate = f"burning {_rate_text(result.burn_per_hour)}"
        if not result.seconds_to_floor or result.floor_at is None:
            return f"{rate}, at or below the floor"
        when = _date_text(result.floor_at, now)
        band = band_text(result, now)
        band = f"; {band}" if band else ""
        return f"{rate}, floor in {duration_text(result.seconds_to_floor)} ({when}{band})"
    if result.status == NOT_SPENDING:
        return f"not spending ({result.reason})" if result.reason else "not spending"
    return f"runway unknown: {result.reason}" if result.reason else "runway unknown"


def decisive_seconds(result: Forecast) -> float | None:
    """The time to the floor that a limit (`--min-runway`, `--warn-runway`, an alert's runway
    rule) is compared with (`seconds_to_floor_decisive`): the time by which the floor has the
    forecast's `risk` chance (by default RISK, 1 in 5) of coming. One rule for every amount of
    data: a limit fails when that chance is at least the risk. A result built without it
    compares its forecast. None unless KNOWN."""
    if result.status != KNOWN or result.seconds_to_floor is None:
        return None
    decisive = result.seconds_to_floor_decisive
    return result.seconds_to_floor if decisive is None else decisive


def risk_text(result: Forecast, now: float) -> str:
    """Why a limit failed, in the numbers the line shows: `a 1-in-5 chance of reaching the
    floor by Fri 11 Dec` (what limits compare: `decisive_seconds`; the chance is the risk the
    forecast was made with: `1-in-20`, `15%`)."""
    seconds = decisive_seconds(result)
    if seconds is None:
        return ""
    if seconds <= 0:
        return "at the floor already"
    words = RISK_TEXT if result.risk == RISK else chance_text(result.risk)
    return f"a {words} chance of reaching the floor by {_day_text(now + seconds, now)}"


def band_text(result: Forecast, now: float) -> str:
    """`likely Wed 2 Dec to Fri 4 Dec` (P10 to P90, by day), `likely Thu 3 Dec`, `likely after Wed
    2 Dec` (P90 beyond 10 years), or "" without a band."""
    early, late = result.seconds_to_floor_p10, result.seconds_to_floor_p90
    if result.status != KNOWN or early is None:
        return ""
    first = _day_text(now + early, now)
    if late is None:
        return f"likely after {first}"
    last = _day_text(now + late, now)
    return f"likely {first}" if first == last else f"likely {first} to {last}"


def duration_text(seconds: float) -> str:
    """`~40 s`, `~45 min`, `~5.5 hours`, `~3.3 days`, `~12 days`: two significant figures."""
    if seconds < 60:
        return f"~{_approx(seconds)} s"
    if seconds < 3_600:
        return f"~{_approx(seconds / 60)} min"
    if seconds < 2 * 86_400:
        return f"~{_approx(seconds / 3_600)} hours"
    return f"~{_approx(seconds / 86_400)} days"


def _dur(seconds: float) -> str:
    """A setting's duration, exact: `1 h`, `90 min`, `3 days`."""
    for size, unit in ((86_400, "days"), (3_600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return f"{seconds:g} s"


def _rate_text(per_hour: float) -> str:
    """Per day, unless a day's figure would reach 1000: then per hour."""
    per_day = per_hour * 24
    return f"~{_approx(per_day)}/day" if per_day < 1_000 else f"~{_approx(per_hour)}/hour"


def _approx(value: float) -> str:
    """Two significant figures, as a person would say it: 120, 12, 3.3, 0.52."""
    if value >= 10:
        return str(round(value))
    if value >= 1:
        return f"{value:.1f}".removesuffix(".0")
    return f"{value:.2g}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def iso_utc(at: float) -> str:
    """Unix time as ISO 8601 UTC to the nearest second, e.g. `2025-12-03T14:00:00Z`."""
    days, second = divmod(round(at), 86_400)
    year, month, day = _civil(days)
    hour, rest = divmod(second, 3_600)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def _day_text(at: float, now: float) -> str:
    """`Thu 3 Dec`, with the year when it is not `now`'s."""
    return _date_text(at, now).rsplit(" ", 2)[0]


def _date_text(at: float, now: float) -> str:
    """`Thu 3 Dec 14:00 UTC` (to the nearest minute), with the year when it is not `now`'s."""
    days, second = divmod(round(at / 60) * 60, 86_400)
    year, month, day = _civil(days)
    shown_year = "" if year == _civil(int(now) // 86_400)[0] else f" {year}"
    hour, rest = divmod(second, 3_600)
    weekday = _DAYS[(days + 3) % 7]  # 1 Jan 1970 was a Thursday
    return f"{weekday} {day} {_MONTHS[month - 1]}{shown_year} {hour:02d}:{rest // 60:02d} UTC"


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1 Jan 1970 (H. Hinnant's `civil_from_days`)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day
