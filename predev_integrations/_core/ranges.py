"""Numbers from outside (flags, YAML, JSON, cache files, DAGs, connections), checked by one rule.

Every door that takes a number (the CLI's flags, the config file, the Airflow operator, sensor,
triggers and connection) asks `number_value` (or, for a flag's text, `number_from_text`), so
NaN, the infinities, booleans and text that is no number are refused alike everywhere. A floor
of NaN matters most: nothing is below NaN, so it would open the gate for every balance.

A number is compared with its bounds exactly (Python compares a huge int with a float without
converting it), so an integer literal beyond float range is just "out of range", never an
OverflowError; text is refused before it is long enough to be slow to parse.

The gate's risk (`--runway-risk`, `runway-risk`, `runway_risk`) is a chance, not a plain
number: `risk_from_text` and `risk_value` are its one rule (bounds `RISK`), and `chance_text`
says it back as a user would write it.
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from .sanitize import brief, quote

#: Text longer than this is not a number anyone meant to type.
MAX_NUMBER_TEXT = 40


class Range:
    """Accepted values: `low <= v <= high` (`low` excluded when `above`), whole if `integer`.

    A plain class, not a NamedTuple or dataclass: the CLI imports this on every run, and
    `typing` or `dataclasses` would cost it a few milliseconds.
    """

    __slots__ = ("above", "high", "integer", "low")

    def __init__(
        self, low: float, high: float, *, above: bool = False, integer: bool = False
    ) -> None:
        self.low = low
        self.high = high
        self.above = above
        self.integer = integer

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low = f"above {_show(self.low)}" if self.above else f">= {_show(self.low)}"
        return f"{kind} {low} and <= {_show(self.high)}"


def _show(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


#: The bounds of every number the user or the API gives us.
CREDITS = Range(0, 1e15)
#: A top-up worth an event: some credits, at most as many as a floor may be.
INCREASE = Range(0, 1e15, above=True)
SECONDS = Range(0, 86_400, above=True)
#: Seconds between readings: 0 (as often as Airflow's sensors allow) up to a year; a watcher
#: that never ends must wait between readings, so its interval is `WATCH`.
POKE = Range(0, 365 * 86_400)
WATCH = Range(0, 365 * 86_400, above=True)
TTL = Range(0, 365 * 86_400)
#: A runway worth an alert (`min_runway`, seconds): above 0, at most a year, as a duration.
RUNWAY = Range(0, 365 * 86_400, above=True)
RETRIES = Range(0, 100, integer=True)
#: A balance the API reports; a real one is far smaller, a bigger one is a broken server.
BALANCE = Range(-1e15, 1e15)
#: The gate's risk (`--runway-risk`): the chance of the floor coming within a runway limit at
#: which the limit fails. From 1 in 100 up to, not including, 1 in 2: a risk of a half or more
#: would put the limit's time at or after the forecast itself (the median), which no gate
#: means; below 1 in 100 the time is set by the model's tails, not by the team's spending.
RISK = Range(0.01, 0.5)  # `high` excluded: `_risk_requirement` is the risk's rule
#: How a risk is written, for every error about one.
RISK_FORMS = "like 1-in-10, 10% or 0.1"
#: The risk's bounds in words.
RISK_BOUNDS = "from 1-in-100 (1%) up to, not including, 1-in-2 (50%)"
#: Text longer than this is not a chance anyone meant to type.
MAX_RISK_TEXT = 20
_RISK_DIGITS = frozenset("0123456789.")


def _requirement(value: object, bounds: Range) -> str | None:
    """What `value` must be, or None when it is: the one rule, for a parsed value."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be {bounds.describe()}"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if bounds.integer and not isinstance(value, int):
        return f"must be {bounds.describe()}"
    too_low = value <= bounds.low if bounds.above else value < bounds.low
    if too_low or value > bounds.high:
        return f"must be {bounds.describe()}"
    return None


def range_problem(value: object, bounds: Range) -> str | None:
    """Why `value` is not acceptable (naming it briefly), or None when it is."""
    requirement = _requirement(value, bounds)
    return None if requirement is None else f"{requirement}, got {brief(value)}"


def _parse(text: str, bounds: Range) -> int | float:
    """A number's text as an int (exact, however large) or a float; ValueError says why not.

    ASCII only: `int()` and `float()` take any Unicode digit (fullwidth U+FF15 U+FF10 is 50),
    which no one types on purpose and a reviewer reads as something else.
    """
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_TEXT:
        raise ValueError(f"{quote(text)} is too long to be a number")
    if not stripped.isascii():
        raise ValueError(f"{quote(text)} is not a number (digits 0-9 only)")
    try:
        return int(stripped)
    except ValueError:
        if bounds.integer:
            raise ValueError(f"{quote(text)} is not a whole number") from None
    try:
        return float(stripped)
    except ValueError:
        raise ValueError(f"{quote(text)} is not a number") from None


