"""The step's outputs and its job summary: only our own words and numbers, in GitHub Markdown."""

from __future__ import annotations

import itertools
import math
import os

from .._core.outcome import Outcome, number, runway_phrase
from .._core.sanitize import clean
from .._core.verdict import ERROR, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .._core.forecast import Forecast

_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-!|~")


def markdown(text: str) -> str:
    """Text that renders as itself in GitHub Markdown: no HTML, links, images or comments.

    Expects a `clean` line. HTML metacharacters become entities; Markdown punctuation is
    backslash-escaped (GitHub honours a backslash before any ASCII punctuation).
    """
    out: list[str] = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch in _MARKDOWN_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def github_outputs(outcome: Outcome, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Step outputs: our own words and numbers only, each one line (`name=value` format).

    `env` (default: the process's) tells an Action run that may not fire the alert.
    """
    from . import alert

    return {
        "credits-remaining": number(outcome.balance) if outcome.status != ERROR else "",
        "status": outcome.status,
        "sufficient": "true" if outcome.sufficient else "false",
        **runway_outputs(outcome),
        **alert.outputs(outcome, os.environ if env is None else env),
        **need_outputs(outcome),
    }


def need_outputs(outcome: Outcome) -> dict[str, str]:
    """`need` (the need's credits) and `shortfall` (credits missing for the floor plus it, 0
    when enough, empty when the balance is unknown); none at all without a need."""
    if outcome.need is None:
        return {}
    shortfall = outcome.shortfall
    return {
        "need": number(outcome.need.credits),
        "shortfall": "" if shortfall is None else number(shortfall),
    }


def runway_outputs(outcome: Outcome) -> dict[str, str]:
    """`runway-hours` with its band (`-p10`, `-p90`: the early and late ends, known runways
    only) and `burn-per-hour` (a fitted rate, 0 when not spending); each empty when unknown."""
    from .._core.forecast import KNOWN

    result = outcome.runway
    hours = early = late = burn = ""
    if result is not None and result.burn_per_hour is not None:
        burn = _plain(result.burn_per_hour)
        if result.status == KNOWN and result.seconds_to_floor is not None:
            hours = _plain(result.seconds_to_floor / 3_600)
            early, late = (
                _plain(seconds / 3_600) if seconds is not None and _finite(seconds) else ""
                for seconds in (result.seconds_to_floor_p10, result.seconds_to_floor_p90)
            )
    return {
        "runway-hours": hours,
        "runway-hours-p10": early,
        "runway-hours-p90": late,
        "burn-per-hour": burn,
    }


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


def _cell(text: str) -> str:
    """Text for the summary's Markdown: one line, no HTML, links, images or comments."""
    return markdown(clean(text, limit=1000))


def github_summary(outcome: Outcome, env: Mapping[str, str] | None = None) -> str:
    """The job summary: the verdict table, the alert, the runway and the chart, in Markdown."""
    from . import alert

    env = os.environ if env is None else env
    link = alert.topup_url(outcome, env)
    icon = {Verdict.OK.value: "✅", Verdict.WARN.value: "⚠️"}.get(outcome.status, "❌")
    balance = number(outcome.balance) if outcome.balance is not None else "unknown"
    warn = number(outcome.warn_below) if outcome.warn_below is not None else "—"
    lines = [
        "### pre.dev credits",
        "",
        "| Balance | Floor | Warn below | Verdict |",
        "| --- | --- | --- | --- |",
        f"| {balance}{' (cached)' if outcome.cached else ''} | {number(outcome.min_credits)} "
        f"| {warn} | {icon} {outcome.status} |",
    ]
    lines += _need_lines(outcome)
    if outcome.error:
        lines += ["", f"**Error:** {_cell(outcome.error)}"]
    elif outcome.status == Verdict.LOW:
        lines += ["", f"Top up at <{link}> before generating specs."]
    lines += _alert_lines(outcome, env, link)
    lines += _runway_lines(outcome)
    return "\n".join(lines) + "\n\n"


def _need_lines(outcome: Outcome) -> list[str]:
    """With a need: what the balance was enough (or short) for, in specs."""
    need, shortfall = outcome.need, outcome.shortfall
    if need is None or shortfall is None:
        return []
    from .._core.need import enough_phrase, short_phrase

    floor = outcome.min_credits
    said = short_phrase(need, shortfall, floor) if shortfall else enough_phrase(need, floor)
    return ["", f"**Need:** {_cell(said[0].upper() + said[1:])}."]


def _alert_lines(outcome: Outcome, env: Mapping[str, str], link: str) -> list[str]:
    """What the low-credit alert did on this run, when one is configured (or held)."""
    from . import alert

    reason = alert.held(env)
    fields = alert.fields(outcome)
    if reason is not None:
        if fields is None and not alert.configured(env):
            return []
        return ["", f"**Low-credit alert:** not checked on this run: {markdown(reason)}"]
    if fields is None:
        return []
    said = alert.outputs(outcome, env)
    rearm = alert.number_field(fields, "rearm_above")
    again = f" above {rearm}" if rearm else ""
    if said["alert"] == "true":
        text = markdown(said["alert-message"]).replace(markdown(link), f"<{link}>")
        return [
            "",
            f"**🔔 Low-credit alert fired on this run:** {text}",
            "",
            f"It stays quiet until the balance is back{again} (outputs `alert=true`).",
        ]
    if said["recovered"] == "true":
        return [
            "",
            f"**✅ Low-credit alert recovered on this run:** {markdown(said['alert-message'])}",
        ]
    if fields.get("stateful") is False:
        return [
            "",
            "**Low-credit alert:** off: without a history no run can tell the run that "
            "crossed the threshold from the runs after it.",
        ]
    if fields.get("active") is True:
        return [
            "",
            f"**Low-credit alert:** sent on an earlier run; quiet until the balance is "
            f"back{again}. Top up at <{link}>.",
        ]
    return ["", "**Low-credit alert:** armed; nothing to report."]


def _runway_lines(outcome: Outcome) -> list[str]:
    """The runway in words, the history as a one-line sparkline, and a Mermaid line chart of
    the balance with the floor and the projection. Every value is a number we parsed and
    bounded, or a date or a phrase we formatted: nothing from outside is quoted."""
    from .._core.runway import sparkline

    lines: list[str] = []
    phrase = runway_phrase(outcome)
    if phrase is not None:
        lines += ["", f"**Runway:** {_cell(phrase)}."]
    readings = outcome.history or []
    if len(readings) >= 2:
        first, last = readings[0], readings[-1]
        spark = sparkline([balance for _, balance in readings])
        lines += [
            "",
            f"Balance over the last {len(readings)} readings: `{spark}` "
            f"{number(first[1])} → {number(last[1])}",
        ]
        chart = balance_chart(readings, outcome.min_credits, outcome.runway)
        if chart:
            lines += ["", *chart]
    return lines


#: Grid steps a chart may use (seconds): round ones, so the axis labels are round times.
GRID_STEPS = (
    *(1, 2, 5, 10, 15, 30),
    *(60 * m for m in (1, 2, 5, 10, 15, 30)),
    *(3_600 * h for h in (1, 2, 3, 6, 12)),
    *(86_400 * d for d in (1, 2, 7, 14, 28)),
)
#: Most points a chart has (Mermaid draws one x-axis label per point).
MAX_GRID_POINTS = 48
#: The projection is drawn at most this many times the history's span ahead (at least a day).
MAX_AHEAD_SHARE = 3.0
#: ... and at least this far (seconds), so a runway of days reaches the floor in the chart.
MIN_AHEAD = 7 * 86_400.0


def balance_chart(
    readings: Sequence[tuple[float, float]], floor: float, runway: Forecast | None = None
) -> list[str]:
    """A Mermaid `xychart-beta` of the balance on an even time grid, and the floor.

    Mermaid spaces the points of a line evenly whatever their labels say, so the readings are
    first put on a grid of round, evenly spaced times (the balance interpolated between
    readings). A known runway carries the line on past the newest reading along the expected
    path to the floor (`Forecast.path`), and, when the forecast has a band, two more lines
    reach the floor at its early (P10) and late (P90) ends. Mermaid cannot start a line
    mid-chart, so those lines share the balance's past and fan out from the newest reading.
    """
    history = _clean_readings(readings)
    if len(history) < 2 or not math.isfinite(floor):
        return []
    start, now = history[0][0], history[-1][0]
    ahead = _projections(history, floor, runway)
    end = now
    if ahead:
        horizon = now + max((now - start) * MAX_AHEAD_SHARE, MIN_AHEAD)
        end = min(max(path[-1][0] for _, path in ahead), horizon)
    grid = _grid(start, end, past_end=bool(ahead))
    if len(grid) < 2:
        return []
    lines = [(name, [_at(path, t) for t in grid]) for name, path in ahead] or [
        ("balance", [_at(history, t) for t in grid])
    ]
    values = [value for _, points in lines for value in points]
    low, high = min(*values, floor), max(*values, floor)
    pad = (high - low) * 0.1 or 1
    labels = ", ".join(f'"{label}"' for label in _grid_labels(grid))
    chart = [
        "```mermaid",
        "xychart-beta",
        '    title "pre.dev credits (UTC)"',
        f"    x-axis [{labels}]",
        f'    y-axis "credits" {_plain(max(0.0, low - pad) if low >= 0 else low - pad)} --> '
        f"{_plain(high + pad)}",
        *(f"    line [{', '.join(_plain(value) for value in points)}]" for _, points in lines),
        f"    line [{', '.join(_plain(floor) for _ in grid)}]",
        "```",
        "",
    ]
    return [*chart, _caption(grid, now, floor, [name for name, _ in ahead], end < _last(ahead))]


def _clean_readings(readings: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Finite readings, sorted by time, one per time (the last one given wins)."""
    by_time: dict[float, float] = {}
    for at, balance in readings:
        if math.isfinite(at) and math.isfinite(balance):
            by_time[float(at)] = float(balance)
    return sorted(by_time.items())


def _last(ahead: list[tuple[str, list[tuple[float, float]]]]) -> float:
    return max((path[-1][0] for _, path in ahead), default=-math.inf)


def _projections(
    history: list[tuple[float, float]], floor: float, runway: Forecast | None
) -> list[tuple[str, list[tuple[float, float]]]]:
    """(name, points) of each projected line, history first: `expected` along the forecast's
    path, then `early` and `late` straight to the floor at the band's ends. [] unless KNOWN."""
    from .._core.forecast import KNOWN

    if runway is None or runway.status != KNOWN:
        return []
    seconds, floor_at = runway.seconds_to_floor, runway.floor_at
    if not _finite(seconds) or floor_at is None or not math.isfinite(floor_at):
        return []
    assert seconds is not None
    now = history[-1][0]
    made = floor_at - seconds  # when the forecast was made; its path starts there
    path = [
        (float(at), float(balance))
        for at, balance in runway.path
        if math.isfinite(at) and math.isfinite(balance) and at > now
    ]
    if not path:
        path = [(max(floor_at, now + 1.0), floor)]
    lines = [("expected", [*history, *path])]
    band = (("early", runway.seconds_to_floor_p10), ("late", runway.seconds_to_floor_p90))
    for name, other in band:
        if other is not None and _finite(other) and made + other > now:
            lines.append((name, [*history, (made + other, floor)]))
    return lines


def _grid(start: float, end: float, *, past_end: bool = False) -> list[float]:
    """Evenly spaced round times from `start` to `end`: the smallest GRID_STEPS step that
    needs at most MAX_GRID_POINTS points, on multiples of it (UTC), none before `start`;
    with `past_end`, one more point at or after `end` (a projection drawn to its end)."""
    span = end - start
    if not span > 0:
        return []
    step = next(
        (s for s in GRID_STEPS if span / s <= MAX_GRID_POINTS - 2),
        span / (MAX_GRID_POINTS - 2),
    )
    first = math.ceil(start / step) * step
    count = int((end - first) // step) + 1
    if past_end and first + (count - 1) * step < end:
        count += 1
    return [first + i * step for i in range(max(count, 0))]


def _at(points: list[tuple[float, float]], at: float) -> float:
    """The balance at `at` on the line through `points` (sorted by time), held at the ends."""
    if at <= points[0][0]:
        return points[0][1]
    for (t0, b0), (t1, b1) in itertools.pairwise(points):
        if at <= t1:
            return b0 + (b1 - b0) * (at - t0) / (t1 - t0) if t1 > t0 else b1
    return points[-1][1]


def _grid_labels(grid: list[float]) -> list[str]:
    """True UTC times, as short as the step allows: `14:00:05`, `12-03 14:00`, `12-03`,
    `2026-12-03` (a chart across new year); repeats made distinct by `_labels`."""
    from .._core.forecast import iso_utc

    step = grid[1] - grid[0] if len(grid) > 1 else 86_400.0
    stamps = [iso_utc(at) for at in grid]
    if step < 60:
        texts = [
            stamp[11:19]
            if i and stamp[:10] == stamps[i - 1][:10]
            else f"{stamp[5:10]} {stamp[11:19]}"
            for i, stamp in enumerate(stamps)
        ]
    elif step < 86_400:
        texts = [f"{stamp[5:10]} {stamp[11:16]}" for stamp in stamps]
    elif stamps[0][:4] == stamps[-1][:4]:
        texts = [stamp[5:10] for stamp in stamps]
    else:
        texts = [stamp[:10] for stamp in stamps]
    return _distinct(texts)


def _caption(grid: list[float], now: float, floor: float, ahead: list[str], cut: bool) -> str:
    """What the lines are, in words, with the times they cover."""
    from .._core.forecast import iso_utc

    span = f"from {iso_utc(grid[0])} to {iso_utc(grid[-1])}, one point every {_step(grid)}"
    if not ahead:
        return (
            f"The upper line is the balance {span} (interpolated between readings); the flat "
            f"line is the floor ({number(floor)})."
        )
    ends = {"early": "the early (P10)", "late": "the late (P90)"}
    band = [ends[name] for name in ahead if name in ends]
    more = f", and {' and '.join(band)} end of the forecast's band" if band else ""
    tail = " The chart ends before the floor is reached." if cut else ""
    return (
        f"The lines show the balance {span} (interpolated between readings); after the newest "
        f"reading ({iso_utc(now)}) they split into the expected path to the floor{more}. "
        f"The flat line is the floor ({number(floor)}).{tail}"
    )


def _step(grid: list[float]) -> str:
    """The grid's step in words: `15 min`, `1 h`, `2 days`."""
    step = grid[1] - grid[0]
    for size, unit in ((86_400, "days"), (3_600, "h"), (60, "min")):
        if step >= size and step % size == 0:
            count = int(step // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return f"{_plain(step)} s"


def _distinct(texts: list[str]) -> list[str]:
    """A category axis needs distinct labels: a repeat gets a counter."""
    labels: list[str] = []
    seen: set[str] = set()
    for text in texts:
        label, count = text, 1
        while label in seen:
            count += 1
            label = f"{text} ({count})"
        seen.add(label)
        labels.append(label)
    return labels


def _plain(value: float) -> str:
    """At most 2 decimals, no exponent, no trailing zeros (79.2, 5, 0.01): for Mermaid and
    for step outputs alike."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
