"""What a live CLI check loads, and what it leaves as it found it (the process's GC)."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from predev_integrations.cli import main


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="needs rich installed")
def test_a_live_check_leaves_httpx_cli_dependencies_unloaded(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    probe = (
        "import sys; from predev_integrations.cli import main; code = main([]); "
        "print(code, sorted(m for m in ('rich', 'click', 'pygments', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines()[-1] == "0 []"  # the check read the balance through httpx all the same


def test_main_turns_the_garbage_collector_back_on(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert gc.isenabled()
    assert main([]) == 0
    assert gc.isenabled()
