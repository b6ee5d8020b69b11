"""Issue 20, class 4: no write can block. Every file we write is opened non-blocking and used
only if it is a regular file ($GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY: or /dev/null); anything
else is one clear line, at once."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ACTION_STEP, CLI, RawServer, Run, bounded, http_response, replying

OK = http_response(200, json.dumps({"success": True, "creditsRemaining": 450}).encode())
#: The entry points that write the step's files: the CLI's github format and the Action's step.
ENTRIES = {"cli-github": (CLI, ["--format", "github"]), "action-step": (ACTION_STEP, [])}


@pytest.mark.parametrize("target", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_fifo_without_a_reader_as_a_step_file_is_refused_at_once(
    entry: str,
    target: str,
    tmp_path: Path,
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
) -> None:
    fifo = tmp_path / "step-file.fifo"
    os.mkfifo(fifo)
    module, args = ENTRIES[entry]
    url = serve(replying(OK)).url
    env = {target: str(fifo), "PREDEV_BASE_URL": url}
    result = run_cli(*args, env=env, module=module, bound=5)
    assert result.code == 0  # the verdict's code: the check itself went fine
    line = [x for x in result.stderr.splitlines() if target in x]
    assert len(line) == 1, result.stderr
    assert "FIFO" in line[0]


@pytest.mark.parametrize("target", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_dev_null_as_a_step_file_is_fine(
    entry: str, target: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    module, args = ENTRIES[entry]
    env = {target: os.devnull, "PREDEV_BASE_URL": serve(replying(OK)).url}
    result = run_cli(*args, env=env, module=module, bound=5)
    assert result.code == 0
    assert result.stderr == ""


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_fifo_at_the_crash_log_path_does_not_hang(
    fmt: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from predev_integrations._cli import main as cli
    from predev_integrations._cli.crashlog import LOG_NAME

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.mkfifo(cache / LOG_NAME)

    def broken(*args: object, **kwargs: object) -> float:
        raise RuntimeError("a bug of ours")

    monkeypatch.setenv("PREDEV_CACHE_DIR", str(cache))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("PREDEV_API_KEY", "pdk_fifo_test_key_0123456789")
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setattr(cli, "_fetch", broken)
    codes: list[int] = []
    assert bounded(lambda: codes.append(cli.main(["--format", fmt])), 5) is None
    assert codes == [3]
    out, err = capsys.readouterr()
    assert "internal error (RuntimeError)" in out + err
    assert str(cache / LOG_NAME) not in out + err  # the log went elsewhere
