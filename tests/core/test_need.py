"""`need`: the gate sized by the work. Read, priced, worded (pure), and through the real CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core.defaults import SPEC_COST, SPEC_COST_RANGE
from predev_integrations._core.forecast import KNOWN, NOT_SPENDING, UNKNOWN, Forecast
from predev_integrations._core.need import (
    Need,
    NeedError,
    batches_phrase,
    need_value,
    parse_need,
    parse_spec_cost,
)
from predev_integrations._core.outcome import Outcome, summary_line
from predev_integrations._core.verdict import Verdict
from predev_integrations.errors import ConfigError
from predev_integrations.sandbox import Sandbox

RunCli = Any


@pytest.mark.parametrize(
    ("value", "credits", "specs"),
    [
        ("600", 600, {}),
        ("600 credits", 600, {}),
        (" 12.5 ", 12.5, {}),
        (600, 600, {}),
        ("12 deep", 600, {"deep": 12}),
        ("12 Deep Specs, 3 fast", 630, {"deep": 12, "fast": 3}),
        ("3 fast,1 deep spec", 80, {"deep": 1, "fast": 3}),
        ({"deep": 12}, 600, {"deep": 12}),
        ({"deep": [{"title": "a"}] * 12, "fast": "3"}, 630, {"deep": 12, "fast": 3}),
    ],
)
def test_a_need_is_credits_or_specs_by_kind(value: object, credits: float, specs: object) -> None:
    need = parse_need(value)
    assert need is not None
    assert need.credits == credits
    assert need.specs == specs


@pytest.mark.parametrize("value", [None, 0, 0.0, "0", "0 credits", "0 deep", {"deep": []}])
def test_no_need_and_a_need_of_zero_are_the_same_nothing(value: object) -> None:
    assert parse_need(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("-5", "'-5' must be a number >= 0"),
        (-5, "must be a number >= 0"),
        ("nan", "must be a finite number"),
        (float("inf"), "must be a finite number"),
        ("1e12", "<= 1000000000"),
        ("12 ultra", "unknown spec kind 'ultra'; the kinds are deep or fast"),
        ("12.5 deep", "'12.5' is not a whole number of specs"),
        ("-3 deep", "'-3' is not a whole number of specs"),
        ("10001 deep", "from 0 to 10000, got 10001"),
        ("99999999999999999999 deep", "from 0 to 10000"),
        ("12 deep, 3 deep", "names deep twice"),
        ("12 deep at 60", "is not a count and a kind"),
        ("deep", "is not a count and a kind"),
        ("", "is empty"),
        ("1\uff12 deep", "is not a need"),
        (True, "got true"),
        ([1, 2], "name its kind so its length counts"),
        ({"deep": 1.5}, "deep must be a whole number of specs or a list"),
        ({"ultra": 1}, "unknown spec kind 'ultra'"),
        ({1: 1}, "keys are spec kinds"),
    ],
)
def test_bad_needs_are_refused_with_one_line(value: object, says: str) -> None:
    with pytest.raises(NeedError) as caught:
        parse_need(value)
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_refusal_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^need names the unknown spec kind 'ultra'"):
        need_value("12 ultra")
    with pytest.raises(ConfigError, match=r"^spec_cost deep: '0' must be a number above 0"):
        need_value("12 deep", spec_cost="deep=0")


def test_specs_are_priced_at_the_vendors_upper_ends_by_default() -> None:
    assert {kind: high for kind, (_, high) in SPEC_COST_RANGE.items()} == SPEC_COST
    assert Need({"deep": 1, "fast": 1}).credits == 60


def test_a_teams_own_spec_cost_overrides_the_default_per_kind() -> None:
    need = need_value("12 deep, 3 fast", spec_cost="deep=40")
    assert need is not None
    assert need.credits == 12 * 40 + 3 * 10
    assert parse_spec_cost({"fast": 8, "DEEP": "45"}) == {"fast": 8, "deep": 45}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("deep=0", "must be a number above 0"),
        ("deep=-1", "must be a number above 0"),
        ("deep=nan", "must be a finite number"),
        ("deep=5000", "<= 1000"),
        ("ultra=5", "unknown spec kind 'ultra'"),
        ("deep", "is not kind=credits"),
        ("deep=40,deep=30", "names deep twice"),
        ({"deep": True}, "must be a number"),
        (40, "got 40"),
    ],
)
def test_bad_spec_costs_are_refused(value: object, says: str) -> None:
    with pytest.raises(NeedError) as caught:
        parse_spec_cost(value)
    assert says in str(caught.value)


@given(st.one_of(st.text(max_size=300), st.binary(max_size=50).map(lambda b: b.decode("latin-1"))))
def test_any_text_is_a_need_or_one_line_refusal(text: str) -> None:
    refusal = ""
    try:
        need = parse_need(text)
    except NeedError as exc:
        refusal = str(exc)
    else:
        assert need is None or 0 < need.credits <= 1e9
    assert "\n" not in refusal
    assert len(refusal) < 400


@given(st.one_of(st.text(max_size=300), st.dictionaries(st.text(max_size=8), st.floats())))
def test_any_spec_cost_is_costs_in_range_or_one_line_refusal(value: object) -> None:
    refusal = ""
    try:
        costs = parse_spec_cost(value)
    except NeedError as exc:
        refusal = str(exc)
    else:
        assert all(0 < cost <= 1000 for cost in costs.values())
    assert "\n" not in refusal
    assert len(refusal) < 400


def _outcome(balance: float, need: str, status: Verdict, **extra: Any) -> Outcome:
    return Outcome(status, balance=balance, min_credits=50, need=parse_need(need), **extra)


@pytest.mark.parametrize(
    ("balance", "need", "status", "line"),
    [
        (
            620,
            "12 deep",
            Verdict.LOW,
            "pre.dev credits: 620 remaining (floor 50): LOW, short by 30 credits for the 12 Deep "
            "Specs planned (at most 600); top up at https://pre.dev/project/playground before "
            "generating specs.",
        ),
        (
            700,
            "12 deep, 3 fast",
            Verdict.OK,
            "pre.dev credits: 700 remaining (floor 50): ok, enough for the 12 Deep and 3 Fast "
            "Specs planned (at most 630 credits) and the floor 50.",
        ),
        (
            30,
            "1 deep",
            Verdict.LOW,
            "pre.dev credits: 30 remaining (floor 50): LOW, short by 70 credits for the 1 Deep "
            "Spec planned (at most 50) and the floor 50; top up at "
            "https://pre.dev/project/playground before generating specs.",
        ),
        (
            700,
            "600",
            Verdict.OK,
            "pre.dev credits: 700 remaining (floor 50): ok, enough for the 600 credits planned "
            "and the floor 50.",
        ),
    ],
)
def test_the_line_says_the_decision_in_specs(
    balance: float, need: str, status: Verdict, line: str
) -> None:
    assert summary_line(_outcome(balance, need, status)) == line


def test_the_runway_is_said_in_batches_when_known() -> None:
    need = parse_need("12 deep")
    assert need is not None
    known = Forecast(KNOWN, burn_per_hour=10.0, seconds_to_floor=86_400.0)
    assert batches_phrase(need, 1900, 50, known) == (
        "enough for about 3 such batches before the floor"
    )
    assert batches_phrase(need, 700, 50, Forecast(NOT_SPENDING, burn_per_hour=0.0)) == (
        "enough for about 1 such batch before the floor"
    )
    assert batches_phrase(need, 1900, 50, Forecast(UNKNOWN, reason="few readings")) is None
    assert batches_phrase(need, 1900, 50, None) is None
    assert batches_phrase(need, 620, 50, known) is None


def test_json_carries_need_and_shortfall_only_when_a_need_is_given() -> None:
    low = _outcome(620, "12 deep", Verdict.LOW).as_dict()
    assert low["need"] == {"credits": 600, "specs": {"deep": 12}, "spec_cost": {"deep": 50}}
    assert low["shortfall"] == 30
    assert _outcome(700, "600", Verdict.OK).as_dict()["shortfall"] == 0
    assert "need" not in Outcome(Verdict.OK, balance=700).as_dict()


# --- The CLI, as users run it ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "code", "status", "shortfall", "words"),
    [
        (620, 1, "low", 30, "LOW, short by 30 credits for the 12 Deep Specs planned (at most 600)"),
        (700, 0, "ok", 0, "ok, enough for the 12 Deep Specs planned (at most 600 credits)"),
    ],
)
def test_the_cli_gate_covers_the_floor_plus_the_need(
    run_cli: RunCli,
    sandbox: Sandbox,
    balance: int,
    code: int,
    status: str,
    shortfall: int,
    words: str,
) -> None:
    sandbox.configure(balance=balance)
    text = run_cli("--min-credits", "50", "--need", "12 deep")
    assert text.code == code
    assert words in text.stdout
    data = json.loads(run_cli("--min-credits", "50", "--need=12 deep", "--format", "json").stdout)
    assert (data["status"], data["shortfall"], data["need"]["credits"]) == (status, shortfall, 600)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_need_zero_is_byte_for_byte_no_need(run_cli: RunCli, sandbox: Sandbox, fmt: str) -> None:
    sandbox.configure(balance=620)
    plain = run_cli("--min-credits", "50", "--no-history", "--format", fmt)
    zero = run_cli("--min-credits", "50", "--no-history", "--format", fmt, "--need", "0")
    assert (zero.code, zero.stdout, zero.stderr) == (plain.code, plain.stdout, plain.stderr)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--need", "-600"], "argument --need: '-600' must be a number >= 0"),
        (["--need", "12 ultra"], "argument --need: names the unknown spec kind 'ultra'"),
        (["--need", "inf"], "argument --need: 'inf' must be a finite number"),
        (["--spec-cost", "deep=0"], "argument --spec-cost: deep: '0' must be a number above 0"),
    ],
)
def test_a_bad_need_is_a_usage_error(run_cli: RunCli, args: list[str], says: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert says in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_the_config_file_holds_need_and_spec_cost(
    run_cli: RunCli, sandbox: Sandbox, tmp_path: Any
) -> None:
    sandbox.configure(balance=620)
    config = tmp_path / "c.yml"
    config.write_text("min_credits: 50\nneed: {deep: 12}\nspec_cost: {deep: 40}\n")
    result = run_cli("--config", str(config))
    assert result.code == 0
    assert "enough for the 12 Deep Specs planned (at most 480 credits)" in result.stdout
    assert run_cli("--config", str(config), "--need", "0").stdout.endswith("(floor 50): ok.\n")
    config.write_text("need: 12 ultra\n")
    refused = run_cli("--config", str(config))
    assert refused.code == 2
    assert "need names the unknown spec kind 'ultra'" in refused.stderr


def test_a_hook_preset_ignores_the_config_files_need(
    run_cli: RunCli, sandbox: Sandbox, tmp_path: Any
) -> None:
    """A commit spends nothing: the shared config's batch need must not block it."""
    sandbox.configure(balance=620)
    config = tmp_path / "c.yml"
    config.write_text("min_credits: 50\nneed: 12 deep\n")
    assert run_cli("--config", str(config)).code == 1
    hook = run_cli("--config", str(config), "--preset", "pre-commit")
    assert hook.code == 0
    assert hook.stdout.endswith("(floor 50): ok.\n")
    assert run_cli("--config", str(config), "--preset", "pre-commit", "--need", "12 deep").code == 1


@pytest.mark.parametrize(
    ("balance", "status", "said"),
    [
        (620, Verdict.LOW, "**Need:** Short by 30 credits for the 12 Deep Specs planned"),
        (
            700,
            Verdict.OK,
            "**Need:** Enough for the 12 Deep Specs planned \\(at most 600 credits\\)",
        ),
    ],
)
def test_the_job_summary_says_the_need_in_specs(balance: int, status: Verdict, said: str) -> None:
    from predev_integrations._github.summary import github_summary

    summary = github_summary(_outcome(balance, "12 deep", status), env={})
    assert said in summary
    assert "Need" not in github_summary(Outcome(status, balance=balance, min_credits=50), env={})
