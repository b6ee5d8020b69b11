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
from predev_integrations._core.forecast import CLOCK_SKEW, forecast
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
    history.append(path, 1_970.0, 450)  # a clock a little behind: the time decides the order
    assert history.append(path, 3_000.0, 430.5) == [
        (1_970.0, 450),
        (2_000.0, 440),
        (3_000.0, 430.5),
    ]
    assert history.load(path) == [(1_970.0, 450), (2_000.0, 440), (3_000.0, 430.5)]
    data = json.loads(path.read_text())
    assert data == {
        "v": 2,
        "readings": [[1970.0, 450], [2000.0, 440], [3000.0, 430.5]],
        "alerts": [],
    }
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


def test_the_caps_keep_the_newest_readings(tmp_path: Path) -> None:
    """A flood (every reading within the last hour, the longest form): the newest that fit
    MAX_READINGS and MAX_HISTORY_BYTES, and what is written is read back."""
    path = path_in(tmp_path)
    start = 1_800_000_000.0
    many = [(start + i / 1000, -999_999_999_999.999 - i / 1000) for i in range(2_500)]
    text = history.serialize(many)
    assert len(text.encode()) <= history.MAX_HISTORY_BYTES
    kept = history.parse(text.encode())
    assert 1_000 < len(kept) <= history.MAX_READINGS
    assert kept == many[-len(kept) :]
    path.write_text(text)
    path.chmod(0o600)
    readings = history.append(path, start + 3, 5)
    assert readings[-1] == (start + 3, 5)
    assert history.load(path) == readings


def months_of(
    step: float, days: float, start: float = 1_796_000_000.0
) -> list[tuple[float, float]]:
    """What the history holds after a check every `step` seconds for `days`, each reading a
    new balance (the worst case: the MIN_GAP rule drops nothing)."""
    readings: list[tuple[float, float]] = []
    for i in range(int(days * 86_400 / step)):
        readings = history._merged(readings, start + i * step + 0.123, 10_000_000 - 7 * i)
    return readings


@pytest.mark.parametrize(
    ("step", "most", "bytes_at_most"),
    [(3_600, 340, 10_000), (300, 590, 17_000)],
)
def test_four_weeks_fit_however_often_the_check_runs(
    step: float, most: int, bytes_at_most: int
) -> None:
    """Thinned by age, not capped by count: an hourly and a 5-minute check over 4 weeks both
    keep 4 weeks (figures in the module's docstring and docs/runway.md)."""
    readings = months_of(step, 28)
    assert readings[-1][0] - readings[0][0] >= 27.5 * 86_400
    assert len(readings) <= most
    assert len(history.serialize(readings).encode()) <= bytes_at_most


