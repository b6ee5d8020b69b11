"""The floor comparison and how each outcome is reported (text, JSON, GitHub)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import predev_integrations
from predev_integrations.__version__ import __version__
from predev_integrations._cli.report import render
from predev_integrations._core.outcome import Outcome, number
from predev_integrations._core.verdict import Verdict, evaluate
from predev_integrations._github.commands import annotation
from predev_integrations._github.summary import github_outputs

#: The runway outputs when no runway is known, and the alert's when none fired.
NO_RUNWAY = {
    "runway-hours": "",
    "runway-hours-p10": "",
    "runway-hours-p90": "",
    "burn-per-hour": "",
    "alert": "false",
    "recovered": "false",
    "alert-message": "",
}


@pytest.mark.parametrize(
    ("balance", "floor", "warn_below", "expected"),
    [
        (450, 50, None, Verdict.OK),
        (50, 50, None, Verdict.OK),
        (49.9, 50, None, Verdict.LOW),
        (0, 0, None, Verdict.OK),
        (-1, 0, None, Verdict.LOW),
        (100, 50, 200, Verdict.WARN),
        (50, 50, 200, Verdict.WARN),
        (200, 50, 200, Verdict.OK),
        (10, 50, 200, Verdict.LOW),
    ],
)
def test_evaluate(
    balance: float, floor: float, warn_below: float | None, expected: Verdict
) -> None:
    verdict = evaluate(balance, floor, warn_below)
    assert verdict is expected
    assert verdict.sufficient is (expected is not Verdict.LOW)
    assert str(verdict) == expected.value


def test_package_exposes_the_public_names_lazily() -> None:
    assert predev_integrations.evaluate is evaluate
    assert predev_integrations.Verdict is Verdict
    assert predev_integrations.CreditsClient.__name__ == "CreditsClient"
    assert predev_integrations.__version__ == __version__
    assert predev_integrations.forecast.__module__ == "predev_integrations._core.forecast"
    with pytest.raises(AttributeError):
        _ = predev_integrations.nothing_here


@pytest.mark.parametrize(
    ("value", "text"), [(450, "450"), (12.5, "12.5"), (3.0, "3"), (None, ""), (1e20, "1e+20")]
)
def test_number(value: float | None, text: str) -> None:
    assert number(value) == text


def test_annotation_escapes_per_github_rules() -> None:
    line = annotation("error", "a: b, c", "50% done\nnext\r")
    assert line == "::error title=a%3A b%2C c::50%25 done%0Anext%0D"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            Outcome("ok", balance=450),
            {"credits-remaining": "450", "status": "ok", "sufficient": "true", **NO_RUNWAY},
        ),
        (
            Outcome("warn", balance=60),
            {"credits-remaining": "60", "status": "warn", "sufficient": "true", **NO_RUNWAY},
        ),
        (
            Outcome("low", balance=2, soft=True),
            {"credits-remaining": "2", "status": "low", "sufficient": "false", **NO_RUNWAY},
        ),
        (
            Outcome("error", error="x"),
            {"credits-remaining": "", "status": "error", "sufficient": "false", **NO_RUNWAY},
        ),
    ],
)
def test_github_outputs(outcome: Outcome, expected: dict[str, str]) -> None:
    assert github_outputs(outcome) == expected


def render_to(outcome: Outcome, fmt: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    render(outcome, fmt, "prog", out, err)
    return out.getvalue(), err.getvalue()


def test_json_report_for_an_error_also_explains_on_stderr() -> None:
    out, err = render_to(Outcome("error", error="HTTP 500.", min_credits=5), "json")
    assert json.loads(out) == {
        "status": "error",
        "credits_remaining": None,
        "min_credits": 5,
        "warn_below": None,
        "cached": False,
        "error": "HTTP 500.",
        "runway": None,
        "alert": None,
    }
    assert err == "prog: error: HTTP 500.\n"


def test_soft_error_is_a_warning_line() -> None:
    _, err = render_to(Outcome("error", error="offline.", soft=True), "text")
    assert err.startswith("prog: warning: could not read the credit balance: offline.")


@pytest.mark.parametrize(
    ("outcome", "first_line"),
    [
        (Outcome("ok", balance=450), "pre.dev credits: 450 remaining (floor 1): ok."),
        (
            Outcome("warn", balance=60, warn_below=100),
            "::warning title=pre.dev credits running low::",
        ),
        (Outcome("low", balance=0), "::error title=pre.dev credits low::"),
        (Outcome("low", balance=0, soft=True), "::warning title=pre.dev credits low::"),
        (
            Outcome("error", error="HTTP 401."),
            "::error title=pre.dev credits check failed::HTTP 401.",
        ),
        (
            Outcome("error", error="HTTP 401.", soft=True),
            "::warning title=pre.dev credits check failed::",
        ),
    ],
)
def test_github_report_lines(
    outcome: Outcome, first_line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    out, _ = render_to(outcome, "github")
    assert out.startswith(first_line)
    summary = (tmp_path / "summary").read_text()
    assert summary.startswith("### pre.dev credits\n")
    assert f" {outcome.status} |\n" in summary
    assert (tmp_path / "out").read_text().count("\n") == 3 + len(NO_RUNWAY)


def test_github_summary_escapes_table_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary"))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    render_to(Outcome("error", error="a | b"), "github")
    assert "a \\| b" in (tmp_path / "summary").read_text()


def test_unwritable_github_files_are_a_warning_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "missing-dir" / "out"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    _, err = render_to(Outcome("ok", balance=1), "github")
    assert "could not write GITHUB_OUTPUT" in err
