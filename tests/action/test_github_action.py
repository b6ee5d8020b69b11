"""The Action's check step in Python: inputs become CLI flags, empty means "not set"."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from predev_integrations._cli import action as github_action
from predev_integrations._github import alert as action_alert
from predev_integrations._github import inputs as action_inputs
from predev_integrations._github.inputs import ALERT_NEVER, FAIL_ON_LOW_TYPO, env_name, translate

ACTION = Path(__file__).resolve().parents[2] / "action.yml"


def inputs(**values: str) -> dict[str, str]:
    return {env_name(name.replace("_", "-")): value for name, value in values.items()}


def test_nothing_set_adds_no_flag_so_the_config_file_and_defaults_apply() -> None:
    names = [*action_inputs.FLAGS, *action_alert.ALERT_FLAGS, "fail-on-low", "history"]
    unset = {env_name(name): "" for name in names}
    assert translate(unset) == (["--format", "github"], [])
    assert translate({}) == (["--format", "github"], [])
    assert translate(inputs(min_credits="  ", config="\n")) == (["--format", "github"], [])
    # history "true", or a typo (which the history step warns about), keeps the history on
    assert translate(inputs(history="true")) == (["--format", "github"], [])
    assert translate(inputs(history="flase")) == (["--format", "github"], [])


@pytest.mark.parametrize(
    ("given", "flag"),
    [
        (inputs(min_credits="1"), "--min-credits=1"),
        (inputs(warn_below="200"), "--warn-below=200"),
        (inputs(base_url="http://127.0.0.1:8080"), "--base-url=http://127.0.0.1:8080"),
        (inputs(on_error="fail"), "--on-error=fail"),
        (inputs(timeout=" 2.5 "), "--timeout=2.5"),
        (inputs(retries="0"), "--retries=0"),
        (inputs(config="ci/credits.yml"), "--config=ci/credits.yml"),
        (inputs(min_credits="-5"), "--min-credits=-5"),
        (inputs(min_runway="7d"), "--min-runway=7d"),
        (inputs(warn_runway=" 36h "), "--warn-runway=36h"),
        (inputs(runway_risk=" 1-in-10 "), "--runway-risk=1-in-10"),
        (inputs(runway_risk="10%"), "--runway-risk=10%"),
        (inputs(history="false"), "--no-history"),
        (inputs(history="FALSE"), "--no-history"),
        (
            inputs(topup_url="https://pre.dev/enterprise/dashboard?page=api"),
            "--topup-url=https://pre.dev/enterprise/dashboard?page=api",
        ),
        (inputs(alert_below="200"), "--alert-below=200"),
        (inputs(alert_runway=" 5h "), "--alert-runway=5h"),
        (inputs(alert_rearm_above="250"), "--alert-rearm-above=250"),
    ],
)
def test_a_value_written_on_purpose_becomes_its_flag(given: dict[str, str], flag: str) -> None:
    """Even a value equal to the CLI's default; `--flag=value`, so `-5` stays a value."""
    assert translate(given) == (["--format", "github", flag], [])


@pytest.mark.parametrize(
    ("value", "on_low", "warned"),
    [
        ("true", "fail", False),
        ("TRUE", "fail", False),
        ("False", "warn", False),
        ("flase", "fail", True),
        ("0", "fail", True),
    ],
)
def test_fail_on_low_picks_on_low_and_a_typo_fails_closed(
    value: str, on_low: str, warned: bool
) -> None:
    argv, warnings = translate(inputs(fail_on_low=value))
    assert argv == ["--format", "github", f"--on-low={on_low}"]
    assert warnings == ([FAIL_ON_LOW_TYPO] if warned else [])


