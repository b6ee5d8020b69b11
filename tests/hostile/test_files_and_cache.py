"""Classes 7 and 8: no open can block, and the cache trusts only what we wrote ourselves."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from predev_integrations._cli import cache, history
from predev_integrations._core.secret import Secret

from .conftest import RawServer, Run, http_response, replying

#: A uid with no passwd entry, to own a planted file.
NOBODY_UID = 54_321


@pytest.fixture
def server_says(serve: Callable[..., RawServer]) -> Callable[[float], RawServer]:
    def start(balance: float) -> RawServer:
        body = json.dumps({"success": True, "creditsRemaining": balance}).encode()
        return serve(replying(http_response(200, body)))

    return start


class CacheCase:
    """A server answering `balance`, the cache entry the CLI will use for it, and a cached run."""

    def __init__(self, tmp_path: Path, key: str, server: RawServer, run_cli: Callable[..., Run]):
        self.server = server
        self.entry = Path(cache.entry_path(tmp_path / "cache", server.url, Secret(key)))
        self._run_cli = run_cli

    def plant_dir(self, mode: int = 0o700) -> Path:
        """Create the entry's directory with `mode`; returns the entry's path."""
        self.entry.parent.mkdir()
        self.entry.parent.chmod(mode)
        return self.entry

    def run(self, *args: str) -> Run:
        return self._run_cli("--base-url", self.server.url, "--cache-ttl", "300", *args, bound=30)


@pytest.fixture
def cached(
    tmp_path: Path,
    hostile_key: str,
    server_says: Callable[[float], RawServer],
    run_cli: Callable[..., Run],
) -> Callable[[float], CacheCase]:
    """`cached(balance)`: a server answering `balance`, and its cache entry."""
    return lambda balance: CacheCase(tmp_path, hostile_key, server_says(balance), run_cli)


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


def test_a_fifo_planted_at_the_cache_entry_is_a_miss(cached: Callable[[float], CacheCase]) -> None:
    case = cached(450)
    os.mkfifo(case.plant_dir())
    result = case.run()
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
    content: str, preset: list[str], cached: Callable[[float], CacheCase]
) -> None:
    case = cached(450)
    entry = case.plant_dir()
    entry.write_text(content, "latin-1")
    result = case.run(*preset)
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

    from predev_integrations._cli.main import main

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
    cached: Callable[[float], CacheCase],
) -> None:
    case = cached(10)  # the forged entry says 999999, against a floor of 500
    entry = case.plant_dir(0o777)
    entry.write_text(json.dumps({"v": 1, "credits_remaining": 999999, "fetched_at": time.time()}))
    entry.chmod(0o600)
    result = case.run("--min-credits", "500")
    assert result.code == 1  # the live balance (10), not the forged one
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700


def test_an_entry_owned_by_another_user_is_not_trusted(
    cached: Callable[[float], CacheCase],
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to plant a file owned by another user")
    case = cached(10)
    entry = case.plant_dir()
    entry.write_text(json.dumps({"v": 1, "credits_remaining": 999999, "fetched_at": time.time()}))
    os.chown(entry, NOBODY_UID, NOBODY_UID)
    result = case.run("--min-credits", "500")
    assert result.code == 1
    assert "10 remaining" in result.stdout


# --- the history: planted files are an empty history, never a wait, never a crash -------------


def planted_history(case: CacheCase, key: str) -> Path:
    """The history file the CLI will use for the case's server and key, its directory 0700."""
    case.plant_dir()
    return Path(history.history_path(case.entry.parent, case.server.url, Secret(key)))


@pytest.mark.parametrize(
    "plant",
    [
        "fifo",
        "dev-zero-link",
        "sparse-2-GiB",
        "deep-nesting",
        "huge-number",
        "escape-codes",
        "alert-state-escape-codes",
        "foreign-owner",
    ],
)
def test_a_planted_history_is_empty_and_never_blocks(
    plant: str, cached: Callable[[float], CacheCase], hostile_key: str
) -> None:
    case = cached(450)
    path = planted_history(case, hostile_key)
    if plant == "fifo":
        os.mkfifo(path)
    elif plant == "dev-zero-link":
        path.symlink_to("/dev/zero")
    elif plant == "sparse-2-GiB":
        with open(path, "wb") as handle:
            handle.truncate(2 << 30)
    elif plant == "deep-nesting":
        path.write_text('{"v": 1, "readings": ' + "[" * 30_000 + "]" * 30_000 + "}")
    elif plant == "huge-number":
        path.write_text('{"v": 1, "readings": [[1, 1' + "0" * 5_000 + "]]}")
    elif plant == "escape-codes":
        path.write_text('{"v": 1, "readings": [[1, "\\u001b]0;pwned\\u0007"]]}')
    elif plant == "alert-state-escape-codes":
        alerts = [{"key": "\x1b]0;pwned\x07", "armed": False, "runway_armed": False}]
        path.write_text(
            json.dumps({"v": 2, "readings": [[time.time() - 7200, 900]], "alerts": alerts})
        )
    else:
        path.write_text(json.dumps({"v": 1, "readings": [[time.time() - 7200, 900]]}))
        os.chown(path, NOBODY_UID, NOBODY_UID)
    result = case.run("--min-runway", "1d", "--alert-below", "1000", "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    runway = data["runway"]
    assert runway["status"] == "unknown"
    assert runway["readings"] == 1  # only this run's reading was believed
    assert data["alert"]["fired"] is True  # no state believed: first sight, one alert
    assert "pwned" not in result.stdout + result.stderr