def test_older_readings_are_thinned_by_age_and_dropped_after_max_age() -> None:
    readings = months_of(900, 50)
    newest = readings[-2][0]  # the last write counted ages from the reading before it
    assert newest - readings[0][0] <= history.MAX_AGE
    for limit, slot in history.TIERS:
        younger = max((lim for lim, _ in history.TIERS if lim < limit), default=0.0)
        tier = [at for at, _ in readings if younger < newest - at <= limit]
        if slot:
            slots = [int(at // slot) for at in tier]
            assert len(slots) == len(set(slots))  # at most one per slot
        else:
            assert len(tier) == 4  # the last hour: every 15-minute reading
    assert history.thin(readings, newest) == readings  # thinning again changes nothing


@FAST
@given(
    times=st.lists(st.floats(min_value=0, max_value=60 * 86_400), max_size=200),
    reference=st.floats(min_value=0, max_value=60 * 86_400),
)
def test_thinning_is_idempotent_and_keeps_the_newest(times: list[float], reference: float) -> None:
    readings = sorted({(round(t, 3), 1.0) for t in times})
    once = history.thin(readings, reference)
    assert history.thin(once, reference) == once
    assert set(once) <= set(readings)
    recent = [r for r in readings if reference - r[0] <= history.MAX_AGE]
    assert (once[-1] if once else None) == (recent[-1] if recent else None)


def test_a_clock_a_year_ahead_is_pushed_out_by_the_next_run_and_evicts_nothing(
    tmp_path: Path,
) -> None:
    path = path_in(tmp_path)
    now = 1_796_000_000.0
    real = months_of(3_600, 28, start=now - 28 * 86_400)
    path.write_text(history.serialize(real))
    path.chmod(0o600)
    ahead = now + 365 * 86_400
    for hour in range(1, 25):  # an hourly check; every other run's clock is a year ahead
        bad = history.append(path, ahead + hour * 3_600, 1)
        # Ages are counted from the newest real reading: it evicts nothing a sane run keeps.
        assert bad[:-1] == history.thin(bad[:-1], bad[-2][0])
        assert len(bad) > 300
        good = (real[-1][0] + hour * 3_600, real[-1][1] - 7 * hour)
        after = history.append(path, *good)  # the next sane run pushes it out
        assert after[-1] == good
        assert after[:-1] == bad[:-1]
    assert history.load(path)[0] == real[0]  # the 4 weeks are all still there
    assert all(at < ahead for at, _ in history.load(path))


def test_a_run_whose_clock_is_behind_drops_the_readings_from_its_future(tmp_path: Path) -> None:
    """It could not believe them: its forecast ignores them too (forecast.CLOCK_SKEW)."""
    path = path_in(tmp_path)
    history.append(path, 10_000.0, 50)
    history.append(path, 10_000.0 - CLOCK_SKEW, 51)  # within the skew: kept
    assert history.append(path, 5_000.0, 60) == [(5_000.0, 60)]


def test_a_format_1_file_is_read_and_rewritten_as_format_2(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    path.write_text(json.dumps({"v": 1, "readings": [[1_000.0, 450], [4_600.0, 445]]}))
    path.chmod(0o600)
    assert history.load_stored(path).readings == [(1_000.0, 450), (4_600.0, 445)]
    assert history.load_stored(path).states == {}
    history.record(path, 8_200.0, 440, alert_key="k", decide=lambda readings, flags: (False, True))
    data = json.loads(path.read_text())
    assert data["v"] == 2
    assert data["readings"] == [[1_000.0, 450], [4_600.0, 445], [8_200.0, 440]]
    assert data["alerts"] == [{"key": "k", "armed": False, "runway_armed": True}]


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
    """8 processes append 25 readings each, at once: every reading lands, the file stays whole.
    (Within one minute of each other, so no process's clock runs ahead of another's.)"""
    path = path_in(tmp_path / "c")
    script = textwrap.dedent(
        """
        import sys
        from predev_integrations._cli import history
        path, worker = sys.argv[1], int(sys.argv[2])
        for i in range(25):
            at = 1_000_000.0 + (worker * 25 + i) / 4
            history.append(path, at, 500 - worker * 25 - i, lock_wait=30)
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


def test_concurrent_runs_decide_one_at_a_time(tmp_path: Path) -> None:
    """8 processes decide an alert from the same file at once: the decision runs under the
    lock, so exactly one sees no state (first sight) and every other sees its record."""
    path = path_in(tmp_path / "c")
    script = textwrap.dedent(
        """
        import sys
        from predev_integrations._cli import history
        path, worker = sys.argv[1], int(sys.argv[2])
        seen = []
        def decide(readings, flags):
            seen.append(flags)
            return (False, True)
        history.record(path, 1_000_000.0 + worker, 100, lock_wait=30, alert_key="k",
                       decide=decide)
        print("first" if seen == [None] else "later")
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(worker)], stdout=subprocess.PIPE
        )
        for worker in range(8)
    ]
    outs = [proc.communicate(timeout=120)[0].decode().strip() for proc in procs]
    assert sorted(outs) == ["first"] + ["later"] * 7
    assert history.load_stored(path).states == {"k": (False, True)}


def test_alert_states_are_kept_per_setting_most_recent_first_and_bounded(tmp_path: Path) -> None:
    path = path_in(tmp_path)
    for i in range(history.MAX_ALERT_STATES + 2):
        history.record(
            path, 1_000.0 + i, 100, alert_key=f"k{i}", decide=lambda readings, flags: (False, True)
        )
    recorded = history.record(
        path, 2_000.0, 100, alert_key="k5", decide=lambda readings, flags: (True, True)
    )
    assert recorded.previous == (False, True)
    states = history.load_stored(path).states
    assert list(states)[:2] == ["k5", "k9"]
    assert len(states) == history.MAX_ALERT_STATES
    assert {"k0", "k1"}.isdisjoint(states)


def test_decide_sees_the_merged_readings_and_is_not_asked_without_a_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = path_in(tmp_path)
    history.append(path, 1_000.0, 50)
    calls: list[tuple[list[tuple[float, float]], object]] = []

    def decide(readings: list[tuple[float, float]], flags: object) -> tuple[bool, bool]:
        calls.append((list(readings), flags))
        return (True, True)

    recorded = history.record(path, 4_600.0, 40, alert_key="k", decide=decide)
    assert calls == [([(1_000.0, 50), (4_600.0, 40)], None)]
    assert (recorded.kept, recorded.written, recorded.previous) == (True, True, None)
    monkeypatch.delattr(os, "geteuid")
    calls.clear()
    recorded = history.record(path, 8_200.0, 30, alert_key="k", decide=decide)
    assert (calls, recorded.kept, recorded.readings) == ([], False, [(8_200.0, 30)])


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


STATES = st.dictionaries(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40),
    st.tuples(st.booleans(), st.booleans()),
    max_size=history.MAX_ALERT_STATES,
)


