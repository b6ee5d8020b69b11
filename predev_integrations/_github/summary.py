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


#: Grid steps a chart may use (seconds), and the spacings its named x-axis labels may have:
#: round ones, so the named points are a round time apart.
GRID_STEPS = (
    *(1, 2, 5, 10, 15, 30),
    *(60 * m for m in (1, 2, 5, 10, 15, 30)),
    *(3_600 * h for h in (1, 2, 3, 6, 12)),
    *(86_400 * d for d in (1, 2, 7, 14, 28)),
)
#: Most points a chart has: a day apart over two months, for a week's shape (Mermaid spaces
#: them evenly).
MAX_GRID_POINTS = 64
#: The projection is drawn at most this many times the history's span ahead ...
MAX_AHEAD_SHARE = 3.0
#: ... and at least this far (seconds), so a runway of days reaches the floor in the chart.
MIN_AHEAD = 7 * 86_400.0

#: The chart's size and its axis labels' font size (pixels). GitHub shows it at most this
#: wide, and scales it down to the page: on a phone, to about half. Mermaid puts up to 16
#: ticks on the y axis (d3's "about 10"), each label 19 pixels tall: hence the height.
CHART_WIDTH = 600
CHART_HEIGHT = 460
LABEL_FONT = 16
#: How many labels fit: the plot's width (the chart's, less the y axis), and the width of one
#: label character (a wide font's digit at LABEL_FONT, rounded up) plus the gap between labels.
PLOT_WIDTH = 480
LABEL_CHAR = 9
LABEL_GAP = 16
#: Room beside the axes' labels (Mermaid's default: 5). Mermaid measures labels as drawn on
#: the page, so in a phone-wide page, where the chart is shown at about half size, it reserves
#: half their size, and the rest would be cut off at the chart's left and bottom edges.
X_LABEL_PADDING = 14
Y_LABEL_PADDING = 30
#: Most named x-axis labels, however short they are.
MAX_LABELS = 7
#: Zero-width characters: an unnamed point's label, blank but distinct (a category axis merges
#: equal labels; Mermaid trims spaces), is its index written in these two as binary digits.
_BLANK_DIGITS = ("\u200b", "\u200c")
_BLANK_WIDTH = 7  # digits: 2**7 > MAX_GRID_POINTS, with room

#: The chart's own light background and ink, so it reads the same in GitHub's light and dark
#: themes; each line's colour (GitHub's palette) contrasts at least 3:1 with the background
#: (WCAG): the balance strong, the band's two ends lighter, the floor apart. With the colour's
#: name and a swatch for the key: xychart-beta draws no legend.
BACKGROUND = "#ffffff"
INK = "#1f2328"
AXIS = "#59636e"
LINE_COLOURS: dict[str, tuple[str, str, str]] = {
    "balance": ("#0550ae", "🟦", "blue"),
    "early": ("#e16f24", "🟧", "orange"),
    "late": ("#2da44e", "🟩", "green"),
    "floor": ("#cf222e", "🟥", "red"),
}
#: The order lines are drawn in (the last on top): the balance covers the band's ends where
#: they share the past, the floor covers every line that has reached it.
DRAW_ORDER = ("late", "early", "balance", "floor")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def balance_chart(
    readings: Sequence[tuple[float, float]], floor: float, runway: Forecast | None = None
) -> list[str]:
    """A Mermaid `xychart-beta` of the balance and the floor, and a one-line key under it.

    Mermaid spaces the points of a line evenly whatever their labels say, so the readings are
    put on an even grid of times through the newest reading (`now` on the axis; the balance
    interpolated between readings), a few of them named. A known runway carries the balance
    on past `now` along the expected path to the floor (`Forecast.path`); a band adds its two
    ends: the same path run faster, reaching the floor at the early end (P10), and slower, at
    the late end (P90), so the early end never lies above the expected path nor the late end
    below it. Mermaid cannot start a line mid-chart, so the band's ends share the balance's
    past, drawn under it. The colours are fixed in the chart's configuration (an init
    directive, which GitHub's Mermaid honours) and named in the key.
    """
    history = _clean_readings(readings)
    if len(history) < 2 or not math.isfinite(floor):
        return []
    start, now = history[0][0], history[-1][0]
    ahead = _projections(history, floor, runway)
    end = now
    cut = False
    if ahead:
        horizon = now + max((now - start) * MAX_AHEAD_SHARE, MIN_AHEAD)
        last = max(points[-1][0] for points in ahead.values())
        end, cut = min(last, horizon), last > horizon
    grid, here = _grid(start, now, end)
    if len(grid) < 2:
        return []
    series = _series(grid, history, ahead, floor)
    values = [value for _, points in series for value in points]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 1
    labels = ", ".join(f'"{label}"' for label in axis_labels(grid, here))
    names = [name for name, _ in series]
    return [
        "```mermaid",
        f"%%{{init: {_config(names)}}}%%",
        "xychart-beta",
        '    title "pre.dev credits"',
        f"    x-axis [{labels}]",
        # No axis title: the chart's says "credits", and Mermaid, laying the chart out in a
        # phone-wide page, measures the labels scaled down and prints the title over them.
        f"    y-axis {_plain(max(0.0, low - pad) if low >= 0 else low - pad)} --> "
        f"{_plain(high + pad)}",
        *(f"    line [{', '.join(_plain(value) for value in points)}]" for _, points in series),
        "```",
        "",
        _key(names, floor, bool(ahead)),
        "",
        _note(grid, here, cut),
    ]