def test_the_check_step_passes_every_input_the_module_reads_and_no_other() -> None:
    """Wiring: each input of action.yml (but the key and the install's python) reaches Python."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    [check] = [step for step in action["runs"]["steps"] if step.get("id") == "check"]
    passed = {name: value for name, value in check["env"].items() if name.startswith("INPUT_")}
    read = {*action_inputs.FLAGS, *action_alert.ALERT_FLAGS, "fail-on-low", "history"}
    assert read == set(action["inputs"]) - {"api-key", "python"}
    assert passed == {env_name(name): f"${{{{ inputs.{name} }}}}" for name in read}
    # the history step's verdict on saving reaches the check, which holds the alert without it
    assert check["env"][action_alert.SAVE_ENV] == "${{ steps.history.outputs.save }}"
    assert check["env"][action_alert.ENABLED_ENV] == "${{ steps.history.outputs.enabled }}"


ALERTING = inputs(alert_below="200", alert_runway="5h", alert_rearm_above="250")
ALERT_ARGS = ["--alert-below=200", "--alert-runway=5h", "--alert-rearm-above=250"]
SAVING = {action_alert.SAVE_ENV: "true", action_alert.ENABLED_ENV: "true"}
PULL_REQUEST = {
    action_alert.SAVE_ENV: "false",
    action_alert.ENABLED_ENV: "true",
    "GITHUB_EVENT_NAME": "pull_request",
}


@pytest.mark.parametrize(
    ("run", "alert_args", "warned"),
    [
        pytest.param(SAVING, ALERT_ARGS, False, id="a saving run fires"),
        pytest.param({}, ALERT_ARGS, False, id="outside the Action the CLI decides"),
        pytest.param(PULL_REQUEST, [], False, id="a pull request never fires, quietly"),
        pytest.param(
            {**PULL_REQUEST, "GITHUB_EVENT_NAME": "push"}, [], False, id="a push elsewhere"
        ),
        pytest.param({**PULL_REQUEST, **inputs(history="false")}, [], True, id="history off"),
        pytest.param(
            {**PULL_REQUEST, action_alert.ENABLED_ENV: "false"}, [], True, id="no history here"
        ),
    ],
)
def test_only_a_run_that_saves_the_history_passes_the_alert_flags(
    run: dict[str, str], alert_args: list[str], warned: bool
) -> None:
    """A run that cannot save cannot remember that it alerted; where no run ever can (history
    off, a runner without one), the user hears it once per run as a warning."""
    topup = inputs(topup_url="https://pre.dev/enterprise/dashboard?page=api")
    argv, warnings = translate({**ALERTING, **topup, **run})
    assert [arg for arg in argv if arg.startswith("--alert")] == alert_args
    assert "--topup-url=https://pre.dev/enterprise/dashboard?page=api" in argv  # always
    assert [w.startswith(ALERT_NEVER) for w in warnings] == ([True] if warned else [])
    reason = action_alert.held({**ALERTING, **run})
    assert (reason is None) == bool(alert_args)


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        ("pull_request", "a pull_request run"),
        ("pull_request_target", "a pull_request_target run"),
        ("::warning::x", "a non-saving run"),
        ("", "a non-saving run"),
    ],
)
def test_the_held_reason_names_the_event_in_our_own_words(event: str, shown: str) -> None:
    reason = action_alert.held({**PULL_REQUEST, "GITHUB_EVENT_NAME": event})
    assert reason is not None
    assert reason.startswith(shown)
    assert "::" not in reason


@pytest.fixture
def sigint_restored() -> Iterator[None]:
    """`main` installs the CLI's Ctrl-C handler; give pytest its own back afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No input set, and a fresh GITHUB_OUTPUT file (returned) for `main` to write to."""
    for name in [*action_inputs.FLAGS, "fail-on-low"]:
        monkeypatch.delenv(env_name(name), raising=False)
    path = tmp_path / "output"
    path.write_text("", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(path))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return path


@pytest.mark.usefixtures("sigint_restored")
def test_main_runs_the_cli_with_the_inputs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    """A bad value is the CLI's usage error: exit 2, an ::error line, status=error outputs."""
    monkeypatch.setenv(env_name("min-credits"), "-5")
    monkeypatch.setenv(env_name("fail-on-low"), "maybe")
    code: Any = github_action.main([])
    out = capsys.readouterr().out.splitlines()
    assert code == 2
    assert out[0].startswith("::warning title=pre.dev credits check::fail-on-low")
    assert out[1].startswith("::error title=pre.dev credits check failed::")
    assert "--min-credits" in out[1]
    assert "status=error" in outputs.read_text(encoding="utf-8")


def test_the_history_step_writes_its_plan_and_makes_the_directory_private(
    tmp_path: Path,
) -> None:
    out = tmp_path / "github_output"
    env = {
        "RUNNER_TEMP": str(tmp_path),
        "RUNNER_OS": "Linux",
        "GITHUB_OUTPUT": str(out),
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/1/merge",
    }
    assert github_action.history_plan(env) == 0
    written = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert (written["enabled"], written["save"]) == ("true", "false")
    assert (tmp_path / "predev-credits-history").stat().st_mode & 0o777 == 0o700


def test_a_history_directory_that_cannot_be_made_turns_the_history_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "predev-credits-history").write_text("a file where the directory goes")
    env = {
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_EVENT_NAME": "schedule",
        "GITHUB_REF": "refs/heads/main",
    }
    assert github_action.history_plan(env) == 0
    out = capsys.readouterr().out
    assert "pre.dev credits history is off for this run" in out
    assert "enabled=false\nsave=false\n" in out


def test_the_runway_risk_input_says_the_core_s_default() -> None:
    """Its default is the CLI's (empty: not set); the description names it from one fact."""
    from predev_integrations._core.forecast import RISK_TEXT

    spec = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"]["runway-risk"]
    assert spec["default"] == ""
    assert spec["description"].rstrip().endswith(f"else {RISK_TEXT}.")


@pytest.mark.usefixtures("sigint_restored")
@pytest.mark.parametrize("value", ["0.5", "1-in-0", "abc"])
def test_a_bad_runway_risk_input_is_the_cli_s_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], outputs: Path, value: str
) -> None:
    monkeypatch.setenv(env_name("runway-risk"), value)
    code: Any = github_action.main([])
    [line] = capsys.readouterr().out.splitlines()
    assert code == 2
    assert line.startswith("::error title=pre.dev credits check failed::argument --runway-risk: ")
    assert "status=error" in outputs.read_text(encoding="utf-8")
