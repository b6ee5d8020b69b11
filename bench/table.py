"""One markdown table for the whole run: absolute medians, ratios, targets and verdicts."""

from __future__ import annotations

import math
from dataclasses import dataclass

HEADER = ("#", "Measure", "Ours", "Baseline", "Ratio", "Target", "Met", "Notes")


@dataclass
class Row:
    part: str
    measure: str
    ours: str = ""
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    notes: str = ""

    def cells(self) -> tuple[str, ...]:
        met = "—" if self.met is None else ("yes" if self.met else "**NO**")
        return (
            self.part,
            self.measure,
            self.ours,
            self.baseline,
            self.ratio,
            self.target,
            met,
            self.notes,
        )


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline > 0 else float("nan")


def times(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def not_built(part: str, measure: str, what: str) -> Row:
    """The row for a part whose code has not landed yet: reported, never a crash."""
    return Row(part, measure, "n/a (not built)", notes=f"{what} not found")


def failed(part: str, measure: str, error: BaseException) -> Row:
    text = " ".join(str(error).split())[:160] or type(error).__name__
    return Row(part, measure, "n/a (failed)", met=False, notes=text.replace("|", "\\|"))


def render(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("\n", " ") for c in row.cells()) + " |")
    return "\n".join(lines)