def _config(names: list[str]) -> str:
    """The chart's size, fonts and colours as Mermaid init JSON: every xyChart theme variable
    set (Mermaid takes the object whole), the palette in the order the lines are drawn."""
    import json

    axis = {"labelFontSize": LABEL_FONT, "titleFontSize": LABEL_FONT}
    theme = {
        "backgroundColor": BACKGROUND,
        "titleColor": INK,
        "xAxisLabelColor": INK,
        "xAxisTitleColor": INK,
        "xAxisTickColor": AXIS,
        "xAxisLineColor": AXIS,
        "yAxisLabelColor": INK,
        "yAxisTitleColor": INK,
        "yAxisTickColor": AXIS,
        "yAxisLineColor": AXIS,
        "plotColorPalette": ",".join(LINE_COLOURS[name][0] for name in names),
    }
    config = {
        "theme": "base",
        "themeVariables": {"background": BACKGROUND, "xyChart": theme},
        "xyChart": {
            "width": CHART_WIDTH,
            "height": CHART_HEIGHT,
            "titleFontSize": LABEL_FONT + 2,
            "xAxis": {**axis, "labelPadding": X_LABEL_PADDING},
            "yAxis": {**axis, "labelPadding": Y_LABEL_PADDING},
        },
    }
    return json.dumps(config, separators=(",", ":"))


def _key(names: list[str], floor: float, projected: bool) -> str:
    """The legend xychart-beta lacks: each line's swatch and colour name, and what it is."""
    what = {
        "balance": "balance, then from *now* the expected path" if projected else "balance",
        "early": "early end of the likely range (P10)",
        "late": "late end (P90)",
        "floor": f"floor ({markdown(number(floor))})",
    }
    shown = sorted(names, key=("balance", "early", "late", "floor").index)
    parts = [f"{LINE_COLOURS[name][1]} {LINE_COLOURS[name][2]}: {what[name]}" for name in shown]
    return "**Key:** " + " · ".join(parts)


def _note(grid: list[float], here: int, cut: bool) -> str:
    """The times the chart covers, its grid, and whether it stops short of the floor."""
    from .._core.forecast import iso_utc

    text = (
        f"Times UTC: from {iso_utc(grid[0])} to {iso_utc(grid[-1])}, one point every "
        f"{_step(grid)}, *now* the newest reading ({iso_utc(grid[here])}); the balance is "
        "interpolated between readings."
    )
    return text + (" The chart ends before the floor is reached." if cut else "")