@FAST
@given(alerts=JSONISH)
def test_any_alert_state_json_is_believed_whole_or_not_at_all(alerts: object) -> None:
    raw = json.dumps({"v": 2, "readings": [[1, 450]], "alerts": alerts}).encode()
    stored = history.parse_stored(raw)
    if stored.readings:  # believed: every state is ours to the letter
        assert isinstance(alerts, list)
        assert len(stored.states) == len(alerts) <= history.MAX_ALERT_STATES
        assert all(history.valid_key(key) for key in stored.states)
        assert all(isinstance(f, bool) for flags in stored.states.values() for f in flags)
    else:
        assert stored.states == {}


@FAST
@given(
    readings=st.lists(READING, max_size=20),
    states=STATES,
    cut=st.integers(min_value=0),
    flip=st.integers(),
)
def test_a_damaged_alert_state_is_whole_or_lost_never_half_read(
    readings: list[tuple[float, float]], states: dict[str, tuple[bool, bool]], cut: int, flip: int
) -> None:
    """Lost state means first sight (one alert may repeat); a half-read state could swallow one."""
    raw = bytearray(history.serialize(readings, states).encode())
    stored = history.parse_stored(bytes(raw))
    assert stored.states == states
    assert list(stored.states) == list(states)  # the most recently used first
    position = cut % len(raw)
    raw[position] = (raw[position] + flip) % 256
    damaged = history.parse_stored(bytes(raw))
    assert len(damaged.states) in (0, len(states))
    assert len(damaged.readings) in (0, len(readings))
    assert all(history.valid_key(key) for key in damaged.states)


@pytest.mark.parametrize(
    "alerts",
    [
        [{"key": "k", "armed": 1, "runway_armed": True}],
        [{"key": "k", "armed": True}],
        [{"key": "k", "armed": True, "runway_armed": True, "extra": 1}],
        [{"key": "", "armed": True, "runway_armed": True}],
        [{"key": "\x1b]0;pwned\x07", "armed": True, "runway_armed": True}],
        [{"key": "k" * 201, "armed": True, "runway_armed": True}],
        [{"key": "k", "armed": True, "runway_armed": True}] * 2,
        [{"key": f"k{i}", "armed": True, "runway_armed": True} for i in range(9)],
        {"k": [True, True]},
    ],
)
def test_a_foreign_alert_state_makes_the_whole_file_empty(alerts: object) -> None:
    raw = json.dumps({"v": 2, "readings": [[1, 450]], "alerts": alerts}).encode()
    stored = history.parse_stored(raw)
    assert (stored.readings, stored.states) == ([], {})
