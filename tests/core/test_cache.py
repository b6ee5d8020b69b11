"""The on-disk TTL cache: private, atomic, keyed without the key, and never fatal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from predev_integrations._cli import cache
from predev_integrations._core.secret import Secret

KEY = Secret("pdk_cache_test_key_123")


def test_cache_dir_precedence(tmp_path: Path) -> None:
    assert cache.cache_dir({"PREDEV_CACHE_DIR": "/a", "XDG_CACHE_HOME": "/b"}) == "/a"
    assert cache.cache_dir({"XDG_CACHE_HOME": "/b"}) == "/b/predev"
    assert cache.cache_dir({"HOME": "/home/u"}) == "/home/u/.cache/predev"


def test_entries_differ_by_url_and_key_and_never_contain_it(tmp_path: Path) -> None:
    a = Path(cache.entry_path(tmp_path, "https://api.pre.dev", KEY))
    b = Path(cache.entry_path(tmp_path, "http://127.0.0.1:1", KEY))
    c = Path(cache.entry_path(tmp_path, "https://api.pre.dev", Secret("another_key_456")))
    assert len({a, b, c}) == 3
    assert KEY.reveal() not in str(a)


def test_roundtrip_within_ttl(tmp_path: Path) -> None:
    path = Path(cache.entry_path(tmp_path / "sub", "https://api.pre.dev", KEY))
    assert cache.write(path, 12.5, now=1000.0)
    assert cache.read(path, ttl=300, now=1299.0) == 12.5
    data = json.loads(path.read_text())
    assert set(data) == {"v", "credits_remaining", "fetched_at"}
    assert KEY.reveal() not in path.read_text()


@pytest.mark.parametrize(("ttl", "now"), [(300, 1300.0), (300, 5000.0), (0, 1000.0), (300, 999.0)])
def test_expired_disabled_or_future_entries_miss(tmp_path: Path, ttl: float, now: float) -> None:
    path = tmp_path / "entry.json"
    cache.write(path, 450, now=1000.0)
    assert cache.read(path, ttl=ttl, now=now) is None


def test_files_are_private(tmp_path: Path) -> None:
    path = Path(cache.entry_path(tmp_path / "c", "https://api.pre.dev", KEY))
    cache.write(path, 1, now=0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"v": 99, "credits_remaining": 1, "fetched_at": 0}',
        '{"v": 1, "credits_remaining": "1", "fetched_at": 0}',
        '{"v": 1, "credits_remaining": true, "fetched_at": 0}',
        '{"v": 1, "credits_remaining": 1}',
        '{"v": 1, "credits_remaining": NaN, "fetched_at": 0}',
    ],
)
def test_corrupt_entries_are_misses(tmp_path: Path, content: str) -> None:
    path = tmp_path / "entry.json"
    path.write_text(content)
    assert cache.read(path, ttl=300, now=1) is None


def test_unwritable_directory_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cache.write(blocker / "sub" / "entry.json", 1, now=0) is False


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    path.mkdir()  # reading a directory fails with an OSError, as an unreadable file would
    assert cache.read(path, ttl=300, now=1) is None