def _clean_readings(readings: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Finite readings, sorted by time, one per time (the last one given wins)."""
    by_time: dict[float, float] = {}
    for at, balance in readings:
        if math.isfinite(at) and math.isfinite(balance):
            by_time[float(at)] = float(balance)
    return sorted(by_time.items())


def _projections(
    history: list[tuple[float, float]], floor: float, runway: Forecast | None
) -> dict[str, list[tuple[float, float]]]:
    """The points of each projected line, the history first: `balance` along the forecast's
    path, `early` and `late` along the same path in a shorter or longer time, so that it
    reaches the floor at the band's end. {} unless KNOWN."""
    from .._core.forecast import KNOWN

    if runway is None or runway.status != KNOWN:
        return {}
    seconds, floor_at = runway.seconds_to_floor, runway.floor_at
    if not _finite(seconds) or floor_at is None or not math.isfinite(floor_at):
        return {}
    assert seconds is not None
    now = history[-1][0]
    made = floor_at - seconds  # when the forecast was made; its path starts there
    path = [
        (float(at), float(balance))
        for at, balance in runway.path
        if math.isfinite(at) and math.isfinite(balance)
    ]
    lines = {"balance": [*history, *_after(path, now, floor_at, floor)]}
    band = (("early", runway.seconds_to_floor_p10), ("late", runway.seconds_to_floor_p90))
    for name, other in band:
        if other is None or not _finite(other) or seconds <= 0:
            continue
        share = other / seconds
        stretched = [(made + (at - made) * share, balance) for at, balance in path]
        lines[name] = [*history, *_after(stretched, now, made + other, floor)]
    return lines


def _after(
    path: list[tuple[float, float]], now: float, floor_at: float, floor: float
) -> list[tuple[float, float]]:
    """The points of `path` after `now`, or the floor just after it when none are."""
    points = [(at, balance) for at, balance in path if at > now]
    return points or [(max(floor_at, now + 1.0), floor)]


def _series(
    grid: list[float],
    history: list[tuple[float, float]],
    ahead: dict[str, list[tuple[float, float]]],
    floor: float,
) -> list[tuple[str, list[float]]]:
    """Each line's values on the grid, in DRAW_ORDER. The band's ends are held on their side
    of the expected path: early never above it, late never below it."""
    values = {name: [_at(points, at) for at in grid] for name, points in ahead.items()}
    expected = values.get("balance") or [_at(history, at) for at in grid]
    values["balance"] = expected
    if "early" in values:
        values["early"] = [min(e, x) for e, x in zip(values["early"], expected, strict=True)]
    if "late" in values:
        values["late"] = [max(e, x) for e, x in zip(values["late"], expected, strict=True)]
    values["floor"] = [floor] * len(grid)
    return [(name, values[name]) for name in DRAW_ORDER if name in values]


def _grid(start: float, now: float, end: float) -> tuple[list[float], int]:
    """Evenly spaced times through `now` (so the newest reading is drawn as read), none before
    `start`, the last at or after `end`, with the smallest GRID_STEPS step that needs at most
    MAX_GRID_POINTS points; and the index of `now`."""
    if not end - start > 0:
        return [], 0

    def count(step: float) -> tuple[int, int]:
        return math.floor((now - start) / step), math.ceil((end - now) / step)

    step = next(
        (s for s in GRID_STEPS if sum(count(s)) + 1 <= MAX_GRID_POINTS),
        (end - start) / (MAX_GRID_POINTS - 2),
    )
    past, future = count(step)
    return [now + i * step for i in range(-past, future + 1)], past


def _at(points: list[tuple[float, float]], at: float) -> float:
    """The balance at `at` on the line through `points` (sorted by time), held at the ends."""
    if at <= points[0][0]:
        return points[0][1]
    for (t0, b0), (t1, b1) in itertools.pairwise(points):
        if at <= t1:
            return b0 + (b1 - b0) * (at - t0) / (t1 - t0) if t1 > t0 else b1
    return points[-1][1]


def axis_labels(grid: list[float], here: int) -> list[str]:
    """The x axis's labels: `now` at the newest reading and every k-th point from it named
    (true UTC times, as short as the spacing allows), the rest blank but distinct. k is the
    least that leaves each label room (LABEL_CHAR per character, LABEL_GAP between, the plot
    PLOT_WIDTH wide), at most MAX_LABELS named, preferring a round spacing (GRID_STEPS). A
    name that would reach past the plot's end is left out (but `now`): Mermaid makes room for
    it by its size as shown, half its size in a phone-wide page, and cuts the rest off."""
    step = grid[1] - grid[0]
    slot = PLOT_WIDTH / len(grid)  # pixels between two points
    every = range(1, len(grid) + 1)
    round_first = [*(k for k in every if k * step in GRID_STEPS), *every]
    for k in round_first:
        named = {i: _when(grid[i], grid, k * step) for i in range(len(grid)) if (i - here) % k == 0}
        named[here] = "now"
        longest = max(len(text) for text in named.values())
        if len(named) <= MAX_LABELS and k * slot >= longest * LABEL_CHAR + LABEL_GAP:
            break
    ends = {i: (min(i, len(grid) - 1 - i) + 0.5) * slot for i in named}
    named = {
        i: text for i, text in named.items() if i == here or ends[i] >= len(text) * LABEL_CHAR / 2
    }
    texts = _distinct([named.get(i, "") for i in range(len(grid))])
    return [text or _blank(i) for i, text in enumerate(texts)]


def _when(at: float, grid: list[float], spacing: float) -> str:
    """A named point's label: `10 Feb` (labels a day or more apart), `14:20` (a chart within
    one UTC day), `10 Feb 14:20`, with seconds when labels are under a minute apart."""
    from .._core.forecast import iso_utc

    stamp = iso_utc(at)
    day = f"{int(stamp[8:10])} {_MONTHS[int(stamp[5:7]) - 1]}"
    if spacing >= 86_400:
        return day
    clock = stamp[11:19] if spacing < 60 else stamp[11:16]
    one_day = iso_utc(grid[0])[:10] == iso_utc(grid[-1])[:10]
    return clock if one_day else f"{day} {clock}"


def _blank(index: int) -> str:
    """A label that shows nothing and differs from every other point's."""
    return "".join(_BLANK_DIGITS[(index >> bit) & 1] for bit in range(_BLANK_WIDTH))


def _step(grid: list[float]) -> str:
    """The grid's step in words: `15 min`, `1 h`, `2 days`."""
    step = grid[1] - grid[0]
    for size, unit in ((86_400, "days"), (3_600, "h"), (60, "min")):
        if step >= size and step % size == 0:
            count = int(step // size)
            return f"{count} {'day' if unit == 'days' and count == 1 else unit}"
    return f"{_plain(step)} s"


def _distinct(texts: list[str]) -> list[str]:
    """A category axis needs distinct labels: a repeated name gets a counter."""
    labels: list[str] = []
    seen: set[str] = set()
    for text in texts:
        label, count = text, 1
        while text and label in seen:
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
