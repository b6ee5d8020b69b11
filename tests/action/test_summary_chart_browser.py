"""The job summary's chart as GitHub shows it: Mermaid (npm, pinned in chart/package-lock.json)
in a real headless Chromium (Debian's), in GitHub's light and dark themes.

Each kind of team in the runway evaluation (bench/runway_traces.py), read by its checks for
weeks, gets its summary from the real code path; the chart in it is rendered, and the SVG
must show every value, labels that never overprint, and lines told apart by colour, each
readable on the chart's background. The light rendering's screenshot is kept as an artefact
(.venv/artifacts/, and the test's tmp dir). Without the browser the test skips and
says so; in CI (`CI=true`, where .ci/run installs it) it fails instead.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.runway_traces import DAY, trace
from predev_integrations._cli.history import thin
from predev_integrations._core.forecast import KNOWN, forecast
from predev_integrations._core.outcome import Outcome
from predev_integrations._core.verdict import Verdict
from predev_integrations._github.summary import CHART_HEIGHT, CHART_WIDTH, github_summary

REPO = Path(__file__).resolve().parents[2]
CHART = Path(__file__).parent / "chart"
#: Where `make install` puts Mermaid (`npm ci` from CHART's package-lock.json).
MERMAID = REPO / ".tools" / "mermaid" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
#: The screenshots, kept after the run (git-ignored, out of the sdist).
ARTIFACTS = REPO / ".venv" / "artifacts"
FAMILIES = ("cron", "office", "batch", "growing", "few", "topups")
#: GitHub's page behind the chart in each theme Mermaid is given there.
PAGES = {"default": "#ffffff", "dark": "#0d1117"}
PADDING = 8  # the page's, around the chart (render.html)
#: How wide the chart is shown: at its own width, and on a phone (Mermaid lays the chart out
#: in the page, measuring text as shown, so a narrow page is a different layout).
WIDTHS = {"desktop": CHART_WIDTH, "phone": 344}
#: The renderings checked: GitHub's two themes at full width, and the light one on a phone.
VIEWS = [("default", "desktop"), ("dark", "desktop"), ("default", "phone")]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--allow-file-access-from-files",
    # Run the page's timers ahead until Mermaid has rendered, instead of sleeping.
    "--virtual-time-budget=20000",
)


def browser() -> str:
    """The headless Chromium to run, or the test skips (fails in CI) saying how to get it."""
    found = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    missing = None
    if found is None:
        missing = (
            "no headless Chromium to render the chart: apt-get install "
            "chromium-headless-shell (.ci/run does)"
        )
    elif not MERMAID.is_file():
        missing = f"Mermaid is not installed ({MERMAID}): make install"
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing}; CI must run this test")
        pytest.skip(missing)
    assert found is not None
    return found


def team(family: str, seed: int = 0) -> Outcome:
    """What a run of the Action reports for `family`'s team: its history as the history file
    keeps it (thinned by age) and the forecast from it, at the latest check two to four weeks
    in that still sees the floor over two days ahead (a team that has run dry has no runway
    to draw), else the last check of the four weeks."""
    tr = trace(family, seed)
    checks = [at for at, _ in tr.readings if tr.start + 14 * DAY <= at <= tr.start + 28 * DAY]

    def seen_at(at: float) -> Outcome:
        history = thin([r for r in tr.readings if r[0] <= at], at)
        outcome = Outcome(Verdict.OK, balance=history[-1][1], min_credits=tr.floor)
        outcome.history = history
        outcome.runway = forecast(history, tr.floor, now=at)
        return outcome

    for at in reversed(checks):
        outcome = seen_at(at)
        runway = outcome.runway
        if runway and runway.status == KNOWN and (runway.seconds_to_floor or 0) > 2 * DAY:
            return outcome
    return seen_at(checks[-1])


def mermaid_source(summary: str) -> str:
    """The text of the summary's ```mermaid block, as GitHub hands it to Mermaid."""
    match = re.search(r"^```mermaid\n(.*?)^```$", summary, re.MULTILINE | re.DOTALL)
    assert match, summary
    return match.group(1)


