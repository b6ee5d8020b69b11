"""The runway's pure parts: the verdict it gives, the sparkline, the Action's cache plan, and
what the step outputs and the job summary say about it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from predev_integrations._core.forecast import KNOWN, NOT_SPENDING, UNKNOWN, Forecast, forecast
from predev_integrations._core.outcome import Outcome, summary_line
from predev_integrations._core.runway import BARS, runway_verdict, sample, sparkline, worse
from predev_integrations._core.verdict import Verdict
from predev_integrations._github.history import KEY_PREFIX, may_save, plan
from predev_integrations._github.summary import github_outputs, github_summary

DAY = 86_400.0
NOW = 1_796_018_400.0  # Mon 30 Nov 2026 06:00 UTC (a fixed time: no clock in these tests)


def known(seconds: float, burn: float = 5.0) -> Forecast:
    return Forecast(KNOWN, burn_per_hour=burn, seconds_to_floor=seconds, floor_at=NOW + seconds)


@pytest.mark.parametrize(
    ("result", "min_runway", "warn_runway", "verdict"),
    [
        (known(3 * DAY), 4 * DAY, None, Verdict.LOW),
        (known(4 * DAY), 4 * DAY, None, Verdict.LOW),  # "within" includes the bound
        (known(5 * DAY), 4 * DAY, None, Verdict.OK),
        (known(5 * DAY), 4 * DAY, 6 * DAY, Verdict.WARN),
        (known(3 * DAY), None, 6 * DAY, Verdict.WARN),
        (known(0), 1.0, None, Verdict.LOW),
        (Forecast(UNKNOWN, reason="only 1 reading"), 365 * DAY, 365 * DAY, Verdict.OK),
        (Forecast(NOT_SPENDING, burn_per_hour=0.0), 365 * DAY, None, Verdict.OK),
        (None, 365 * DAY, None, Verdict.OK),
        (known(DAY), None, None, Verdict.OK),
    ],
)
def test_only_a_known_runway_within_a_limit_changes_the_verdict(
    result: Forecast | None, min_runway: float | None, warn_runway: float | None, verdict: Verdict
) -> None:
    assert runway_verdict(result, min_runway, warn_runway) is verdict


def test_worse_picks_the_graver_verdict() -> None:
    assert worse(Verdict.OK, Verdict.WARN) is Verdict.WARN
    assert worse(Verdict.LOW, Verdict.WARN) is Verdict.LOW
    assert worse(Verdict.WARN, Verdict.OK) is Verdict.WARN


def test_sparkline_scales_between_the_lowest_and_highest() -> None:
    assert sparkline([465, 460, 455, 450]) == "█▆▃▁"
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([]) == ""


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e15, max_value=1e15), max_size=300),
    limit=st.integers(min_value=2, max_value=80),
)
def test_sparkline_is_one_bar_per_sampled_point(values: list[float], limit: int) -> None:
    line = sparkline(values, limit)
    assert len(line) == min(len(values), limit)
    assert set(line) <= set(BARS)
    picked = sample([(float(i), v) for i, v in enumerate(values)], limit)
    if values:
        assert picked[0] == (0.0, values[0])
        assert picked[-1] == (float(len(values) - 1), values[-1])
    assert len({at for at, _ in picked}) == len(picked)  # no point twice, order kept
    assert [at for at, _ in picked] == sorted(at for at, _ in picked)


# --- the Action's cache plan --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "ref", "default_branch", "saves"),
    [
        ("push", "refs/heads/main", "main", True),
        ("schedule", "refs/heads/main", "main", True),
        ("schedule", "refs/heads/main", "", True),  # a schedule payload may not name it
        ("workflow_dispatch", "refs/heads/main", "main", True),
        ("workflow_dispatch", "refs/heads/feature", "main", False),
        ("push", "refs/heads/feature", "main", False),
        ("push", "refs/heads/main", "", False),
        ("push", "refs/tags/v1", "main", False),
        ("pull_request", "refs/pull/7/merge", "main", False),
        ("pull_request", "refs/heads/main", "main", False),
        ("pull_request_target", "refs/heads/main", "main", False),
        ("merge_group", "refs/heads/gh-readonly-queue/main/pr-1", "main", False),
        ("workflow_run", "refs/heads/main", "main", False),
        ("issue_comment", "refs/heads/main", "main", False),
        ("", "", "", False),
    ],
)
def test_only_runs_no_pull_request_can_steer_may_save(
    event: str, ref: str, default_branch: str, saves: bool
) -> None:
    assert may_save(event, ref, default_branch) is saves


RUNNER = {
    "RUNNER_TEMP": "/home/runner/work/_temp",
    "RUNNER_OS": "Linux",
    "GITHUB_RUN_ID": "123",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_EVENT_NAME": "schedule",
    "GITHUB_REF": "refs/heads/main",
    "PREDEV_DEFAULT_BRANCH": "main",
}


def test_plan_names_a_unique_key_under_a_prefix_and_only_history_files() -> None:
    outputs, warnings = plan(RUNNER, posix=True, nonce="ab12")
    assert warnings == []
    assert outputs == {
        "enabled": "true",
        "save": "true",
        "dir": "/home/runner/work/_temp/predev-credits-history",
        "path": "/home/runner/work/_temp/predev-credits-history/history-*.json",
        "key": f"{KEY_PREFIX}-Linux-123-2-ab12",
        "restore-prefix": f"{KEY_PREFIX}-Linux-",
    }


@pytest.mark.parametrize(
    ("change", "enabled", "save", "warned"),
    [
        ({"INPUT_HISTORY": "false"}, "false", "false", False),
        ({"INPUT_HISTORY": "FALSE"}, "false", "false", False),
        ({"INPUT_HISTORY": "true"}, "true", "true", False),
        ({"INPUT_HISTORY": "flase"}, "true", "true", True),
        ({"GITHUB_EVENT_NAME": "pull_request"}, "true", "false", False),
        ({"RUNNER_TEMP": ""}, "false", "false", False),
        ({"RUNNER_TEMP": "/tmp/a\nsave=true"}, "false", "false", False),
    ],
)
def test_plan_turns_history_and_saving_off(
    change: dict[str, str], enabled: str, save: str, warned: bool
) -> None:
    outputs, warnings = plan({**RUNNER, **change}, posix=True, nonce="n")
    assert (outputs["enabled"], outputs["save"], bool(warnings)) == (enabled, save, warned)
    assert all("\n" not in value for value in outputs.values())


def test_plan_is_off_without_posix_ownership() -> None:
    outputs, _ = plan(RUNNER, posix=False, nonce="n")
    assert (outputs["enabled"], outputs["save"]) == ("false", "false")


def test_key_pieces_from_the_environment_are_reduced_to_safe_characters() -> None:
    outputs, _ = plan(
        {**RUNNER, "GITHUB_RUN_ID": "1\n::error::x", "RUNNER_OS": "Li nux*"}, posix=True, nonce="n"
    )
    assert re.fullmatch(r"[A-Za-z0-9._-]+", outputs["key"])


# --- what the reports say -------------------------------------------------------------------------

READINGS: list[tuple[float, float]] = [
    (NOW - 3 * 3_600, 465),
    (NOW - 2 * 3_600, 460),
    (NOW - 3_600, 455),
    (NOW, 450),
]


def outcome_with_runway(min_runway: float | None = None) -> Outcome:
    outcome = Outcome(Verdict.OK, balance=450, min_credits=50)
    outcome.runway = forecast(READINGS, 50, now=NOW)
    outcome.now, outcome.history = NOW, READINGS
    outcome.min_runway, outcome.show_runway = min_runway, min_runway is not None
    if runway_verdict(outcome.runway, min_runway, None) is Verdict.LOW:
        outcome.status, outcome.runway_verdict = "low", Verdict.LOW
    return outcome


def test_the_issue_s_example_line() -> None:
    assert summary_line(outcome_with_runway()) == (
        "pre.dev credits: 450 remaining (floor 50): ok; burning ~120/day, floor in ~3.4 days "
        "(Thu 3 Dec 14:39 UTC; likely Tue 1 Dec to Tue 8 Dec)."  # four readings: a wide band
    )


def test_outputs_carry_the_runway_in_hours_and_the_burn_per_hour() -> None:
    outputs = github_outputs(outcome_with_runway())
    assert (outputs["runway-hours"], outputs["burn-per-hour"]) == ("80.64", "5")
    flat = Outcome(Verdict.OK, balance=450)
    flat.runway = Forecast(NOT_SPENDING, burn_per_hour=0.0)
    assert (github_outputs(flat)["runway-hours"], github_outputs(flat)["burn-per-hour"]) == (
        "",
        "0",
    )


def test_summary_draws_the_balance_and_the_floor_from_our_numbers_only() -> None:
    summary = github_summary(outcome_with_runway(4 * DAY))
    # Markdown punctuation is escaped, so the phrase renders as written.
    assert (
        r"**Runway:** burning \~120/day, floor in \~3.4 days \(Thu 3 Dec 14:39 UTC; likely Tue 1 "
        r"Dec to Tue 8 Dec\): a 1\-in\-5 chance of reaching the floor by Wed 2 Dec, within "
        r"\-\-min\-runway 4d"
    ) in summary
    assert "`█▆▃▁` 465 → 450" in summary
    chart = summary[summary.index("```mermaid") : summary.rindex("```") + 3].splitlines()
    # three hours of readings, projected 7 days ahead (the band reaches past 14 Dec): a
    # 3-hour grid through the newest reading (`now`), every 2 days named; the path reaches the
    # floor at the runway shown, losing 400 credits over its 80.64 hours
    labels = [label.strip("\u200b\u200c") for label in re.findall(r'"([^"]*)"', chart[4])]
    assert [label for label in labels if label] == ["now", "2 Dec", "4 Dec", "6 Dec"]
    assert chart[-3].startswith("    line [465, 450, 435.12, 420.24, 405.36, ")  # balance, path
    assert chart[-2] == f"    line [{', '.join(['50'] * len(labels))}]"  # the floor


def test_a_summary_without_history_has_no_chart() -> None:
    assert "mermaid" not in github_summary(Outcome(Verdict.OK, balance=450))


def test_show_history_falls_back_to_ascii_bars_for_terminals_that_need_it() -> None:
    from predev_integrations._cli.show_history import ASCII_BARS, render

    text = render(READINGS, forecast(READINGS, 50, now=NOW), 50, NOW, ASCII_BARS)
    assert "#+-_  465 -> 450 over ~3 hours" in text
    assert text.isascii()


def test_chart_labels_are_true_times_even_for_readings_a_moment_apart() -> None:
    from predev_integrations._github.summary import balance_chart

    close = [(NOW, 450.0), (NOW + 1, 449.0), (NOW + 1.2, 448.0), (NOW + 60, 447.0)]
    [axis] = [line for line in balance_chart(close, 50) if "x-axis" in line]
    labels = [label.strip("\u200b\u200c") for label in re.findall(r'"([^"]*)"', axis)]
    assert [label for label in labels if label] == [
        *("06:00:15", "06:00:30", "06:00:45", "now")  # 06:00:00 would reach past the end
    ]
