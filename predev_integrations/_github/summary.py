"""The step's outputs and its job summary: only our own words and numbers, in GitHub Markdown."""

from __future__ import annotations

from .._core.defaults import TOP_UP_URL
from .._core.outcome import Outcome, number, runway_phrase
from .._core.sanitize import clean
from .._core.verdict import ERROR, Verdict

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


def github_outputs(outcome: Outcome) -> dict[str, str]:
    """Step outputs: our own words and numbers only, each one line (`name=value` format)."""
    return {
        "credits-remaining": number(outcome.balance) if outcome.status != ERROR else "",
        "status": outcome.status,
        "sufficient": "true" if outcome.sufficient else "false",
        **runway_outputs(outcome),
    }


def runway_outputs(outcome: Outcome) -> dict[str, str]:
    """`runway-hours` (known runways only) and `burn-per-hour` (a fitted rate, 0 when not
    spending); each empty when unknown."""
    from .._core.forecast import KNOWN

    result = outcome.runway
    hours = burn = ""
    if result is not None and result.burn_per_hour is not None:
        burn = _plain(result.burn_per_hour)
        if result.status == KNOWN and result.seconds_to_floor is not None:
            hours = _plain(result.seconds_to_floor / 3_600)
    return {"runway-hours": hours, "burn-per-hour": burn}


def _cell(text: str) -> str:
    """Text for the summary's Markdown: one line, no HTML, links, images or comments."""
    return markdown(clean(text, limit=1000))


def github_summary(outcome: Outcome) -> str:
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
    if outcome.error:
        lines += ["", f"**Error:** {_cell(outcome.error)}"]
    elif outcome.status == Verdict.LOW:
        lines += ["", f"Top up at {TOP_UP_URL} before generating specs."]
    lines += _runway_lines(outcome)
    return "\n".join(lines) + "\n\n"


def _runway_lines(outcome: Outcome) -> list[str]:
    """The runway in words, the history as a one-line sparkline, and a Mermaid line chart of
    the balance with the floor. Every value is a number we parsed and bounded, or a date or a
    phrase we formatted: nothing from outside is quoted."""
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
            "",
            *balance_chart(readings, outcome.min_credits),
        ]
    return lines


def balance_chart(readings: list[tuple[float, float]], floor: float) -> list[str]:
    """A Mermaid `xychart-beta`: the balance (sampled to at most 60 points) and the floor."""
    from .._core.forecast import iso_utc
    from .._core.runway import sample

    points = sample(readings)
    labels = ", ".join(f'"{label}"' for label in _labels([at for at, _ in points]))
    values = [balance for _, balance in points]
    low, high = min(*values, floor), max(*values, floor)
    pad = (high - low) * 0.1 or 1
    return [
        "```mermaid",
        "xychart-beta",
        '    title "pre.dev credits (UTC)"',
        f"    x-axis [{labels}]",
        f'    y-axis "credits" {_plain(max(0.0, low - pad) if low >= 0 else low - pad)} --> '
        f"{_plain(high + pad)}",
        f"    line [{', '.join(_plain(value) for value in values)}]",
        f"    line [{', '.join(_plain(floor) for _ in values)}]",
        "```",
        "",
        f"The upper line is the balance from {iso_utc(points[0][0])} to "
        f"{iso_utc(points[-1][0])}; the flat line is the floor ({number(floor)}).",
    ]


def _labels(times: list[float]) -> list[str]:
    """`12-03 14:00` per point (month, day, time: short enough for an axis); a category axis
    needs them distinct, so a repeat gets its seconds, then a counter."""
    from .._core.forecast import iso_utc

    labels: list[str] = []
    for at in times:
        stamp = iso_utc(at)
        label = f"{stamp[5:10]} {stamp[11:16]}"
        if label in labels:
            label = f"{stamp[5:10]} {stamp[11:19]}"
        base, count = label, 1
        while label in labels:
            count += 1
            label = f"{base} ({count})"
        labels.append(label)
    return labels


def _plain(value: float) -> str:
    """At most 2 decimals, no exponent, no trailing zeros (79.2, 5, 0.01): for Mermaid and
    for step outputs alike."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