def render(
    source: str, theme: str, width: int, where: Path, screenshot: Path | None
) -> dict[str, Any]:
    """Render `source` in Chromium, the chart `width` pixels wide on the page; the page's
    measurements (render.html), and a screenshot."""
    chromium = browser()
    page = (
        (CHART / "render.html")
        .read_text(encoding="utf-8")
        .replace("__SOURCE__", json.dumps(source).replace("<", "\\u003c"))
        .replace("__THEME__", theme)
        .replace("__PAGE__", PAGES[theme])
        .replace("__WIDTH__", str(width))
        .replace("__MERMAID__", MERMAID.as_uri())
    )
    url = where / "chart.html"
    url.write_text(page, encoding="utf-8")
    height = round(CHART_HEIGHT * width / CHART_WIDTH)
    size = f"--window-size={width + 2 * PADDING},{height + 2 * PADDING}"
    run = [chromium, *FLAGS, size, f"--user-data-dir={where / 'profile'}"]
    dom = subprocess.run(
        [*run, "--dump-dom", url.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if screenshot is not None:
        subprocess.run(
            [*run, f"--screenshot={screenshot}", url.as_uri()],
            capture_output=True,
            timeout=180,
            check=True,
        )
    found = re.search(r'<pre id="result">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, f"the page did not load: {dom.stderr[-2000:]}"
    assert found.group(1), f"the page did not render: {dom.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert "error" not in result, result["error"]
    return result


def rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return r, g, b


def contrast(one: tuple[int, int, int], two: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(colour: tuple[int, int, int]) -> float:
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
            for c in (v / 255 for v in colour)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def drawn(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The labels that show something (blank ones are zero-width characters)."""
    return [label for label in labels if label["text"].strip("\u200b\u200c") and label["w"] > 0]


@pytest.mark.integration
@pytest.mark.parametrize(("theme", "view"), VIEWS)
@pytest.mark.parametrize("family", FAMILIES)
def test_the_chart_reads_at_a_glance_in_a_real_browser(
    family: str, theme: str, view: str, tmp_path: Path
) -> None:
    source = mermaid_source(github_summary(team(family), {}))
    series = [
        [float(v) for v in line.split("[", 1)[1].rstrip("]").split(", ")]
        for line in source.splitlines()
        if line.strip().startswith("line [")
    ]
    [axis] = [line for line in source.splitlines() if line.strip().startswith("x-axis")]
    categories = re.findall(r'"([^"]*)"', axis)
    name = f"summary-chart-{family}{'' if view == 'desktop' else '-' + view}.png"
    shot = tmp_path / name if theme == "default" else None
    result = render(source, theme, WIDTHS[view], tmp_path, shot)

    # Every value is drawn: one axis category and one point of each line per grid time.
    assert len(result["xLabels"]) == len(categories)
    assert len(result["lines"]) == len(series)
    for line, values in zip(result["lines"], series, strict=True):
        assert len(re.findall(r"[ML]", line["d"])) == len(values)
    # Labels never overprint (each other, or the axis titles), and all are on the chart.
    assert result["axisTitles"] == []  # the chart's title names the unit
    for labels in (drawn(result["xLabels"]), drawn(result["yLabels"])):
        assert len(labels) >= 2
        for a, b in itertools.combinations(labels, 2):
            assert not overlaps(a, b), (a, b)
        for label in labels:
            svg = result["svg"]
            assert svg["x"] <= label["x"]
            assert label["x"] + label["w"] <= svg["x"] + svg["w"]
            assert svg["y"] <= label["y"]
            assert label["y"] + label["h"] <= svg["y"] + svg["h"]
    assert "now" in [label["text"] for label in drawn(result["xLabels"])]
    # Each line its own colour, readable on the chart's background in either theme.
    background = rgb(result["background"])
    strokes = [rgb(line["stroke"]) for line in result["lines"]]
    assert len(set(strokes)) == len(strokes)
    for stroke in strokes:
        assert contrast(stroke, background) >= 3, (stroke, background)
    for text in (*drawn(result["xLabels"]), *drawn(result["yLabels"]), *result["title"]):
        assert contrast(rgb(text["fill"]), background) >= 4.5, text
    if shot is not None:
        assert shot.stat().st_size > 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, ARTIFACTS / shot.name)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_team_evaluated_has_a_month_of_history_and_a_runway_with_its_band(
    family: str,
) -> None:
    """The teams above are the ones the chart is for: weeks of readings, the balance, the
    expected path with the band's two ends, and the floor."""
    outcome = team(family)
    assert outcome.history
    assert outcome.history[-1][0] - outcome.history[0][0] >= 14 * DAY
    source = mermaid_source(github_summary(outcome, {}))
    assert len([line for line in source.splitlines() if "line [" in line]) == 4, source