def number_from_text(text: str, bounds: Range) -> int | float:
    """Parse a flag's text as a number within `bounds`; ValueError says why not."""
    value = _parse(text, bounds)
    requirement = _requirement(value, bounds)
    if requirement is not None:
        raise ValueError(f"{quote(text)} {requirement}")
    return value


def number_value(
    value: object, name: str, bounds: Range = CREDITS, *, text_ok: bool = False
) -> int | float:
    """`value` if it is a number within `bounds`, else `ConfigError`: "{name} must be ..., got ...".

    `text_ok` also takes a number's text (a rendered template, a JSON string), parsed as a
    flag is; anywhere else text is refused, as are booleans, NaN and the infinities.
    """
    parsed = value
    if text_ok and isinstance(value, str):
        try:
            parsed = _parse(value, bounds)
        except ValueError:
            parsed = None  # refused below, naming the text as given
    requirement = _requirement(parsed, bounds)
    if requirement is not None:
        raise ConfigError(f"{name} {requirement}, got {brief(value)}.")
    assert isinstance(parsed, (int, float))
    return parsed


def chance_text(chance: float) -> str:
    """A chance as a person says it: `1-in-5` when one over it is a whole number, else a
    percentage (`15%`, `12.5%`)."""
    tries = 1 / chance
    if abs(tries - round(tries)) < 1e-9:
        return f"1-in-{round(tries)}"
    return f"{round(chance * 100, 2):g}%"


def _risk_requirement(value: object) -> str | None:
    """What a parsed risk must be, or None when it is (a float within `RISK`, high excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a chance {RISK_FORMS}"
    # Compared exactly: a huge int is just out of range (math.isfinite would overflow on it).
    if (isinstance(value, float) and not math.isfinite(value)) or not (
        RISK.low <= value < RISK.high
    ):
        return f"must be a chance {RISK_BOUNDS}, {RISK_FORMS}"
    return None


def _risk_number(text: str) -> float:
    """`0.1`, `10%` or `1-in-10` (also `1 in 10`) as a float; ValueError for anything else.

    Digits and one decimal point only, so `nan`, `inf`, `1e-1`, `1_0` and Unicode digits,
    which `float()` would take, are refused; short text only."""
    stripped = text.strip()
    if len(stripped) > MAX_RISK_TEXT:
        raise ValueError(f"{quote(text)} is too long to be a chance ({RISK_FORMS})")
    lowered = stripped.lower()
    if lowered.startswith(("1-in-", "1 in ")):
        body, scale = lowered[5:].strip(), None
    elif lowered.endswith("%"):
        body, scale = lowered[:-1].strip(), 100.0
    else:
        body, scale = lowered, 1.0
    whole, _, fraction = body.partition(".")
    if not whole + fraction or not set(body) <= _RISK_DIGITS or body.count(".") > 1:
        raise ValueError(f"{quote(text)} is not a chance ({RISK_FORMS})")
    number = float(body)
    if scale is None:  # 1 in N
        if number == 0:
            raise ValueError(f"{quote(text)} is not a chance: 1 in 0 ({RISK_FORMS})")
        return 1 / number
    return number / scale


def risk_from_text(text: str) -> float:
    """A flag's risk (`1-in-10`, `10%`, `0.1`) as a chance within `RISK`; ValueError says why
    not, in one line naming the text (quoted, cut short)."""
    value = _risk_number(text)
    requirement = _risk_requirement(value)
    if requirement is not None:
        raise ValueError(f"{quote(text)} {requirement}")
    return value


def risk_value(value: object, name: str) -> float:
    """`value` (a number, or text as a flag takes it) as a risk within `RISK`, else
    `ConfigError`: "{name} must be a chance ..., got ..."."""
    parsed: object = value
    if isinstance(value, str):
        try:
            parsed = _risk_number(value)
        except ValueError:
            problem = f"must be a chance {RISK_FORMS}, got {quote(value)}"
            raise ConfigError(f"{name} {problem}.") from None
    requirement = _risk_requirement(parsed)
    if requirement is not None:
        raise ConfigError(f"{name} {requirement}, got {brief(value)}.")
    assert isinstance(parsed, (int, float))
    return float(parsed)
