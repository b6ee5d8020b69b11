"""Numbers from outside (flags, YAML, JSON, cache files), parsed with their range checked.

A number is compared with its bounds exactly (Python compares a huge int with a float without
converting it), so an integer literal beyond float range is just "out of range", never an
OverflowError; text is refused before it is long enough to be slow to parse.
"""

from __future__ import annotations

import math

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
SECONDS = Range(0, 86_400, above=True)
TTL = Range(0, 365 * 86_400)
RETRIES = Range(0, 100, integer=True)
#: A balance the API reports; a real one is far smaller, a bigger one is a broken server.
BALANCE = Range(-1e15, 1e15)


def range_problem(value: object, bounds: Range) -> str | None:
    """Why `value` is not acceptable (naming it briefly), or None when it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be {bounds.describe()}, got {brief(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {brief(value)}"
    if bounds.integer and not isinstance(value, int):
        return f"must be {bounds.describe()}, got {brief(value)}"
    too_low = value <= bounds.low if bounds.above else value < bounds.low
    if too_low or value > bounds.high:
        return f"must be {bounds.describe()}, got {brief(value)}"
    return None


def number_from_text(text: str, bounds: Range) -> int | float:
    """Parse a flag's text as a number within `bounds`; ValueError says why not.

    ASCII only: `int()` and `float()` take any Unicode digit (fullwidth U+FF15 U+FF10 is 50), which
    no one types on purpose and a reviewer reads as something else.
    """
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_TEXT:
        raise ValueError(f"{quote(text)} is too long to be a number")
    if not stripped.isascii():
        raise ValueError(f"{quote(text)} is not a number (digits 0-9 only)")
    value: int | float
    try:
        value = int(stripped)
    except ValueError:
        if bounds.integer:
            raise ValueError(f"{quote(text)} is not a whole number") from None
        try:
            value = float(stripped)
        except ValueError:
            raise ValueError(f"{quote(text)} is not a number") from None
    problem = range_problem(value, bounds)
    if problem is not None:
        raise ValueError(f"{quote(text)} {problem.split(', got ')[0]}")
    return value
