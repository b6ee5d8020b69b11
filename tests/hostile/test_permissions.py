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


@pytest.fixture
def use_dir(
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[Path, str, str], None]:
    """`use_dir(directory, how, fmt)`: a cached check (`how="cache"`) or a crash (`"crash-log"`)
    with PREDEV_CACHE_DIR=directory."""
    server = serve(replying(OK))

    def use(directory: Path, how: str, fmt: str) -> None:
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


HOWS = ["cache", "crash-log"]
FORMATS = ["text", "json", "github"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_a_sticky_shared_directory_keeps_its_mode_and_we_use_a_subdirectory(
    how: str, fmt: str, tmp_path: Path, use_dir: Callable[[Path, str, str], None]
) -> None:
    """PREDEV_CACHE_DIR=/tmp (as root, too): /tmp stays 1777; our files go in a 0700 subdir."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    use_dir(shared, how, fmt)
    assert mode_of(shared) == 0o1777
    assert not [p for p in shared.iterdir() if p.is_file()], "files dropped into a shared dir"
    ours = [p for p in shared.iterdir() if p.is_dir()]
    assert len(ours) == 1
    assert mode_of(ours[0]) == 0o700
    assert any(ours[0].iterdir())


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_a_symlink_never_carries_a_chmod(
    how: str, fmt: str, tmp_path: Path, use_dir: Callable[[Path, str, str], None]
) -> None:
    """A symlink planted where the cache goes, pointing at a victim's 0755 directory."""
    victim = tmp_path / "victim"
    victim.mkdir()
    victim.chmod(0o755)
    link = tmp_path / "cache-link"
    link.symlink_to(victim)
    use_dir(link, how, fmt)
    assert mode_of(victim) == 0o755


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_a_read_only_directory_is_never_made_writable(
    how: str, fmt: str, tmp_path: Path, use_dir: Callable[[Path, str, str], None]
) -> None:
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    frozen.chmod(0o555)
    use_dir(frozen, how, fmt)
    assert not mode_of(frozen) & 0o222, f"made writable: {oct(mode_of(frozen))}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", HOWS)
def test_our_own_open_directory_only_loses_group_and_other_bits(
    how: str, fmt: str, tmp_path: Path, use_dir: Callable[[Path, str, str], None]
) -> None:
    """A directory of ours that others can write: group/other bits go, nothing is added."""
    ours = tmp_path / "open"
    ours.mkdir()
    ours.chmod(0o777)
    use_dir(ours, how, fmt)
    assert mode_of(ours) == 0o700


@pytest.mark.parametrize("how", HOWS)
def test_a_directory_we_create_is_private(
    how: str, tmp_path: Path, use_dir: Callable[[Path, str, str], None]
) -> None:
    fresh = tmp_path / "a" / "b"
    use_dir(fresh, how, "text")
    assert mode_of(fresh) == 0o700
    assert os.listdir(fresh)
