"""What the CLI loads on each path (cheap to start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import predev_integrations

HEAVY = ("httpx", "httpcore", "ssl", "yaml", "airflow")
#: What a cache hit never needs: type hints, URL parsing, paths as objects, dataclasses.
NOT_ON_A_HIT = ("typing", "pathlib", "urllib.parse", "ipaddress", "dataclasses")
#: The checkout's root, for a `python -S` run that has no site-packages (and so no `.pth`).
ROOT = str(Path(predev_integrations.__file__).parent.parent)


def loaded_by_main(
    argv: list[str], env: dict[str, str], cwd: Path, watched: tuple[str, ...] = HEAVY, *flags: str
) -> tuple[int, list[str]]:
    """Run `main(argv)` in a fresh interpreter; its exit code and which `watched` it loaded."""
    probe = (
        "import sys; from predev_integrations._cli.main import main; "
        f"code = main({argv!r}); "
        f"print(code, ','.join(sorted(m for m in {watched!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, *flags, "-c", probe],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
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


def test_a_cache_hit_imports_only_what_it_needs(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert loaded_by_main(["--cache-ttl", "60"], cli_env, tmp_path)[0] == 0  # fills the cache
    # -S: no site-packages, so no start-up hook of the dev venv imports typing before us.
    env = {**cli_env, "PYTHONPATH": ROOT}
    env.pop("PYTHONSTARTUP", None)
    hit = loaded_by_main(["--cache-ttl", "60"], env, tmp_path, NOT_ON_A_HIT, "-S")
    assert hit == (0, [])


def test_a_live_check_loads_httpx_but_not_yaml(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert loaded_by_main([], cli_env, tmp_path) == (0, ["httpcore", "httpx", "ssl"])


def test_a_config_file_is_what_brings_yaml_in(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".predev-credits.yml").write_text("min_credits: 5\n")
    assert "yaml" in loaded_by_main([], cli_env, tmp_path)[1]


def test_an_everyday_cache_hit_neither_reads_the_history_nor_forecasts(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The history costs a hit nothing: no module of it loads unless a runway is asked for."""
    runway = ("predev_integrations._cli.history", "predev_integrations._core.forecast")
    assert loaded_by_main(["--cache-ttl", "60"], cli_env, tmp_path, runway)[0] == 0
    assert loaded_by_main(["--cache-ttl", "60"], cli_env, tmp_path, runway) == (0, [])
    asked = loaded_by_main(["--cache-ttl", "60", "--min-runway", "1d"], cli_env, tmp_path, runway)
    assert asked == (0, list(runway))
