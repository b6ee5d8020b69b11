"""The step's outputs and its job summary: only our own words and numbers, in GitHub Markdown."""

from __future__ import annotations

from .._core.defaults import TOP_UP_URL
from .._core.outcome import Outcome, number
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
    }


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
    return "\n".join(lines) + "\n\n"
