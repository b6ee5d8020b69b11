"""What the CLI loads on each path (cheap to start), and what it leaves as it found it."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from predev_integrations.cli import main

HEAVY = ("httpx", "httpcore", "ssl", "yaml", "airflow", "rich", "click", "pygments")


def loaded_by_main(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    """Run `main(argv)` in a fresh interpreter; its exit code and which HEAVY modules it loaded."""
    probe = (
        "import sys; from predev_integrations.cli import main; "
        f"code = main({argv!r}); "
        f"print(code, ','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout
    code, modules = out.splitlines()[-1].split(" ", 1)
    return int(code), [m for m in modules.split(",") if m]


def test_a_cache_hit_loads_no_http_tls_yaml_or_airflow(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert loaded_by_main(["--cache-ttl", "60"], cli_env, tmp_path) == (
        0,
        ["httpcore", "httpx", "ssl"],
    )
    assert loaded_by_main(["--cache-ttl", "60"], cli_env, tmp_path) == (0, [])  # the hit


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="needs rich installed")
def test_a_live_check_loads_httpx_but_not_its_cli_nor_yaml(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    # rich, click and pygments are httpx's own CLI, never run by a check.
    assert loaded_by_main([], cli_env, tmp_path) == (0, ["httpcore", "httpx", "ssl"])


def test_a_config_file_is_what_brings_yaml_in(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".predev-credits.yml").write_text("min_credits: 5\n")
    assert "yaml" in loaded_by_main([], cli_env, tmp_path)[1]


def test_main_turns_the_garbage_collector_back_on(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert gc.isenabled()
    assert main([]) == 0
    assert gc.isenabled()
