"""The composite Action, executed step by step as the runner would, against the sandbox.

The harness (`devtools.composite_action`) reads `action.yml` and runs each `run:` step as
GitHub does for `shell: bash`, with the input defaults applied, `${{ }}` expanded and real
GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ENV / GITHUB_PATH files per step.

Offline install: the action installs the hashed wheels of its lock into a venv under
RUNNER_TEMP and runs the package from its own directory. Here pip is pointed at the wheelhouse
`make install` fills (PIP_NO_INDEX, PIP_FIND_LINKS), the way a runner behind a package mirror
would be; the action's steps run unchanged. The venv is made once per test session
(session-scoped RUNNER_TEMP) and reused, as in one job.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from devtools import lockfile
from devtools.composite_action import (
    RUNNER_OS,
    ActionRun,
    UnsupportedExpression,
    cache_save,
    condition,
    evaluate,
    parse_command_file,
    run_action,
)
from predev_integrations._cli import history
from predev_integrations._core.secret import Secret
from predev_integrations._github import history as history_gh
from predev_integrations.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
#: The Action's locked wheels: `make install` puts them in the dev venv's wheelhouse; a matrix
#: cell keeps them apart from the versions it tests and names the folder here.
WHEELHOUSE = Path(
    os.environ.get("PREDEV_TEST_ACTION_WHEELHOUSE") or Path(sys.prefix) / "wheelhouse"
)

pytestmark = pytest.mark.integration

#: The runway and alert outputs of a run whose runway is unknown (a first reading, or an
#: error) and that fired no alert.
NO_RUNWAY = {
    "runway-hours": "",
    "burn-per-hour": "",
    "runway-hours-p10": "",
    "runway-hours-p90": "",
    "alert": "false",
    "recovered": "false",
    "alert-message": "",
    "need": "",
    "shortfall": "",
}
#: What the runner puts in the environment of a scheduled run on the default branch.
SCHEDULED = {"GITHUB_EVENT_NAME": "schedule", "GITHUB_REF": "refs/heads/main"}


def assert_key_only_masked(key: str, run: ActionRun) -> None:
    """Masking comes first and registers the key exactly; the key shows up nowhere else."""
    first = run.steps[0].stdout.splitlines()
    assert first, "the mask step printed nothing"
    assert first[0].startswith("::add-mask::"), "masking is not the first thing that happens"
    assert key in run.masks, f"the runner would register {run.masks!r}, not the key"
    for step in run.steps:
        lines = (step.stdout + step.stderr).splitlines()
        leaks = [line for line in lines if key in line and not line.startswith("::add-mask::")]
        assert not leaks, f"the key leaked into the log of step {step.id}"
        for name, text in step.files.items():
            assert key not in text, f"the key leaked into {name} of step {step.id}"
    assert all(key not in value for value in run.outputs.values())


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action as the runner downloads it: the repository's files, in a directory of its own."""
    if not any(WHEELHOUSE.glob("httpx-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}; run `make install` first")
    target = tmp_path_factory.mktemp("actions") / "predev-credits-check"
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        ".tools",
        "node_modules",
        "build",
        "*.egg-info",
        "__pycache__",
        ".*_cache",
        "tests",
        ".bench",
    )
    shutil.copytree(REPO, target, ignore=ignore)
    return target


@pytest.fixture(scope="session")
def runner_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A runner's environment: no PREDEV_/GITHUB_/INPUT_/PIP_ variables, pip offline, `python3`
    on PATH being this test interpreter (the wheelhouse was built for it)."""
    shims = tmp_path_factory.mktemp("bin")
    (shims / "python3").symlink_to(sys.executable)
    drop = ("PREDEV_", "GITHUB_", "INPUT_", "RUNNER_", "PIP_", "VIRTUAL_ENV", "PYTHON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        PATH=f"{shims}{os.pathsep}{env.get('PATH', '')}",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    return env


@pytest.fixture(scope="session")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One RUNNER_TEMP for the session: like steps of one job, the tests share the venv."""
    return tmp_path_factory.mktemp("runner-temp")


Runner = Callable[..., ActionRun]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


RUN_IDS = itertools.count(1000)


@pytest.fixture
def cache_store(tmp_path: Path) -> Path:
    """The repository's Actions cache, emulated: one per test."""
    path = tmp_path / "actions-cache"
    path.mkdir()
    return path


