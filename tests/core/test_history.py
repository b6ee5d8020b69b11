"""The balance history: private, bounded, atomic under concurrent runs, never fatal, keyless."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predev_integrations._cli import cache, history
from predev_integrations._core.forecast import forecast
from predev_integrations._core.secret import Secret

KEY = Secret("pdk_history_test_key_123")
URL = "https://api.pre.dev"
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def path_in(directory: Path) -> Path:
    return Path(history.history_path(directory, URL, KEY))


def test_one_file_per_url_and_key_named_without_the_key(tmp_path: Path) -> None:
    names = {
        history.history_path(tmp_path, URL, KEY),
        history.history_path(tmp_path, "http://127.0.0.1:1", KEY),
        history.history_path(tmp_path, URL, Secret("another_key_456")),
        cache.entry_path(tmp_path, URL, KEY),
    }
    assert len(names) == 4
    assert all(KEY.reveal() not in name for name in names)


def test_append_keeps_readings_in_time_order_and_stores_only_numbers(tmp_path: Path) -> None:
    path = path_in(tmp_path / "c")
    history.append(path, 2_000.0, 440)
    history.append(path, 1_000.0, 450)  # a clock that stepped back: the time decides the order
    assert history.append(path, 3_000.0, 430.5) == [
        (1_000.0, 450),
        (2_000.0, 440),
        (3_000.0, 430.5),
    ]
    assert history.load(path) == [(1_000.0, 450), (2_000.0, 440), (3_000.0, 430.5)]
    data = json.loads(path.read_text())
    assert data == {"v": 1, "readings": [[1000.0, 450], [2000.0, 440], [3000.0, 430.5]]}
    assert KEY.reveal() not in path.read_text()


def test_the_same_reading_twice_is_kept_once(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    history.append(path, 1_000.0004, 450)
    assert history.append(path, 1_000.0001, 450) == [(1_000.0, 450)]


def test_a_burst_of_the_same_balance_is_one_reading(tmp_path: Path) -> None:
    """Twenty checks within a minute at 450 after three hourly readings: kept, their zero
    slopes would outvote the burn and the forecast would say "not spending"."""
    path = path_in(tmp_path)
    start = 1_796_000_000.0
    for hours, balance in ((0, 465), (1, 460), (2, 455)):
        history.append(path, start + hours * 3_600, balance)
    for second in range(20):
        history.append(path, start + 3 * 3_600 + second * 3, 450)
    readings = history.load(path)
    assert [balance for _, balance in readings] == [465, 460, 455, 450]
    result = forecast(readings, 50, now=start + 3 * 3_600 + 60)
    assert (result.status, round(result.burn_per_hour or 0, 6)) == ("known", 5)
    history.append(path, start + 3 * 3_600 + 70, 449)  # a changed balance: always kept
    history.append(path, start + 3 * 3_600 + 70 + history.MIN_GAP, 449)  # the gap: kept
    assert [balance for _, balance in history.load(path)][-3:] == [450, 449, 449]


def test_file_is_0600_in_a_0700_directory_with_no_temp_files_left(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir(mode=0o755)
    path = path_in(directory)
    history.append(path, 1.0, 1)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.name for p in directory.iterdir()] == [path.name]


def test_the_newest_readings_are_kept_within_both_caps(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    # The longest readings we can store: times and balances with every digit.
    many = [(1_700_000_000.123 + i, -999_999_999_999.999 - i / 1000) for i in range(1_500)]
    text = history.serialize(many)
    assert len(text.encode()) <= history.MAX_HISTORY_BYTES
    kept = history.parse(text.encode())
    assert len(kept) == history.MAX_READINGS
    assert kept == many[-history.MAX_READINGS :]
    path.write_text(text)
    path.chmod(0o600)
    readings = history.append(path, 1_800_000_000.0, 5)
    assert len(readings) == history.MAX_READINGS
    assert readings[-1] == (1_800_000_000.0, 5)
    assert history.load(path)[0] == many[-history.MAX_READINGS + 1]


def test_the_byte_cap_drops_the_oldest_when_readings_are_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(history, "MAX_HISTORY_BYTES", 400)
    readings = [(1_700_000_000.123 + i, 123_456_789.125) for i in range(30)]
    text = history.serialize(readings)
    assert len(text) <= 400
    kept = json.loads(text)["readings"]
    assert kept
    assert [tuple(r) for r in kept] == readings[-len(kept) :]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"v": 2, "readings": []}',
        b'{"v": 1}',
        b'{"v": 1, "readings": {}}',
        b'{"v": 1, "readings": [[1, 2, 3]]}',
        b'{"v": 1, "readings": [[1, "450"]]}',
        b'{"v": 1, "readings": [[true, 450]]}',
        b'{"v": 1, "readings": [[1, NaN]]}',
        b'{"v": 1, "readings": [[-1, 450]]}',
        b'{"v": 1, "readings": [[1, 1e16]]}',
        b'{"v": 1, "readings": [[1, 450], "x"]}',  # one bad reading: none is believed
        b'{"v": 1, "readings": [[1, 450]]' + b" " * (64 * 1024) + b"}",  # oversized
        b"[" * 100_000,
        b"\xff\xfe\x00",
    ],
)
def test_damaged_or_foreign_files_are_an_empty_history(tmp_path: Path, content: bytes) -> None:
    path = path_in(tmp_path)
    path.write_bytes(content)
    assert history.load(path) == []
    assert history.append(path, 5.0, 1) == [(5.0, 1)]  # and the next reading starts afresh
    assert history.load(path) == [(5.0, 1)]


def test_files_not_ours_are_an_empty_history(tmp_path: Path) -> None:
    path = path_in(tmp_path / "c")
    history.append(path, 1.0, 1)
    assert history.load(path, uid=os.geteuid() + 1) == []  # another user's file
    link = tmp_path / "c" / "link.json"
    link.symlink_to(path)
    assert history.load(link) == []  # never followed
    fifo = tmp_path / "c" / "fifo.json"
    os.mkfifo(fifo)
    assert history.load(fifo) == []  # never waited on
    (tmp_path / "c").chmod(0o777)
    assert history.load(path) == []  # a directory others can write


def test_a_directory_of_another_user_is_never_written(tmp_path: Path) -> None:
    path = path_in(tmp_path / "c")
    assert history.append(path, 1.0, 1, uid=os.geteuid() + 1) == [(1.0, 1)]
    assert not path.exists()


def test_an_unwritable_place_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert history.append(blocker / "sub" / "h.json", 1.0, 7) == [(1.0, 7)]


def test_no_posix_ownership_means_no_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = path_in(tmp_path)
    monkeypatch.delattr(os, "geteuid")
    assert history.append(path, 1.0, 1) == [(1.0, 1)]
    assert history.load(path) == []
    assert not path.exists()


def test_a_run_that_cannot_get_the_lock_skips_its_write(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    history.append(path, 1.0, 10)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        readings = history.append(path, 2.0, 9, lock_wait=0.05)
    finally:
        os.close(fd)
    assert readings == [(1.0, 10), (2.0, 9)]  # the forecast still sees it
    assert history.load(path) == [(1.0, 10)]  # the file is as it was


def test_concurrent_processes_lose_no_reading(tmp_path: Path) -> None:
    """8 processes append 25 readings each, at once: every reading lands, the file stays whole."""
    path = path_in(tmp_path / "c")
    script = textwrap.dedent(
        """
        import sys
        from predev_integrations._cli import history
        path, worker = sys.argv[1], int(sys.argv[2])
        for i in range(25):
            history.append(path, 1_000_000.0 + worker * 1000 + i, 500 - i, lock_wait=30)
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(worker)])
        for worker in range(8)
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * 8
    readings = history.load(path)
    assert len(readings) == 200
    assert readings == sorted(readings)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


