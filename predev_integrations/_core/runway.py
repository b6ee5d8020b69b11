"""What a runway forecast means for one check, and the history drawn small. Pure.

`runway_verdict` is the floor logic for time: a KNOWN runway within `--min-runway` is LOW (the
check fails like a low balance), within `--warn-runway` is WARN. An UNKNOWN or NOT_SPENDING
runway never changes the verdict: too little data must never page anyone.
"""

from __future__ import annotations

from .forecast import decisive_seconds
from .verdict import Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .forecast import Forecast

#: Eight heights, lowest first; a sparkline is one line of them.
BARS = "▁▂▃▄▅▆▇█"
#: The most points a sparkline or chart shows; longer histories are sampled evenly.
MAX_POINTS = 60


def runway_verdict(
    result: Forecast | None, min_runway: float | None, warn_runway: float | None
) -> Verdict:
    """LOW when the floor is `min_runway` seconds away or less, WARN within `warn_runway`, else
    OK; OK whenever the runway is not KNOWN (unknown never fails a check). The time compared
    is `forecast.decisive_seconds` (by which the floor has a 1-in-5 chance of coming)."""
    seconds = None if result is None else decisive_seconds(result)
    if seconds is None:
        return Verdict.OK
    if min_runway is not None and seconds <= min_runway:
        return Verdict.LOW
    if warn_runway is not None and seconds <= warn_runway:
        return Verdict.WARN
    return Verdict.OK


def worse(a: Verdict, b: Verdict) -> Verdict:
    """The graver of two verdicts: LOW over WARN over OK."""
    order = (Verdict.OK, Verdict.WARN, Verdict.LOW)
    return a if order.index(a) >= order.index(b) else b


def sample(
    values: Sequence[tuple[float, float]], limit: int = MAX_POINTS
) -> list[tuple[float, float]]:
    """At most `limit` items, evenly spread, always keeping the first and the last."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / (limit - 1)
    return [values[round(i * step)] for i in range(limit)]


def sparkline(balances: Sequence[float], limit: int = MAX_POINTS) -> str:
    """`▇▆▆▅▃▁`: one character per balance (sampled down to `limit`), scaled between the lowest
    and the highest; a flat series is a flat middle line."""
    points = [b for _, b in sample([(0.0, b) for b in balances], limit)]
    if not points:
        return ""
    low, high = min(points), max(points)
    if high == low:
        return BARS[3] * len(points)
    top = len(BARS) - 1
    return "".join(BARS[round((b - low) / (high - low) * top)] for b in points)