@pytest.fixture
def action(
    cache_store: Path,
    action_path: Path,
    runner_env: dict[str, str],
    runner_temp: Path,
    workspace: Path,
    sandbox: Sandbox,
    api_key: str,
) -> Runner:
    """`action(**{"min-credits": "500"})` runs the action against the sandbox with the test key."""

    def run(
        temp: Path | None = None,
        *,
        event: Mapping[str, str] = SCHEDULED,
        default_branch: str = "main",
        store: Path | None = None,
        **inputs: str,
    ) -> ActionRun:
        given = {"api-key": api_key, "base-url": sandbox.url, **inputs}
        temp = temp or runner_temp
        # Each run is a new job: RUNNER_TEMP starts without a history (the venv is kept, as
        # the tests share one to stay fast; the install step's own tests cover a fresh one).
        shutil.rmtree(temp / "predev-credits-history", ignore_errors=True)
        github = {"event": {"repository": {"default_branch": default_branch}}}
        env = {**runner_env, "GITHUB_RUN_ID": str(next(RUN_IDS)), "GITHUB_RUN_ATTEMPT": "1"}
        result = run_action(
            action_path,
            given,
            env={**env, **event},
            runner_temp=temp,
            workspace=workspace,
            github=github,
            cache_store=store or cache_store,
        )
        key = given["api-key"].strip()
        if key:
            assert_key_only_masked(key, result)
        for step in result.steps:
            assert "Traceback" not in step.stderr
        return result

    return run


# --- outcomes ----------------------------------------------------------------------------------


def test_ok_sets_outputs_summary_and_one_request(
    action: Runner, sandbox: Sandbox, api_key: str
) -> None:
    run = action()
    assert run.code == 0
    assert run.outputs == {
        "credits-remaining": "450",
        "status": "ok",
        "sufficient": "true",
        **NO_RUNWAY,
    }
    assert "| 450 | 1 | — | ✅ ok |" in run.summary
    assert not run.annotations("error")
    assert not run.annotations("warning")
    assert sandbox.requests == 1
    request = sandbox.log[0]
    assert request["authorization"] == f"Bearer {api_key}"
    assert request["user_agent"].endswith("(github-action)")


def test_warn_below_warns_but_stays_sufficient(action: Runner) -> None:
    run = action(**{"min-credits": "100", "warn-below": "500"})
    assert run.code == 0
    assert run.outputs == {
        "credits-remaining": "450",
        "status": "warn",
        "sufficient": "true",
        **NO_RUNWAY,
    }
    assert "| 450 | 100 | 500 | ⚠️ warn |" in run.summary
    [warning] = run.annotations("warning")
    assert warning.startswith("::warning title=pre.dev credits running low::")