# --- Hypothesis: whatever the file holds, reading it never crashes ------------------------------

READING = st.tuples(
    st.floats(min_value=0, max_value=253_402_300_799), st.floats(min_value=-1e15, max_value=1e15)
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


@FAST
@given(raw=st.binary(max_size=2_000))
def test_any_bytes_are_a_valid_history_or_an_empty_one(raw: bytes) -> None:
    readings = history.parse(raw)
    assert isinstance(readings, list)
    assert all(0 <= at <= 253_402_300_799 and abs(balance) <= 1e15 for at, balance in readings)


@FAST
@given(data=JSONISH)
def test_any_json_is_a_valid_history_or_an_empty_one(data: object) -> None:
    raw = json.dumps({"v": 1, "readings": data}).encode()
    readings = history.parse(raw)
    assert readings == [] or (isinstance(data, list) and len(readings) == len(data))


@FAST
@given(readings=st.lists(READING, max_size=50), cut=st.integers(min_value=0), flip=st.integers())
def test_a_damaged_history_is_whole_or_empty(
    readings: list[tuple[float, float]], cut: int, flip: int
) -> None:
    raw = bytearray(history.serialize(readings).encode())
    assert history.parse(bytes(raw)) == sorted(readings, key=lambda r: r[0])
    position = cut % len(raw)
    raw[position] = (raw[position] + flip) % 256
    damaged = history.parse(bytes(raw))
    assert damaged == [] or len(damaged) == len(readings)
    assert history.parse(bytes(raw[:position])) == [] or position == len(raw)
