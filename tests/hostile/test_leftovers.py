"""Issue 20, class 7: what we leave behind stays bounded.

Temporary files of cache writers killed mid-write (`.tmp-*.json`) and crash logs that fell back
to the temporary directory are cleaned up by age, and only our own; a crash log has a size cap.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ACTION_STEP, CLI, RawServer, Run, http_response, replying

OK = http_response(200, json.dumps({"success": True, "creditsRemaining": 450}).encode())
DAY = 86_400


def plant(path: Path, age: float, text: str = "{") -> Path:
    path.write_text(text)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


ENTRIES = {
    "text": (CLI, ["--format", "text", "--cache-ttl", "300"]),
    "json": (CLI, ["--format", "json", "--cache-ttl", "300"]),
    "github": (CLI, ["--format", "github", "--cache-ttl", "300"]),
    "action-step": (ACTION_STEP, []),
}


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_stale_temporary_files_of_killed_writers_are_cleaned(
    entry: str, tmp_path: Path, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    stale = [plant(cache / f".tmp-killed{i}.json", DAY) for i in range(3)]
    fresh = plant(cache / ".tmp-writing-now.json", 1)  # another writer, still at work
    other = plant(cache / "notes.json", DAY)  # not ours to remove
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    link = cache / ".tmp-link.json"
    link.symlink_to(target)
    os.utime(link, (time.time() - DAY,) * 2, follow_symlinks=False)
    config = tmp_path / "cfg.yml"
    config.write_text("cache_ttl: 300\n")
    module, args = ENTRIES[entry]
    env = {"PREDEV_BASE_URL": serve(replying(OK)).url, "INPUT_CONFIG": str(config)}
    result = run_cli(*args, env=env, module=module, bound=30)
    assert result.code == 0, result.stderr
    assert not any(path.exists() for path in stale)
    assert fresh.exists()
    assert other.exists()
    assert target.read_text() == "keep"
    assert any(cache.glob("balance-*.json"))


def _crash(monkeypatch: pytest.MonkeyPatch, fmt: str, message: str = "a bug of ours") -> None:
    from predev_integrations._cli import main as cli

    def broken(*args: object, **kwargs: object) -> float:
        raise RuntimeError(message)

    monkeypatch.setenv("PREDEV_API_KEY", "pdk_leftovers_test_key_0123456789")
    monkeypatch.setattr(cli, "_fetch", broken)
    assert cli.main(["--format", fmt]) == 3


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_crash_logs_in_the_temporary_directory_do_not_pile_up(
    fmt: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No usable cache directory: the log falls back to the temporary directory, and old
    fallback logs of ours there are removed."""
    import tempfile

    temp = tmp_path / "temp"
    temp.mkdir()
    temp.chmod(0o1777)
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    monkeypatch.setenv("PREDEV_CACHE_DIR", str(not_a_dir / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    old = [plant(temp / f"predev-credits-check-old{i}.log", 30 * DAY, "old") for i in range(3)]
    recent = plant(temp / "predev-credits-check-recent.log", 60, "recent")
    foreign = plant(temp / "someone-else.log", 30 * DAY, "x")
    for _ in range(5):
        _crash(monkeypatch, fmt)
    out = capsys.readouterr()
    assert "the traceback is in" in out.out + out.err
    assert not any(path.exists() for path in old)
    assert recent.exists()
    assert foreign.exists()
    logs = [p for p in temp.rglob("*.log") if p not in (recent, foreign)]
    assert len(logs) == 1, logs  # five crashes, one log


def test_a_crash_log_has_a_size_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from predev_integrations._cli.crashlog import LOG_NAME, MAX_LOG_BYTES

    monkeypatch.setenv("PREDEV_CACHE_DIR", str(tmp_path / "cache"))
    _crash(monkeypatch, "text", "x" * (8 << 20))
    capsys.readouterr()
    size = (tmp_path / "cache" / LOG_NAME).stat().st_size
    assert 0 < size <= MAX_LOG_BYTES