def test_low_fails_the_step_and_still_sets_outputs(action: Runner) -> None:
    run = action(**{"min-credits": "500"})
    assert run.code == 1
    assert run.outputs == {
        "credits-remaining": "450",
        "status": "low",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    assert "| 450 | 500 | — | ❌ low |" in run.summary
    [error] = run.annotations("error")
    assert error.startswith("::error title=pre.dev credits low::")


@pytest.mark.parametrize("value", ["false", "False"])
def test_fail_on_low_false_succeeds_and_reports_insufficient(action: Runner, value: str) -> None:
    run = action(**{"min-credits": "500", "fail-on-low": value})
    assert run.code == 0
    assert run.outputs == {
        "credits-remaining": "450",
        "status": "low",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    [warning] = run.annotations("warning")
    assert warning.startswith("::warning title=pre.dev credits low::")
    assert not run.annotations("error")


def test_fail_on_low_typo_fails_closed_with_a_warning(action: Runner) -> None:
    run = action(**{"min-credits": "500", "fail-on-low": "flase"})
    assert run.code == 1
    assert run.outputs["status"] == "low"
    assert any("fail-on-low" in line for line in run.annotations("warning"))


def test_rejected_key_fails_with_error_outputs(action: Runner, sandbox: Sandbox) -> None:
    sandbox.configure(key="another-key")
    run = action()
    assert run.code == 3
    assert run.outputs == {
        "credits-remaining": "",
        "status": "error",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    assert "unknown" in run.summary
    assert "❌ error" in run.summary
    [error] = run.annotations("error")
    assert error.startswith("::error title=pre.dev credits check failed::HTTP 401")
    assert sandbox.requests == 1  # a rejected key is not retried


def test_on_error_warn_continues_with_error_outputs(action: Runner, sandbox: Sandbox) -> None:
    sandbox.configure(key="another-key")
    run = action(**{"on-error": "warn"})
    assert run.code == 0
    assert run.outputs == {
        "credits-remaining": "",
        "status": "error",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    [warning] = run.annotations("warning")
    assert warning.startswith("::warning title=pre.dev credits check failed::HTTP 401")
    assert not run.annotations("error")


# --- inputs reach the CLI ---------------------------------------------------------------------


@pytest.mark.parametrize(("retries", "requests", "status"), [("2", 3, "ok"), ("0", 1, "error")])
def test_retries_input(
    action: Runner, sandbox: Sandbox, retries: str, requests: int, status: str
) -> None:
    sandbox.configure(statuses=[503, 503], retry_after="0")
    run = action(retries=retries)
    assert run.outputs["status"] == status
    assert sandbox.requests == requests


def test_timeout_input(action: Runner, sandbox: Sandbox) -> None:
    sandbox.configure(latency=3)
    run = action(timeout="0.2", retries="0")
    assert run.code == 3
    assert run.outputs["status"] == "error"
    assert "timed out" in run.annotations("error")[0].lower()


def test_config_file_floor_applies_unless_min_credits_is_set(
    action: Runner, workspace: Path
) -> None:
    (workspace / "ci").mkdir()
    (workspace / "ci" / "credits.yml").write_text("min_credits: 500\n", encoding="utf-8")
    assert action(config="ci/credits.yml").outputs["status"] == "low"
    assert action(config="ci/credits.yml", **{"min-credits": "100"}).outputs["status"] == "ok"
    (workspace / ".predev-credits.yml").write_text("min_credits: 500\n", encoding="utf-8")
    assert action().outputs["status"] == "low"


def test_min_credits_1_written_on_purpose_beats_the_config_floor(
    action: Runner, workspace: Path
) -> None:
    """Empty means "not set"; "1", the CLI's own default, is still a choice when written."""
    (workspace / ".predev-credits.yml").write_text("min_credits: 500\n", encoding="utf-8")
    assert action(**{"min-credits": "1"}).outputs["status"] == "ok"


def test_on_error_fail_written_on_purpose_beats_the_config_file(
    action: Runner, workspace: Path, sandbox: Sandbox
) -> None:
    sandbox.configure(key="another-key")
    (workspace / ".predev-credits.yml").write_text("on_error: warn\n", encoding="utf-8")
    assert action().code == 0
    run = action(**{"on-error": "fail"})
    assert run.code == 3
    assert run.outputs["status"] == "error"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"min-credits": "lots"}, "--min-credits"),
        ({"on-error": "ignore"}, "--on-error"),
        ({"base-url": "http://api.pre.dev"}, "plain http://"),
        ({"config": "missing.yml"}, "missing.yml"),
    ],
)
def test_bad_input_is_exit_2_with_outputs(
    action: Runner, sandbox: Sandbox, inputs: dict[str, str], message: str
) -> None:
    run = action(**inputs)
    assert run.code == 2
    assert run.outputs == {
        "credits-remaining": "",
        "status": "error",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    [error] = run.annotations("error")
    assert message in error
    assert sandbox.requests == 0


@pytest.mark.parametrize(
    ("balance", "code", "status", "sufficient", "shortfall", "words"),
    [
        (620, 1, "low", "false", "30", "short by 30 credits for the 12 Deep Specs planned"),
        (700, 0, "ok", "true", "0", "enough for the 12 Deep Specs planned (at most 600 credits)"),
    ],
)
def test_need_sets_sufficient_and_shortfall_as_the_cli_decides(
    action: Runner,
    sandbox: Sandbox,
    balance: int,
    code: int,
    status: str,
    sufficient: str,
    shortfall: str,
    words: str,
) -> None:
    sandbox.configure(balance=balance)
    run = action(**{"min-credits": "50", "need": "12 deep"})
    assert run.code == code
    assert run.outputs == {
        **NO_RUNWAY,
        "credits-remaining": str(balance),
        "status": status,
        "sufficient": sufficient,
        "need": "600",
        "shortfall": shortfall,
    }
    assert words in run.log


def test_spec_cost_prices_the_need_and_a_bad_need_is_exit_2(
    action: Runner, sandbox: Sandbox
) -> None:
    sandbox.configure(balance=620)
    run = action(**{"min-credits": "50", "need": "12 deep", "spec-cost": "deep=40"})
    assert (run.code, run.outputs["need"], run.outputs["shortfall"]) == (0, "480", "0")
    bad = action(**{"need": "12 ultra"})
    assert bad.code == 2
    assert bad.outputs["status"] == "error"
    [error] = bad.annotations("error")
    assert "--need: names the unknown spec kind 'ultra'" in error


def test_key_pasted_with_a_trailing_newline_is_masked_and_works(
    action: Runner, api_key: str
) -> None:
    run = action(**{"api-key": f"  {api_key}\n"})
    assert run.outputs["status"] == "ok"
    assert run.steps[0].stdout == f"::add-mask::{api_key}\n"


@pytest.mark.parametrize("suffix", ["%25", "%0A", "%0D%0A", "100%", "%%0A%"])
def test_a_key_with_percent_escapes_is_masked_as_itself(
    action: Runner, sandbox: Sandbox, api_key: str, suffix: str
) -> None:
    """`::add-mask::` data is escaped, so the runner registers the key's own characters."""
    key = f"{api_key}{suffix}"
    sandbox.configure(key=key)
    run = action(**{"api-key": key})
    assert run.outputs["status"] == "ok"
    assert run.masks == [key]


def test_each_line_of_a_multiline_key_is_masked(
    action_path: Path, runner_env: dict[str, str], tmp_path: Path
) -> None:
    run = run_action(
        action_path,
        {"api-key": "first-line%0A\r\n  second\rline\r\n\n"},
        env=runner_env,
        runner_temp=tmp_path,
        workspace=tmp_path,
        only="mask",
    )
    assert run.masks == ["first-line%0A", "second\rline"]
    assert "\r" not in run.steps[0].stdout


def test_empty_api_key_says_how_to_pass_it(action: Runner, sandbox: Sandbox) -> None:
    run = action(**{"api-key": ""})
    assert run.code == 2
    assert run.outputs["status"] == "error"
    assert "PREDEV_API_KEY is empty" in run.annotations("error")[0]
    assert sandbox.requests == 0


# --- the history across runs: actions/cache, emulated -----------------------------------------


def history_file(runner_temp: Path, sandbox: Sandbox, api_key: str) -> Path:
    """Where the check step keeps the history: RUNNER_TEMP/predev-credits-history/history-*."""
    directory = runner_temp / "predev-credits-history"
    return Path(history.history_path(directory, sandbox.url, Secret(api_key)))


def plant(store: Path, target: Path, content: bytes | None, *, link_to: Path | None = None) -> None:
    """Put a cache entry in the store, as an earlier run would have saved it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if link_to is not None:
        target.symlink_to(link_to)
    else:
        assert content is not None
        target.write_bytes(content)
        target.chmod(0o600)
    glob_path = str(target.parent / "history-*.json")
    cache_save("plant", store, glob_path, f"{history_gh.KEY_PREFIX}-{RUNNER_OS}-1-1-planted")
    target.unlink()


def saved_keys(store: Path) -> list[str]:
    index = store / "index.json"
    return [entry["key"] for entry in json.loads(index.read_text())] if index.exists() else []


def test_a_scheduled_run_saves_the_history_and_the_next_run_restores_it(
    action: Runner, cache_store: Path, runner_temp: Path, sandbox: Sandbox, api_key: str
) -> None:
    first = action()
    assert [step.id for step in first.steps] == [
        "mask",
        "install",
        "history",
        "restore",
        "check",
        "save",
    ]
    assert first.step("restore").outputs["cache-matched-key"] == ""
    sandbox.configure(balance=440)  # a new balance: a new reading, minutes apart or not
    second = action()
    assert second.step("restore").outputs["cache-matched-key"] == saved_keys(cache_store)[0]
    keys = saved_keys(cache_store)
    assert len(keys) == 2
    assert len(set(keys)) == 2
    assert all(key.startswith(f"{history_gh.KEY_PREFIX}-{RUNNER_OS}-") for key in keys)
    sandbox.configure(balance=430)
    third = action()
    assert third.step("restore").outputs["cache-matched-key"] == keys[1]  # the newest
    readings = history.load(history_file(runner_temp, sandbox, api_key))
    assert [balance for _, balance in readings] == [450, 440, 430]


def test_a_known_runway_sets_the_outputs_and_draws_the_chart(
    action: Runner, cache_store: Path, runner_temp: Path, sandbox: Sandbox, api_key: str
) -> None:
    now = time.time()
    earlier = [(now - hours * 3_600, 450 + 5 * hours) for hours in (3, 2, 1)]
    plant(
        cache_store,
        history_file(runner_temp, sandbox, api_key),
        history.serialize(earlier).encode(),
    )
    run = action(**{"min-credits": "50"})
    assert run.code == 0
    assert run.outputs["status"] == "ok"
    assert 80 <= float(run.outputs["runway-hours"]) <= 80 * 1.03  # the median, a little later
    assert float(run.outputs["burn-per-hour"]) == pytest.approx(5, rel=1e-3)
    assert "xychart-beta" in run.summary
    assert "balance, then from *now* the expected path" in run.summary  # the key
    band = [float(run.outputs[f"runway-hours{end}"]) for end in ("-p10", "", "-p90")]
    assert band == sorted(band)  # the early end, the runway, the late end
    assert "**Runway:** burning \\~120/day, floor in \\~3.4 days" in run.summary
    low = action(**{"min-credits": "50", "min-runway": "4d"})
    assert low.code == 1
    assert low.outputs["status"] == "low"
    [error] = low.annotations("error")
    assert "within --min-runway 4d" in error
    assert low.step("save").stdout.startswith("Cache saved")  # a failed check still saves


@pytest.mark.parametrize(
    ("event", "default_branch"),
    [
        ({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge"}, "main"),
        ({"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/heads/main"}, "main"),
        ({"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature"}, "main"),
        ({"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/heads/feature"}, "main"),
    ],
)
def test_runs_a_pull_request_can_steer_restore_but_never_save(
    action: Runner, cache_store: Path, event: dict[str, str], default_branch: str
) -> None:
    action()  # a scheduled run on main saves one entry
    run = action(event=event, default_branch=default_branch)
    assert run.code == 0
    assert run.step("restore").outputs["cache-matched-key"] == saved_keys(cache_store)[0]
    assert "save" not in [step.id for step in run.steps]
    assert len(saved_keys(cache_store)) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff garbage",
        b'{"v": 1, "readings": [[1, 450]]' + b" " * 70_000 + b"}",
        b'{"v": 1, "readings": [[1, NaN], [2, 1e999]]}',
        b'{"v": 1, "readings": [["<img src=x onerror=alert(1)>", 450]]}',
        b'{"v": 1, "readings": [[1, "::error::pwned"], [2, 450]]}',
        b"[" * 50_000,
    ],
)
def test_a_poisoned_or_damaged_restored_history_is_an_empty_one(
    action: Runner,
    cache_store: Path,
    runner_temp: Path,
    sandbox: Sandbox,
    api_key: str,
    content: bytes,
) -> None:
    target = history_file(runner_temp, sandbox, api_key)
    plant(cache_store, target, content)
    run = action(**{"min-credits": "50", "min-runway": "365d"})
    assert run.code == 0
    assert run.outputs["status"] == "ok"
    assert (run.outputs["runway-hours"], run.outputs["burn-per-hour"]) == ("", "")
    assert "runway unknown: only 1 reading (need 3)" in run.log
    assert "<img" not in run.summary
    assert "pwned" not in run.log + run.summary
    assert not run.annotations("error")
    assert [balance for _, balance in history.load(target)] == [450]  # started afresh


def test_a_restored_symlink_is_never_followed(
    action: Runner,
    cache_store: Path,
    runner_temp: Path,
    sandbox: Sandbox,
    api_key: str,
    tmp_path: Path,
) -> None:
    outside = tmp_path / "elsewhere.json"
    now = time.time()
    outside.write_text(history.serialize([(now - h * 3_600, 450 + 50 * h) for h in (3, 2, 1)]))
    outside.chmod(0o600)
    before = outside.read_bytes()
    target = history_file(runner_temp, sandbox, api_key)
    plant(cache_store, target, None, link_to=outside)
    run = action(**{"min-credits": "50"})
    assert run.code == 0
    assert run.outputs["runway-hours"] == ""  # the readings behind the link were not believed
    assert outside.read_bytes() == before  # nor written through it
    assert not target.is_symlink()


@pytest.mark.parametrize("value", ["false", "False"])
def test_the_history_input_turns_the_cache_steps_and_the_history_off(
    action: Runner, cache_store: Path, runner_temp: Path, sandbox: Sandbox, api_key: str, value: str
) -> None:
    run = action(history=value, **{"min-runway": "1d"})
    assert run.code == 0
    assert [step.id for step in run.steps] == ["mask", "install", "history", "check"]
    assert saved_keys(cache_store) == []
    assert not history_file(runner_temp, sandbox, api_key).exists()
    assert "--no-history is set" in run.log


# --- the low-credit alert: once per crossing, through the cache ----------------------------


#: The issue's series (one check an hour, alert-below 200, re-armed at 220, its default): the
#: alert fires on 180 and 150 only, and recovers on 240 only. The balance rule does not depend
#: on the time between readings, so the runs follow each other as fast as they run.
SERIES = (500, 450, 180, 170, 190, 215, 240, 150, 140)
FIRES = (180, 150)
RECOVERS = (240,)
ALERTING = {"alert-below": "200"}
PULL_REQUEST = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge"}
#: What alert-message may hold: one line of letters, digits and plain punctuation.
SAFE_MESSAGE = re.compile(r"[A-Za-z0-9 .,:;~()/%?=&#@!*+_\-]+")


def alert_outputs(run: ActionRun) -> tuple[str, str]:
    message = run.outputs["alert-message"]
    fired, recovered = run.outputs["alert"], run.outputs["recovered"]
    assert fired in ("true", "false")
    assert recovered in ("true", "false")
    assert bool(message) == (fired == "true" or recovered == "true"), message
    if message:
        assert SAFE_MESSAGE.fullmatch(message), message
    return fired, recovered


def test_the_issue_s_series_alerts_on_180_and_150_and_recovers_on_240(
    action: Runner, sandbox: Sandbox, cache_store: Path, api_key: str
) -> None:
    seen = []
    for balance in SERIES:
        sandbox.configure(balance=balance)
        run = action(**ALERTING)
        assert run.code == 0  # an alert never changes the exit code
        fired, recovered = alert_outputs(run)
        seen.append((balance, fired, recovered))
        if fired == "true":
            assert run.outputs["alert-message"].startswith(
                f"pre.dev credits low: {balance} remaining, below the alert level 200; "
            )
            assert run.outputs["alert-message"].endswith(
                "Top up at https://pre.dev/project/playground"
            )
            assert "Low-credit alert fired on this run" in run.summary
        if recovered == "true":
            assert f"{balance} remaining" in run.outputs["alert-message"]
            assert "Low-credit alert recovered on this run" in run.summary
    assert seen == [(b, str(b in FIRES).lower(), str(b in RECOVERS).lower()) for b in SERIES]
    assert len(saved_keys(cache_store)) == len(SERIES)
    for entry in cache_store.rglob("*"):
        if entry.is_file():
            assert api_key.encode() not in entry.read_bytes()  # nor in history or alert state


def test_two_runs_restored_from_one_snapshot_alert_at_most_twice(
    action: Runner, sandbox: Sandbox, cache_store: Path, tmp_path: Path
) -> None:
    """Overlapping runs both restore the entry saved before the fall; each may alert (lost
    state errs towards one more alert), and whichever entry the next run restores, it is quiet."""
    assert alert_outputs(action(**ALERTING)) == ("false", "false")  # 450, armed
    snapshot = tmp_path / "snapshot"
    shutil.copytree(cache_store, snapshot)
    sandbox.configure(balance=180)
    first = action(**ALERTING)
    second = action(store=snapshot, **ALERTING)
    fired = [alert_outputs(run)[0] for run in (first, second)]
    assert fired.count("true") <= 2
    assert "true" in fired
    sandbox.configure(balance=170)
    for store in (cache_store, snapshot):
        assert alert_outputs(action(store=store, **ALERTING)) == ("false", "false")


@pytest.mark.parametrize("before", [[], [450, 180]], ids=["first run", "evicted cache"])
def test_a_run_whose_restore_missed_while_low_alerts_once(
    action: Runner, sandbox: Sandbox, tmp_path: Path, before: list[int]
) -> None:
    for balance in before:
        sandbox.configure(balance=balance)
        action(**ALERTING)
    lost = tmp_path / "evicted"  # the repository's cache, empty again
    lost.mkdir()
    sandbox.configure(balance=170)
    run = action(store=lost, **ALERTING)
    assert run.step("restore").outputs["cache-matched-key"] == ""
    assert alert_outputs(run) == ("true", "false")  # no state: armed, so low alerts once
    for balance in (165, 160):
        sandbox.configure(balance=balance)
        assert alert_outputs(action(store=lost, **ALERTING)) == ("false", "false")


@pytest.mark.parametrize("config", [False, True], ids=["alert input", "config file"])
def test_pull_request_runs_never_alert_and_say_why(
    action: Runner, sandbox: Sandbox, workspace: Path, cache_store: Path, config: bool
) -> None:
    """They restore the default branch's state but cannot save that they alerted: ten pull
    requests opened while low would alert ten times. A later scheduled run still alerts."""
    inputs = {} if config else ALERTING
    if config:
        (workspace / ".predev-credits.yml").write_text("alert_below: 200\n", encoding="utf-8")
    assert alert_outputs(action(**inputs)) == ("false", "false")  # scheduled, 450
    sandbox.configure(balance=150)
    for _ in range(3):
        run = action(event=PULL_REQUEST, **inputs)
        assert run.code == 0
        assert alert_outputs(run) == ("false", "false")
        assert "not checked on this run: a pull\\_request run restores" in run.summary
        assert "save" not in [step.id for step in run.steps]
        if not config:
            assert "pre.dev credits alert: not checked on this run" in run.log
    assert len(saved_keys(cache_store)) == 1
    assert alert_outputs(action(**inputs)) == ("true", "false")  # the schedule still hears it


def test_the_history_off_means_no_alert_and_a_warning(action: Runner, sandbox: Sandbox) -> None:
    sandbox.configure(balance=150)
    run = action(history="false", **ALERTING)
    assert alert_outputs(run) == ("false", "false")
    [warning] = [w for w in run.annotations("warning") if "low-credit alert" in w]
    assert "can never fire here" in warning
    assert 'not checked on this run: the history input is "false"' in run.summary


@pytest.fixture
def hostile_api() -> Iterator[tuple[str, list[float]]]:
    """An API that answers a balance from a list, wrapped in fields full of workflow
    commands, expressions and Markdown: none of it may reach an output or the summary."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    balances: list[float] = []
    noise = "::error::pwned%0A\n${{ secrets.X }} <img src=x> [a](javascript:1) `rm` \"'|"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = json.dumps(
                {
                    "success": True,
                    "creditsRemaining": balances[0],
                    "message": noise,
                    "topUpUrl": "javascript:alert(1)",
                    noise: noise,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Note", "pwned")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", balances
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_alert_message_holds_nothing_the_server_said(
    action: Runner, hostile_api: tuple[str, list[float]]
) -> None:
    url, balances = hostile_api
    runs = []
    for balance in (450, 180.123456, 260):
        balances[:] = [balance]
        runs.append(action(**{"base-url": url, **ALERTING}))
    fell, back = runs[1], runs[2]
    assert alert_outputs(fell) == ("true", "false")
    assert alert_outputs(back) == ("false", "true")
    assert fell.outputs["alert-message"].startswith(
        "pre.dev credits low: 180.12 remaining, below the alert level 200; "
    )
    for run in runs:
        for text in (*run.outputs.values(), run.summary, run.log):
            assert "pwned" not in text
            assert "javascript" not in text
            assert "${{" not in text


# --- install ------------------------------------------------------------------------------------


def site_packages(venv: Path) -> Path:
    [site] = venv.glob("lib/python3*/site-packages")
    return site


def test_install_puts_exactly_the_locked_wheels_in_the_venv_and_builds_nothing(
    action: Runner, runner_temp: Path, action_path: Path
) -> None:
    assert action().code == 0
    venv = runner_temp / "predev-credits-check-venv"
    site = site_packages(venv)
    installed = {canonicalize_name(p.name.split("-")[0]) for p in site.glob("*.dist-info")}
    pins = lockfile.read(action_path / "action-requirements.txt")
    assert installed == {pin.name for pin in pins if pin.applies()}
    assert not (venv / "bin" / "pip").exists(), "pip was created inside the venv"
    assert (site / "predev-credits-check.pth").read_text(encoding="utf-8") == f"{action_path}\n"
    assert not list(action_path.glob("*.egg-info")), "the package was built from source"
    assert not (action_path / "build").exists()


def test_code_in_the_workspace_cannot_take_the_packages_place(
    action: Runner, workspace: Path
) -> None:
    """The check runs with `python -I`: the checked-out repository is not on sys.path."""
    for name in ("predev_integrations/__init__.py", "httpx.py", "yaml.py"):
        (workspace / name).parent.mkdir(exist_ok=True)
        (workspace / name).write_text("raise SystemExit('workspace code ran')\n", encoding="utf-8")
    (workspace / ".predev-credits.yml").write_text("min_credits: 5\n", encoding="utf-8")
    run = action()
    assert run.outputs["status"] == "ok"
    assert "workspace code ran" not in run.log


def test_second_run_in_a_job_reuses_the_venv(action: Runner, runner_temp: Path) -> None:
    action()  # makes the venv if no earlier test did
    venv = runner_temp / "predev-credits-check-venv"
    before = {p: p.stat().st_mtime_ns for p in (venv / ".predev-stamp", venv / "bin" / "python")}
    run = action()
    assert run.code == 0
    assert "Reusing" in run.step("install").stdout
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert run.step("install").outputs["python"] == str(venv / "bin" / "python")


def test_python_input_picks_the_interpreter_and_keys_the_venv(
    action: Runner, tmp_path: Path
) -> None:
    run = action(temp=tmp_path, python=sys.executable)
    assert run.outputs["status"] == "ok"
    assert "Creating" in run.step("install").stdout
    stamp = (tmp_path / "predev-credits-check-venv" / ".predev-stamp").read_text(encoding="utf-8")
    assert stamp.startswith(f"{sys.executable}|")


def test_a_python_without_pip_gets_one_bootstrapped_in_the_venv(
    action: Runner, tmp_path: Path
) -> None:
    """Slower, same lock: ensurepip puts pip in the venv, which installs the locked wheels."""
    no_pip = tmp_path / "python-without-pip"
    no_pip.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$*" = "-I -c import pip" ]; then exit 1; fi\n'
        f'exec {sys.executable} "$@"\n',
        encoding="utf-8",
    )
    no_pip.chmod(0o755)
    run = action(temp=tmp_path, python=str(no_pip))
    assert run.outputs["status"] == "ok"
    assert (tmp_path / "predev-credits-check-venv" / "bin" / "pip").exists()


def test_a_changed_lock_makes_a_new_venv(
    action_path: Path, runner_env: dict[str, str], sandbox: Sandbox, api_key: str, tmp_path: Path
) -> None:
    copy = shutil.copytree(action_path, tmp_path / "action")
    inputs = {"api-key": api_key, "base-url": sandbox.url}
    kwargs: dict[str, Any] = {"env": runner_env, "runner_temp": tmp_path, "workspace": tmp_path}
    assert "Creating" in run_action(copy, inputs, **kwargs).step("install").stdout
    with (copy / "action-requirements.txt").open("a", encoding="utf-8") as lock:
        lock.write("# touched\n")
    assert "Creating" in run_action(copy, inputs, **kwargs).step("install").stdout


def assert_install_failed(run: ActionRun, sandbox: Sandbox, *words: str) -> str:
    """Exit 2 at the install step, error outputs, one ::error line naming `words`; no check."""
    assert run.code == 2
    assert run.steps[-1].id == "install"
    assert run.outputs == {
        "credits-remaining": "",
        "status": "error",
        "sufficient": "false",
        **NO_RUNWAY,
    }
    [error] = run.annotations("error")
    assert error.startswith("::error title=pre.dev credits check could not start::")
    for word in words:
        assert word in error
    assert sandbox.requests == 0
    return error


def test_a_tampered_hash_in_the_lock_fails_the_install(
    action_path: Path, runner_env: dict[str, str], sandbox: Sandbox, api_key: str, tmp_path: Path
) -> None:
    copy = shutil.copytree(action_path, tmp_path / "action")
    lock = copy / "action-requirements.txt"
    text = lock.read_text(encoding="utf-8")
    for digest in re.findall(r"sha256:([0-9a-f]{64})", text):
        text = text.replace(digest, digest[::-1])  # every file's hash, so no wheel matches
    lock.write_text(text, encoding="utf-8")
    run = run_action(
        copy,
        {"api-key": api_key, "base-url": sandbox.url},
        env=runner_env,
        runner_temp=tmp_path,
        workspace=tmp_path,
    )
    assert_install_failed(run, sandbox, "action-requirements.txt")
    assert "HASHES" in run.step("install").stderr
    assert not (tmp_path / "predev-credits-check-venv" / ".predev-stamp").exists()


def test_an_unreachable_index_fails_the_install(
    action: Runner,
    runner_env: dict[str, str],
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS"):
        monkeypatch.delitem(runner_env, name)
    monkeypatch.setitem(runner_env, "PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setitem(runner_env, "PIP_RETRIES", "0")
    assert_install_failed(action(temp=tmp_path), sandbox, "action-requirements.txt")


def test_missing_python_fails_with_error_outputs(
    action: Runner, tmp_path: Path, sandbox: Sandbox
) -> None:
    run = action(temp=tmp_path, python="python3.0-not-here")
    assert [step.id for step in run.steps] == ["mask", "install"]
    assert_install_failed(run, sandbox, "python3.0-not-here", "actions/setup-python")


def test_the_python_input_cannot_forge_workflow_commands(
    action: Runner, tmp_path: Path, sandbox: Sandbox
) -> None:
    """A newline in the input stays inside the one ::error line, escaped."""
    run = action(temp=tmp_path, python="nope\n::warning::forged\r\n::set-output name=x::1 100%")
    error = assert_install_failed(run, sandbox, "nope%0A::warning::forged%0D%0A::set", "100%25")
    assert run.log.count("::") == error.count("::") + run.log.count("::add-mask::") * 2
    assert not run.annotations("warning")


# --- the harness itself ------------------------------------------------------------------------


def test_command_files_parse_both_forms() -> None:
    text = "status=ok\nmessage<<EOF_1\nline one\nline=two\nEOF_1\nempty=\n"
    assert parse_command_file(text) == {
        "status": "ok",
        "message": "line one\nline=two",
        "empty": "",
    }


def test_expressions_fall_back_with_or_and_refuse_the_unknown() -> None:
    context = {"steps": {"a": {"outputs": {"x": ""}}, "b": {"outputs": {"x": "b"}}}, "inputs": {}}
    assert evaluate(" steps.a.outputs.x || steps.b.outputs.x ", context) == "b"
    assert evaluate("inputs.missing || 'it''s'", context) == "it's"
    with pytest.raises(UnsupportedExpression):
        evaluate("format('{0}', inputs.x)", context)
    with pytest.raises(UnsupportedExpression):
        evaluate("secrets.KEY", context)


def test_step_conditions_follow_github_s_rules() -> None:
    context = {"steps": {"h": {"outputs": {"save": "true"}}}}
    assert condition("steps.h.outputs.save == 'true'", context, failed=False)
    assert not condition("steps.h.outputs.save == 'true'", context, failed=True)  # success()
    assert condition("always() && steps.h.outputs.save == 'true'", context, failed=True)
    assert not condition("always() && steps.h.outputs.save != 'true'", context, failed=True)
    assert condition("failure()", context, failed=True)
    assert not condition("success()", context, failed=True)
    with pytest.raises(UnsupportedExpression):
        condition("contains(github.ref, 'main')", context, failed=False)


# --- the core's side of it ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [["--format", "github"], ["--format=github"], []])
def test_cli_usage_errors_set_github_outputs_only_in_github_format(
    run_cli: Any, tmp_path: Path, fmt: list[str]
) -> None:
    outputs = tmp_path / "github_output"
    outputs.write_text("", encoding="utf-8")
    result = run_cli(*fmt, "--retries", "many", env={"GITHUB_OUTPUT": str(outputs)})
    assert result.code == 2
    written = parse_command_file(outputs.read_text(encoding="utf-8"))
    if fmt:
        assert {**written, "need": "", "shortfall": ""} == {  # no need: the CLI writes neither
            "credits-remaining": "",
            "status": "error",
            "sufficient": "false",
            **NO_RUNWAY,
        }
        assert "need" not in written
        assert result.stdout.startswith("::error title=pre.dev credits check failed::")
        assert "--retries" in result.stdout
    else:
        assert written == {}
        assert result.stderr.startswith("predev-credits-check: error: argument --retries")
