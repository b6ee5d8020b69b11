"""`predev-credits-check --show-history`: the recorded readings in the terminal.

A table of the newest readings, a one-line sparkline of them all and the fitted burn rate with
the runway it gives. No request is made: the key only names the history file. Every number
shown was parsed and bounded by `history.parse`; dates are formatted by us.
"""

from __future__ import annotations

import time

from .._core.forecast import describe, duration_text, forecast, iso_utc
from .._core.outcome import number
from .._core.runway import sparkline
from . import cache, history

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, TextIO

    from .._core.secret import Secret

#: Rows of the table; older readings are counted, not listed (the sparkline has them all).
MAX_ROWS = 30
#: For terminals that cannot print the block characters.
ASCII_BARS = "_.-~=+*#"


def show(args: argparse.Namespace, key: Secret, settings: dict[str, Any], out: TextIO) -> int:
    """Print the history for `key` and the base URL the flags name; exit 0."""
    from .settings import base_url_setting

    base_url = base_url_setting(args.base_url)
    directory = cache.location(cache.cache_dir())
    path = history.history_path(directory, base_url, key) if directory is not None else None
    readings = history.load(path) if path is not None else []
    now = time.time()
    result = forecast(readings, settings["min_credits"], now=now, risk=settings["runway_risk"])
    if args.format == "json":
        import json

        rows = [{"at": iso_utc(at), "balance": balance} for at, balance in readings]
        data = {
            "readings": rows,
            "runway": result.to_json(),
            "min_credits": settings["min_credits"],
        }
        print(json.dumps(data), file=out)
        return 0
    print(render(readings, result, settings["min_credits"], now, _bars(out)), file=out)
    return 0


def _bars(out: TextIO) -> str | None:
    """None (the block characters) when `out` can print them, else ASCII_BARS."""
    try:
        "▁█".encode(getattr(out, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_BARS
    return None


def render(
    readings: history.Readings, result: Any, floor: float, now: float, bars: str | None = None
) -> str:
    """The table, the sparkline and the rate, as lines of text."""
    if not readings:
        return (
            "pre.dev credit history: no readings recorded yet for this key and base URL.\n"
            "Each live check records one (not cache hits, not with --no-history)."
        )
    lines = [
        f"pre.dev credit history: {len(readings)} readings (floor {number(floor)})",
        f"{'When (UTC)':<19}  {'Balance':>12}  {'Change':>10}",
    ]
    shown = readings[-MAX_ROWS:]
    if len(readings) > len(shown):
        lines.append(f"... {len(readings) - len(shown)} older readings not listed")
    previous = readings[-len(shown) - 1][1] if len(readings) > len(shown) else None
    for at, balance in shown:
        change = "" if previous is None else _signed(balance - previous)
        when = iso_utc(at).replace("T", " ").removesuffix("Z")
        lines.append(f"{when:<19}  {number(balance):>12}  {change:>10}".rstrip())
        previous = balance
    line = sparkline([balance for _, balance in readings])
    if bars is not None:
        line = line.translate(str.maketrans("▁▂▃▄▅▆▇█", bars))
    first, last = readings[0], readings[-1]
    span = duration_text(last[0] - first[0]) if last[0] > first[0] else "one moment"
    lines.append(f"{line}  {number(first[1])} -> {number(last[1])} over {span}")
    rate = "" if result.burn_per_hour is None else f"{result.burn_per_hour:.4g} credits/hour; "
    lines.append(f"Fitted rate: {rate}{describe(result, now)}.")
    pattern = pattern_line(result)
    if pattern:
        lines.append(pattern)
    return "\n".join(lines)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def pattern_line(result: Any) -> str | None:
    """`Pattern: weekly; spend by weekday (UTC): Mon 120 Tue 5 ... Sun 0.`: what the forecast
    found (its model, and credits spent per UTC weekday when the history covers enough);
    None when it found neither. The band is in `describe`'s phrase, not here."""
    parts = []
    if result.model:
        parts.append(f"Pattern: {result.model}")
    days = result.spend_by_weekday
    if days is not None and len(days) == len(_WEEKDAYS):
        spend = " ".join(f"{day} {_amount(v)}" for day, v in zip(_WEEKDAYS, days, strict=True))
        parts.append(f"spend by weekday (UTC): {spend}")
    if not parts:
        return None
    line = "; ".join(parts)
    return line[0].upper() + line[1:] + "."


def _amount(value: float) -> str:
    """Credits as a person reads them: 120, 5.5, 0.25."""
    if abs(value) >= 10:
        return number(round(value))
    return number(float(f"{value:.2g}"))


def _signed(change: float) -> str:
    if change == 0:
        return "0"
    text = number(round(change, 6))
    return text if change < 0 else f"+{text}"
