"""Classes 7 and 8: no open can block, and the cache trusts only what we wrote ourselves."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from predev_integrations import cache
from predev_integrations.secret import Secret

from .conftest import RawServer, Run, http_response, replying

#: A uid with no passwd entry, to own a planted file.
NOBODY_UID = 54_321


@pytest.fixture
def server_says(serve: Callable[..., RawServer]) -> Callable[[float], RawServer]:
    def start(balance: float) -> RawServer:
        body = json.dumps({"success": True, "creditsRemaining": balance}).encode()
        return serve(replying(http_response(200, body)))

    return start


def _entry(tmp_path: Path, server: RawServer, key: str, *, mode: int = 0o700) -> Path:
    """The path of the cache entry for (server, key), in a fresh directory of that mode."""
    path = cache.entry_path(tmp_path / "cache", server.url, Secret(key))
    path.parent.mkdir()
    path.parent.chmod(mode)
    return path


def _cached_run(run_cli: Callable[..., Run], server: RawServer, *args: str) -> Run:
    return run_cli("--base-url", server.url, "--cache-ttl", "300", *args, bound=30)


def test_a_fifo_as_the_key_file_is_refused_at_once(
    tmp_path: Path, server_says: Callable[[float], RawServer], run_cli: Callable[..., Run]
) -> None:
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)
    server = server_says(450)
    result = run_cli("--base-url", server.url, "--api-key-file", str(fifo), bound=5)
    assert result.code == 2
    assert "FIFO" in result.stderr


def test_a_fifo_as_the_config_file_is_refused_at_once(
    tmp_path: Path, server_says: Callable[[float], RawServer], run_cli: Callable[..., Run]
) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    result = run_cli("--base-url", server_says(450).url, "--config", str(fifo), bound=5)
    assert result.code == 2
    assert "FIFO" in result.stderr


def test_a_fifo_planted_at_the_cache_entry_is_a_miss(
    tmp_path: Path,
    hostile_key: str,
    server_says: Callable[[float], RawServer],
    run_cli: Callable[..., Run],
) -> None:
    server = server_says(450)
    os.mkfifo(_entry(tmp_path, server, hostile_key))
    result = _cached_run(run_cli, server)
    assert result.code == 0
    assert "450 remaining" in result.stdout


@pytest.mark.parametrize(
    "content",
    [
        '{"v": 1, "credits_remaining": 1' + "0" * 4000 + ', "fetched_at": 0}',
        '{"v": 1, "credits_remaining": ' + "[" * 2000 + "]" * 2000 + ', "fetched_at": 0}',
        "[" * 4000,
        '{"v": 1, "credits_remaining": 5, "fetched_at": 1e400}',
        '{"v": 1, "credits_remaining": 5, "fetched_at": ' + "9" * 400 + "}",
        "\x00\xff" * 100,
    ],
)
@pytest.mark.parametrize("preset", [[], ["--preset", "pre-commit"]])
def test_a_damaged_cache_entry_is_a_miss(
    content: str,
    preset: list[str],
    tmp_path: Path,
    hostile_key: str,
    server_says: Callable[[float], RawServer],
    run_cli: Callable[..., Run],
) -> None:
    server = server_says(450)
    entry = _entry(tmp_path, server, hostile_key)
    entry.write_text(content, "latin-1")
    result = _cached_run(run_cli, server, *preset)
    assert result.code == 0, result.stderr
    assert "450 remaining" in result.stdout
    assert json.loads(entry.read_text())["credits_remaining"] == 450  # rewritten whole


def test_home_unset_and_a_uid_without_passwd_entry_runs_without_cache(
    server_says: Callable[[float], RawServer],
    hostile_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In process: the interpreter lives under a 0700 /root here, so no other uid can run it.
    Python finds a home from $HOME, else from the passwd entry; both are taken away."""
    import pwd

    from predev_integrations.cli import main

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in ("HOME", "PREDEV_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.setenv("PREDEV_API_KEY", hostile_key)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert cache.cache_dir() is None
    code = main(["--base-url", server_says(450).url, "--cache-ttl", "300"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "450 remaining" in out


def test_a_world_writable_cache_dir_is_not_trusted_and_is_made_private(
    tmp_path: Path,
    hostile_key: str,
    server_says: Callable[[float], RawServer],
    run_cli: Callable[..., Run],
) -> None:
    server = server_says(10)
    entry = _entry(tmp_path, server, hostile_key, mode=0o777)
    entry.write_text(json.dumps({"v": 1, "credits_remaining": 999999, "fetched_at": time.time()}))
    entry.chmod(0o600)
    result = _cached_run(run_cli, server, "--min-credits", "500")
    assert result.code == 1  # the live balance (10), not the forged one
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700


def test_an_entry_owned_by_another_user_is_not_trusted(
    tmp_path: Path,
    hostile_key: str,
    server_says: Callable[[float], RawServer],
    run_cli: Callable[..., Run],
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to plant a file owned by another user")
    server = server_says(10)
    entry = _entry(tmp_path, server, hostile_key)
    entry.write_text(json.dumps({"v": 1, "credits_remaining": 999999, "fetched_at": time.time()}))
    os.chown(entry, NOBODY_UID, NOBODY_UID)
    result = _cached_run(run_cli, server, "--min-credits", "500")
    assert result.code == 1
    assert "10 remaining" in result.stdout
