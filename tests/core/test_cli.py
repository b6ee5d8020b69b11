"""The CLI as users run it: a subprocess against the real sandbox on loopback."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from predev_integrations import __version__
from predev_integrations._cli import cache, history
from predev_integrations._cli import main as cli
from predev_integrations.sandbox import BODIES, Sandbox

RunCli = Callable[..., Any]  # conftest.run_cli, returning a CliResult


def as_json(result: Any) -> dict[str, object]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        (["--min-credits", "100"], 0, "ok"),
        (["--min-credits", "450"], 0, "ok"),
        (["--min-credits", "100", "--warn-below", "500"], 0, "warn"),
        (["--min-credits", "450.5"], 1, "low"),
        (["--min-credits", "1000", "--on-low", "warn"], 0, "low"),
    ],
)
def test_verdicts_and_exit_codes(run_cli: RunCli, args: list[str], code: int, status: str) -> None:
    result = run_cli(*args, "--format", "json")
    assert result.code == code
    data = as_json(result)
    assert set(data) == {
        "status",
        "credits_remaining",
        "min_credits",
        "warn_below",
        "cached",
        "error",
        "runway",
        "alert",
    }
    assert data["alert"] is None  # no alert flag
    assert data["status"] == status
    assert data["credits_remaining"] == 450
    assert data["error"] is None
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ([], "450 remaining (floor 1): ok."),
        (["--min-credits", "10", "--warn-below", "500"], "(floor 10, warn below 500): warn"),
        (["--min-credits", "500"], "(floor 500): LOW, below the floor"),
    ],
)
def test_text_output_is_one_line(run_cli: RunCli, args: list[str], text: str) -> None:
    result = run_cli(*args)
    assert text in result.stdout
    assert result.stdout.count("\n") == 1


def test_a_rejected_key_exits_3(run_cli: RunCli, sandbox: Sandbox) -> None:
    result = run_cli("--format", "json", env={"PREDEV_API_KEY": "pdk_wrong_key_value"})
    assert result.code == 3
    data = as_json(result)
    assert data["status"] == "error"
    assert data["credits_remaining"] is None
    assert "HTTP 401" in str(data["error"])
    assert "HTTP 401" in result.stderr
    assert sandbox.requests == 1  # a 401 is never retried
    assert "pdk_wrong_key_value" not in result.stdout + result.stderr


def test_missing_context_exits_3_with_the_documented_message(
    run_cli: RunCli, sandbox: Sandbox
) -> None:
    sandbox.configure(statuses=[400])
    result = run_cli()
    assert result.code == 3
    assert "Missing context" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {"PREDEV_API_KEY": ""}, "PREDEV_API_KEY is empty"),
        (["--api-key-env", "TEAM_KEY"], {}, "TEAM_KEY is not set"),
        (["--base-url", "http://api.pre.dev"], {}, "unencrypted"),
        (["--min-credits", "-5"], {}, "argument --min-credits"),
        (["--min-credits", "lots"], {}, "is not a number"),
        (["--timeout", "0"], {}, "must be a number above 0"),
        (["--retries", "-1"], {}, "must be a whole number >= 0"),
        (["--format", "xml"], {}, "invalid choice"),
        (["--on-error", "ignore"], {}, "invalid choice"),
        (["--config", "absent.yml"], {}, "does not exist"),
        (["--api-key-file", "k", "--api-key-env", "X"], {}, "not allowed with"),
        (["--min-credits", "5", "--warn-below", "1"], {}, "would never warn"),
        # Flags are spelled in full: `--form github` must not pass for `--format github`.
        (["--form", "github"], {}, "unrecognized arguments: --form"),
        (["--min", "5"], {}, "unrecognized arguments: --min"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    run_cli: RunCli, sandbox: Sandbox, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_cli(*args, env=env)
    assert result.code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert sandbox.requests == 0


def test_missing_key_explains_how_to_set_it(run_cli: RunCli, cli_env: dict[str, str]) -> None:
    del cli_env["PREDEV_API_KEY"]
    result = run_cli()
    assert result.code == 2
    assert "PREDEV_API_KEY is not set" in result.stderr
    assert "export PREDEV_API_KEY=" in result.stderr


def test_config_errors_still_report_in_json(run_cli: RunCli) -> None:
    result = run_cli("--format", "json", "--min-credits", "7", env={"PREDEV_API_KEY": ""})
    assert result.code == 2
    data = as_json(result)
    assert (data["status"], data["min_credits"], data["credits_remaining"]) == ("error", 7, None)


def test_key_from_a_file(run_cli: RunCli, api_key: str, tmp_path: Path) -> None:
    key_file = tmp_path / "predev.key"
    key_file.write_text(api_key + "\n")
    assert run_cli("--api-key-file", str(key_file), env={"PREDEV_API_KEY": ""}).code == 0


def test_key_from_a_named_variable(run_cli: RunCli, api_key: str) -> None:
    result = run_cli(
        "--api-key-env", "TEAM_PREDEV_KEY", env={"TEAM_PREDEV_KEY": api_key, "PREDEV_API_KEY": "x"}
    )
    assert result.code == 0


def test_config_file_in_the_working_directory(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / ".predev-credits.yml").write_text("min_credits: 400\nwarn_below: 500\n")
    result = run_cli("--format", "json")
    assert (result.code, as_json(result)["status"], as_json(result)["min_credits"]) == (
        0,
        "warn",
        400,
    )
    assert run_cli("--min-credits", "451").code == 1  # a flag beats the file


def test_bad_config_file_names_the_key(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / ".predev-credits.yml").write_text("min_credits: 5\nfloor: 3\n")
    result = run_cli()
    assert result.code == 2
    assert "unknown key 'floor'" in result.stderr


def test_recovers_from_two_server_errors(run_cli: RunCli, sandbox: Sandbox) -> None:
    sandbox.configure(statuses=[500, 500])
    result = run_cli()
    assert result.code == 0
    assert sandbox.requests == 3


def test_gives_up_after_retries_and_says_so(run_cli: RunCli, sandbox: Sandbox) -> None:
    sandbox.configure(statuses=[500, 500, 500, 500])
    result = run_cli("--retries", "1")
    assert result.code == 3
    assert "HTTP 500" in result.stderr
    assert "gave up after 2 attempts" in result.stderr
    assert sandbox.requests == 2


def test_zero_retries_means_one_request(run_cli: RunCli, sandbox: Sandbox) -> None:
    sandbox.configure(statuses=[503])
    assert run_cli("--retries", "0").code == 3
    assert sandbox.requests == 1


def test_retry_after_is_honoured(run_cli: RunCli, sandbox: Sandbox) -> None:
    sandbox.configure(statuses=[429], retry_after="1")
    started = time.monotonic()
    result = run_cli()
    waited = time.monotonic() - started
    assert result.code == 0
    assert sandbox.requests == 2
    assert waited >= 1.0


def test_timeouts_are_bounded_by_the_deadline(run_cli: RunCli, sandbox: Sandbox) -> None:
    sandbox.configure(latency=3)
    started = time.monotonic()
    result = run_cli("--timeout", "0.5", "--retries", "10", "--deadline", "1.5")
    elapsed = time.monotonic() - started
    assert result.code == 3
    assert "Timed out" in result.stderr
    assert elapsed < 1.5 + 2.5  # the deadline plus interpreter start-up, never 10 retries
    assert 2 <= sandbox.requests <= 4


def test_unreachable_api_with_on_error_warn_exits_0(run_cli: RunCli) -> None:
    result = run_cli(
        "--base-url",
        "http://127.0.0.1:9",
        "--on-error",
        "warn",
        "--retries",
        "0",
        "--format",
        "json",
    )
    assert result.code == 0
    assert as_json(result)["status"] == "error"
    assert "warning: could not read the credit balance" in result.stderr
    assert "Continuing because --on-error is warn" in result.stderr


def test_unreachable_api_fails_with_3(run_cli: RunCli) -> None:
    result = run_cli("--base-url", "http://127.0.0.1:9", "--retries", "1")
    assert result.code == 3
    assert "Could not reach 127.0.0.1" in result.stderr


@pytest.mark.parametrize("body", sorted([*BODIES, "huge", "huge-chunked"]))
def test_each_malformed_answer_exits_3_with_one_line(
    run_cli: RunCli, sandbox: Sandbox, body: str
) -> None:
    sandbox.configure(body=body)
    result = run_cli()
    assert result.code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert len(result.stderr) < 400
    assert sandbox.requests == 1  # a wrong answer is not retried


def test_redirect_is_not_followed_and_the_key_stays_home(
    run_cli: RunCli, sandbox: Sandbox, api_key: str
) -> None:
    with Sandbox(key=api_key) as elsewhere:
        sandbox.configure(redirect_to=f"{elsewhere.url}/credits-balance")
        result = run_cli()
        assert result.code == 3
        assert "redirect" in result.stderr
        assert elsewhere.requests == 0
    assert [entry["authorization"] for entry in sandbox.log] == [f"Bearer {api_key}"]


def test_sends_documented_headers(run_cli: RunCli, sandbox: Sandbox) -> None:
    run_cli()
    (entry,) = sandbox.log
    assert entry["accept"] == "application/json"
    assert entry["user_agent"] == f"predev-integrations/{__version__} (cli)"


def max_rss_kib(args: list[str], env: dict[str, str], cwd: Path) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "predev_integrations", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return int(usage.ru_maxrss)


def test_a_20_mib_body_is_not_read_into_memory(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    baseline = max_rss_kib([], cli_env, tmp_path)
    sandbox.configure(body="huge-chunked")
    huge = max_rss_kib([], cli_env, tmp_path)
    assert huge - baseline < 8 * 1024  # KiB: far below the 20 MiB the server offers


def test_a_cache_hit_makes_no_request(run_cli: RunCli, sandbox: Sandbox) -> None:
    first = as_json(run_cli("--cache-ttl", "60", "--format", "json"))
    second = as_json(run_cli("--cache-ttl", "60", "--format", "json"))
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["credits_remaining"] == 450
    assert sandbox.requests == 1
    run_cli("--format", "json")  # no TTL: always asks
    assert sandbox.requests == 2


def test_cache_is_per_base_url_and_key(run_cli: RunCli, sandbox: Sandbox, api_key: str) -> None:
    run_cli("--cache-ttl", "60")
    result = run_cli("--cache-ttl", "60", env={"PREDEV_API_KEY": api_key + "x"})
    assert result.code == 3  # a different key is not served from the first key's entry
    assert sandbox.requests == 2


def test_twenty_processes_share_one_cache(
    sandbox: Sandbox, cli_env: dict[str, str], cache_dir: Path, tmp_path: Path, api_key: str
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "predev_integrations", "--cache-ttl", "60"],
            env=cli_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 20
    for out, err in outputs:
        assert api_key.encode() not in out + err
    files = list(cache_dir.glob("balance-*"))
    assert len(files) == 1
    assert cache.read(files[0], ttl=60, now=time.time()) == 450
    assert api_key.encode() not in files[0].read_bytes()
    assert 1 <= sandbox.requests <= 20
    # Every live run recorded its reading, none tore the file (readings at the same
    # millisecond with the same balance are one reading).
    [history_file] = cache_dir.glob("history-*")
    assert 1 <= len(history.load(history_file)) <= sandbox.requests
    assert api_key.encode() not in history_file.read_bytes()


def test_github_format_writes_outputs_and_summary(run_cli: RunCli, tmp_path: Path) -> None:
    outputs, summary = tmp_path / "out", tmp_path / "summary"
    result = run_cli(
        "--format",
        "github",
        "--min-credits",
        "500",
        env={"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.code == 1
    assert outputs.read_text() == (
        "credits-remaining=450\nstatus=low\nsufficient=false\nrunway-hours=\n"
        "runway-hours-p10=\nrunway-hours-p90=\nburn-per-hour=\n"
        "alert=false\nrecovered=false\nalert-message=\n"
    )
    assert "| 450 | 500 | — | ❌ low |" in summary.read_text()
    assert result.stdout.startswith("::error title=pre.dev credits low::")


def test_version(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert (result.code, result.stdout.strip()) == (0, f"predev-credits-check {__version__}")


def test_python_dash_m_and_console_script_agree(cli_env: dict[str, str], tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("predev-credits-check")
    proc = subprocess.run(
        [str(script), "--min-credits", "1"],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "450 remaining" in proc.stdout


@pytest.fixture
def a_bug(
    monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str], api_key: str, tmp_path: Path
) -> None:
    """The check fails with an exception of ours whose message quotes the key."""
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    def broken(args: object, keys: list[object]) -> None:
        raise RuntimeError(f"unexpected state near {api_key[2:]}")

    monkeypatch.setattr(cli, "check", broken)


def logged(stderr: str) -> Path:
    """The log file named by the one-line internal error."""
    (line,) = stderr.splitlines()
    assert line.startswith("predev-credits-check: error: internal error (RuntimeError)")
    return Path(line.split("the traceback is in ", 1)[1].split(". Please report it.")[0])


@pytest.mark.usefixtures("a_bug")
def test_a_bug_is_one_line_naming_a_private_log_with_the_traceback(
    capsys: pytest.CaptureFixture[str], api_key: str, cache_dir: Path
) -> None:
    assert cli.main([]) == 3
    err = capsys.readouterr().err
    path = logged(err)
    assert path.parent == cache_dir
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "Traceback" in text
    assert "RuntimeError: unexpected state near ***" in text
    assert not any(api_key[i : i + 8] in text + err for i in range(len(api_key) - 7))


@pytest.mark.usefixtures("a_bug")
def test_without_a_usable_cache_directory_the_log_goes_to_a_private_temp_dir(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("PREDEV_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli.main([]) == 3
    path = logged(capsys.readouterr().err)
    assert path.parent == tmp_path / f"predev-{os.geteuid()}"
    assert path.name == "predev-credits-check.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
