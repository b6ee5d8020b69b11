"""Class 9: a closed or full stdout, and Ctrl-C at any moment, end with a documented exit code
and no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import RawServer, Run, http_response, replying

OK = http_response(200, b'{"success": true, "creditsRemaining": 450}')


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_closed_stdout_keeps_the_verdicts_exit_code(
    fmt: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    """`predev-credits-check | head -0`: the reader is gone before anything is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = run_cli("--base-url", serve(replying(OK)).url, "--format", fmt, stdout=write)
    finally:
        os.close(write)
    assert result.code == 0
    assert result.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(("floor", "code"), [("1", 0), ("1000", 1)])
def test_a_full_stdout_keeps_the_verdicts_exit_code(
    floor: str, code: int, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        result = run_cli("--base-url", serve(replying(OK)).url, "--min-credits", floor, stdout=fd)
    finally:
        os.close(fd)
    assert result.code == code
    assert "Exception ignored" not in result.stderr


#: Installed as sitecustomize: sends SIGINT to the process the moment the CLI's modules
#: start importing (deterministic, unlike a timed kill).
_INTERRUPT_ON_IMPORT = """
import importlib.abc, os, signal, sys

class _Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "predev_integrations.{module}":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, _Interrupt())
"""


@pytest.mark.parametrize("module", ["_cli.main", "_cli.report", "errors", "_core.sanitize"])
@pytest.mark.parametrize("entry", ["predev_integrations", "predev_integrations.github_action"])
def test_ctrl_c_while_the_modules_import_is_exit_130_without_traceback(
    entry: str, module: str, tmp_path: Path
) -> None:
    """The console script and the Action's step alike."""
    (tmp_path / "sitecustomize.py").write_text(_INTERRUPT_ON_IMPORT.format(module=module))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    proc = subprocess.run(
        [sys.executable, "-m", entry, "--version"],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 130
    assert b"Traceback" not in proc.stderr
    assert proc.stderr == b"predev-credits-check: interrupted.\n"


def test_ctrl_c_during_the_request_is_exit_130(
    serve: Callable[..., RawServer], tmp_path: Path
) -> None:
    def hang(conn: object, stop: object) -> None:
        stop.wait(20)  # type: ignore[attr-defined]

    server = serve(hang)
    env = {**os.environ, "PREDEV_API_KEY": "pdk_interrupt_test_key_0123", "NO_PROXY": "*"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "predev_integrations", "--base-url", server.url],
        env=env,
        stderr=subprocess.PIPE,
    )
    while server.connections == 0 and proc.poll() is None:
        signal.pthread_kill  # noqa: B018 - keep the loop body trivial
        import time

        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert err == b"predev-credits-check: interrupted.\n"
