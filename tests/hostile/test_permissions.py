"""Issue 20, class 3: we only ever remove group/other permissions, only from directories we
created or own, never through a symlink, never on a sticky or shared directory (we use a
subdirectory of ours there), and never make a read-only directory writable again.

The cache and the crash log share this code (`_cli.cache.private_dir`), so each case runs
through both: the CLI with a cache (text, json, github) and a crash of ours writing its log.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import RawServer, Run, http_response, replying

OK = http_response(200, json.dumps({"success": True, "creditsRemaining": 450}).encode())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def crash(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    """A bug of ours in the check (in process): the crash log goes under `cache_dir`."""
    from predev_integrations._cli import main as cli

    def broken(*args: object, **kwargs: object) -> float:
        raise RuntimeError("a bug of ours")

    monkeypatch.setenv("PREDEV_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("PREDEV_API_KEY", "pdk_permissions_test_key_0123456789")
    monkeypatch.setattr(cli, "_fetch", broken)
    assert cli.main(["--format", fmt]) == 3


def make_dir(path: Path, mode: int) -> Path:
    """A directory with exactly `mode`: mkdir's own mode would pass through the umask."""
    path.mkdir()
    path.chmod(mode)
    return path


HOWS = ["cache", "crash-log"]
FORMATS = ["text", "json", "github"]


@pytest.fixture(
    params=[pytest.param((how, fmt), id=f"{how}-{fmt}") for how in HOWS for fmt in FORMATS]
)
def use_dir(
    request: pytest.FixtureRequest,
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[Path], None]:
    """`use_dir(directory)` with PREDEV_CACHE_DIR=directory: a cached check (`cache-*`) or a
    crash of ours (`crash-log-*`), in each format, so that every case below runs through both
    users of `private_dir` (an indirect parametrize picks fewer)."""
    how, fmt = request.param
    server = serve(replying(OK))

    def use(directory: Path) -> None:
        if how == "cache":
            env = {"PREDEV_CACHE_DIR": str(directory)}
            result = run_cli(
                "--base-url", server.url, "--cache-ttl", "300", "--format", fmt, env=env
            )
            assert result.code == 0, result.stderr
        else:
            crash(directory, monkeypatch, fmt)
            capsys.readouterr()

    return use


def test_a_sticky_shared_directory_keeps_its_mode_and_we_use_a_subdirectory(
    tmp_path: Path, use_dir: Callable[[Path], None]
) -> None:
    """PREDEV_CACHE_DIR=/tmp (as root, too): /tmp stays 1777; our files go in a 0700 subdir."""
    shared = make_dir(tmp_path / "shared-tmp", 0o1777)
    use_dir(shared)
    assert mode_of(shared) == 0o1777
    assert not [p for p in shared.iterdir() if p.is_file()], "files dropped into a shared dir"
    ours = [p for p in shared.iterdir() if p.is_dir()]
    assert len(ours) == 1
    assert mode_of(ours[0]) == 0o700
    assert any(ours[0].iterdir())


def test_a_symlink_never_carries_a_chmod(tmp_path: Path, use_dir: Callable[[Path], None]) -> None:
    """A symlink planted where the cache goes, pointing at a victim's 0755 directory."""
    victim = make_dir(tmp_path / "victim", 0o755)
    link = tmp_path / "cache-link"
    link.symlink_to(victim)
    use_dir(link)
    assert mode_of(victim) == 0o755


def test_a_read_only_directory_is_never_made_writable(
    tmp_path: Path, use_dir: Callable[[Path], None]
) -> None:
    frozen = make_dir(tmp_path / "frozen", 0o555)
    use_dir(frozen)
    assert not mode_of(frozen) & 0o222, f"made writable: {oct(mode_of(frozen))}"


def test_our_own_open_directory_only_loses_group_and_other_bits(
    tmp_path: Path, use_dir: Callable[[Path], None]
) -> None:
    """A directory of ours that others can write: group/other bits go, nothing is added."""
    ours = make_dir(tmp_path / "open", 0o777)
    use_dir(ours)
    assert mode_of(ours) == 0o700


@pytest.mark.parametrize("use_dir", [(how, "text") for how in HOWS], ids=HOWS, indirect=True)
def test_a_directory_we_create_is_private(tmp_path: Path, use_dir: Callable[[Path], None]) -> None:
    fresh = tmp_path / "a" / "b"
    use_dir(fresh)
    assert mode_of(fresh) == 0o700
    assert os.listdir(fresh)
