"""The balance over time: every live reading, kept next to the cache for the runway forecast,
and the low-credit alert's state beside them.

One file per (base URL as written, key), named by a one-way hash like the cache entries
(`Secret.digest`), holding only `[Unix time, balance]` pairs and the alert's arming flags:
never the key. The trust rules are the cache's, through its helpers (`cache.read_private`,
`cache.write_private`): a 0600 file in a 0700 directory of ours; a file that is not a regular
file of ours, is larger than MAX_HISTORY_BYTES, or holds anything but well-formed readings
and states is an empty history with no alert state, never an error. A write replaces the file
atomically (temporary file + rename) while holding an exclusive `flock` on the directory, so
concurrent runs neither tear the file nor lose each other's readings or alert state (read,
merge, decide, replace). A run that cannot get the lock within LOCK_WAIT seconds skips its
write: the history is never the reason a check fails or hangs.

Format 2 adds `alerts` to format 1's `readings`; a format 1 file's readings are still read
(with no alert state). The file name is unchanged, so an upgrade keeps the history.

The span, not a count: every write thins the readings by age (`TIERS`): everything from the
last hour, then at most one reading per 10 minutes up to 2 days old, one per hour up to 7
days, one per 3 hours up to MAX_AGE (35 days); older readings are dropped. The reading kept in
a time slot is its newest, and the slots are fixed in UTC, so thinning again changes nothing.
However busy the repository, that is at most about 630 readings besides the last hour's (about
20 KiB): 4 weeks of hourly checks take about 340 readings, of 5-minute checks about 580. The
caps MAX_READINGS and MAX_HISTORY_BYTES (64 KiB) only bind on a flood of changed balances
within one hour; then the oldest go first.

A clock that runs ahead: a run drops every stored reading more than `forecast.CLOCK_SKEW`
seconds after its own time, so a reading from a clock a year ahead is pushed out by the next
run with a sane clock, instead of staying the newest forever. Ages for thinning are counted
from this run's time or the newest stored reading, whichever is earlier, so the run from the
clock ahead cannot age the real readings out either. (Two such runs in a row, with no sane run
between them, age the history by their clock, as that much time passing would. A run whose
clock is behind drops the readings "from its future": it could not believe them, and its
forecast ignores them all the same.)

A burst of checks (a CI matrix, commits without a cache) reads the same balance many times
within seconds. Kept, those readings would outnumber the rest. So a reading equal to the
newest one and less than MIN_GAP seconds after it is not stored: one reading per unchanged
balance per five minutes. A changed balance is always stored (then thinned by age as above).

The alert state: per alert setting (`AlertKey`, our own text naming every number an edge
uses), the two arming flags of `_core/watch.low_edges`; at most MAX_ALERT_STATES settings,
the most recently used first, so two configurations sharing one key (two repositories' config
files on one machine) do not re-arm each other on every run. The caller decides the alert
inside the locked read-merge-replace (`record(..., decide=...)`), so concurrent local runs
alert at most once between them.

POSIX only (ownership and `flock`); elsewhere there is no history, no runway and no alert state.
"""

from __future__ import annotations

import json
import math
import os

from .._core.forecast import CLOCK_SKEW
from .._core.ranges import BALANCE, range_problem
from . import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from .._core.secret import Secret

_FORMAT = 2
#: Formats whose readings are still read (their alert state, if any, is not).
_READABLE = (1, 2)
#: Part of the file name's hash: unchanged since format 1, so an upgrade keeps the history.
_NAME_VERSION = "1"
#: (age limit, slot) in seconds: readings up to that old are kept one per slot (0: all).
TIERS = (
    (3_600.0, 0.0),
    (2 * 86_400.0, 600.0),
    (7 * 86_400.0, 3_600.0),
    (35 * 86_400.0, 10_800.0),
)
#: Readings older than this (counted from the newest) are dropped.
MAX_AGE = TIERS[-1][0]
#: The most readings a file holds; a file with more was not written by us.
MAX_READINGS = 2000
#: A history file larger than this was not written by us.
MAX_HISTORY_BYTES = 64 * 1024
#: Alert settings whose state is kept, the most recently used first.
MAX_ALERT_STATES = 8
#: The longest alert setting key (`AlertKey`) we write.
MAX_KEY_TEXT = 200
#: Seconds a run waits for another run's write to finish before it skips its own.
LOCK_WAIT = 2.0
#: Seconds within which a reading equal to the newest one adds nothing (see above).
MIN_GAP = 300.0

Readings = list[tuple[float, float]]
#: (armed, runway_armed) as `watch.low_edges` keeps them.
Flags = tuple[bool, bool]
#: Alert setting key -> flags, the most recently used first.
States = dict[str, Flags]


class Stored:
    """What one history file holds: its readings, oldest first, and the alert states."""

    __slots__ = ("readings", "states")

    def __init__(self, readings: Readings | None = None, states: States | None = None) -> None:
        self.readings: Readings = [] if readings is None else readings
        self.states: States = {} if states is None else states


class Recorded:
    """What `record` did: the readings as they now stand (oldest first), whether the history
    can be kept here at all (`kept`), whether this run's write landed (`written`), and the
    alert flags stored before this run for the key asked (None: none, or lost)."""

    __slots__ = ("kept", "previous", "readings", "written")

    def __init__(
        self, readings: Readings, *, kept: bool, written: bool, previous: Flags | None = None
    ) -> None:
        self.readings = readings
        self.kept = kept
        self.written = written
        self.previous = previous


def history_path(directory: str | os.PathLike[str], base_url: str, api_key: Secret) -> str:
    """The history file for (base URL, key) in the cache directory; never names the key."""
    name = api_key.digest("predev-credits-history", _NAME_VERSION, base_url)[:40]
    return os.path.join(directory, f"history-{name}.json")


def parse(raw: bytes) -> Readings:
    """The readings in a history file's bytes, oldest first; [] for anything else."""
    return parse_stored(raw).readings


def parse_stored(raw: bytes) -> Stored:
    """A history file's readings (oldest first) and alert states; empty for anything else.

    All or nothing: one malformed reading or state means the file is not ours, so none is
    believed. Times are Unix seconds within cache.TIMESTAMP, balances within ranges.BALANCE;
    a state is a short printable ASCII key and two booleans. The size is checked before
    anything is parsed, so a hostile file costs at most one 64 KiB JSON parse.
    """
    if len(raw) > MAX_HISTORY_BYTES:
        return Stored()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return Stored()
    if not isinstance(data, dict) or data.get("v") not in _READABLE:
        return Stored()
    readings = _readings(data.get("readings"))
    states = _states(data.get("alerts", [])) if data.get("v") == _FORMAT else {}
    if readings is None or states is None:
        return Stored()
    return Stored(readings, states)


def _readings(items: object) -> Readings | None:
    if not isinstance(items, list) or len(items) > MAX_READINGS:
        return None
    readings: Readings = []
    for item in items:
        if not isinstance(item, list) or len(item) != 2:
            return None
        at, balance = item
        if range_problem(at, cache.TIMESTAMP) or range_problem(balance, BALANCE):
            return None
        readings.append((float(at), balance))
    readings.sort(key=lambda reading: reading[0])
    return readings


def _states(items: object) -> States | None:
    if not isinstance(items, list) or len(items) > MAX_ALERT_STATES:
        return None
    states: States = {}
    for item in items:
        if not isinstance(item, dict) or set(item) != {"key", "armed", "runway_armed"}:
            return None
        key, armed, runway_armed = item["key"], item["armed"], item["runway_armed"]
        if not isinstance(key, str) or not valid_key(key) or key in states:
            return None
        if not isinstance(armed, bool) or not isinstance(runway_armed, bool):
            return None
        states[key] = (armed, runway_armed)
    return states


def valid_key(key: str) -> bool:
    """An alert setting key we could have written: short, printable ASCII, not empty."""
    return 0 < len(key) <= MAX_KEY_TEXT and key.isascii() and key.isprintable()


def serialize(
    readings: Iterable[tuple[float, float]], states: Mapping[str, Flags] | None = None
) -> str:
    """The file's text: the newest readings that fit both caps, oldest first, and the states."""
    kept = sorted(readings, key=lambda reading: reading[0])[-MAX_READINGS:]
    alerts = [
        {"key": key, "armed": armed, "runway_armed": runway_armed}
        for key, (armed, runway_armed) in list((states or {}).items())[:MAX_ALERT_STATES]
    ]
    while True:
        text = json.dumps(
            {"v": _FORMAT, "readings": [list(r) for r in kept], "alerts": alerts},
            separators=(",", ":"),
        )
        if len(text.encode("utf-8")) <= MAX_HISTORY_BYTES or not kept:
            return text
        kept = kept[len(kept) // 10 + 1 :]  # drop the oldest tenth and try again


def thin(readings: Readings, reference: float) -> Readings:
    """`readings` (oldest first) thinned by age at `reference` (see TIERS): the newest reading
    of each slot, nothing older than MAX_AGE. Thinning a thinned history changes nothing."""
    kept: Readings = []
    seen: set[tuple[float, int]] = set()
    for at, balance in reversed(readings):
        age = reference - at
        if age > MAX_AGE:
            break
        slot = next(size for limit, size in TIERS if age <= limit)
        if slot:
            where = (slot, math.floor(at / slot))
            if where in seen:
                continue
            seen.add(where)
        kept.append((at, balance))
    kept.reverse()
    return kept


def _uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


def load(path: str | os.PathLike[str], *, uid: int | None = None) -> Readings:
    """The stored readings, oldest first; [] when there are none we can trust."""
    return load_stored(path, uid=uid).readings


def load_stored(path: str | os.PathLike[str], *, uid: int | None = None) -> Stored:
    """The stored readings and alert states; empty when there are none we can trust."""
    uid = _uid() if uid is None else uid
    if uid is None:
        return Stored()
    raw = cache.read_private(path, MAX_HISTORY_BYTES, uid)
    return Stored() if raw is None else parse_stored(raw)


def append(
    path: str | os.PathLike[str],
    at: float,
    balance: float,
    *,
    uid: int | None = None,
    lock_wait: float = LOCK_WAIT,
) -> Readings:
    """Add one reading (see `record`); the history as it now stands, oldest first."""
    return record(path, at, balance, uid=uid, lock_wait=lock_wait).readings


def record(
    path: str | os.PathLike[str],
    at: float,
    balance: float,
    *,
    uid: int | None = None,
    lock_wait: float = LOCK_WAIT,
    alert_key: str | None = None,
    decide: Callable[[Readings, Flags | None], Flags] | None = None,
) -> Recorded:
    """Add one reading and, with `decide`, the alert state for `alert_key`: read, merge,
    decide, replace, under the directory's lock.

    `decide(readings, stored_flags)` gets the readings as they now stand and the flags stored
    for `alert_key` (None when there are none: first sight), and returns the flags to store.
    It is not called when no history can be kept here (`kept` is False). When the lock cannot
    be had or the file cannot be written, the readings and the decision are returned all the
    same (the forecast still uses them; a lost write may repeat an alert, never swallow one)
    and the file is left as it was.
    """
    at = round(at, 3)
    uid = _uid() if uid is None else uid
    alone = Recorded([(at, balance)], kept=False, written=False)
    if uid is None:
        return alone
    directory = os.path.dirname(path)
    try:
        if not cache.private_dir(directory, uid):
            return alone
        lock = _lock(directory, lock_wait)
    except OSError:
        return alone
    try:
        stored = load_stored(path, uid=uid)
        readings = _merged(stored.readings, at, balance)
        states = stored.states
        previous = states.get(alert_key) if alert_key is not None else None
        if decide is not None and alert_key is not None:
            flags = decide(readings, previous)
            states = {alert_key: flags, **{k: v for k, v in states.items() if k != alert_key}}
        written = lock is not None and cache.write_private(
            path, serialize(readings, states), uid, now=at
        )
        return Recorded(readings[-MAX_READINGS:], kept=True, written=written, previous=previous)
    finally:
        if lock is not None:
            os.close(lock)  # closing the descriptor releases the flock


def _merged(stored: Readings, at: float, balance: float) -> Readings:
    """The stored readings with (at, balance), as the file should now hold them: readings
    more than CLOCK_SKEW after `at` dropped, a reading already there not doubled, nor one that
    repeats the newest balance within MIN_GAP seconds; then thinned (`thin`)."""
    readings = [reading for reading in stored if reading[0] <= at + CLOCK_SKEW]
    reference = min(at, readings[-1][0]) if readings else at
    repeat = readings and readings[-1][1] == balance and 0 <= at - readings[-1][0] < MIN_GAP
    if (at, balance) not in readings and not repeat:
        readings.append((at, balance))
        readings.sort(key=lambda reading: reading[0])
    return thin(readings, reference)


def _lock(directory: str, wait: float) -> int | None:
    """An exclusive flock on the directory, as an open descriptor; None after `wait` seconds."""
    import fcntl  # only a live check writes
    import time

    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.01)
        except OSError:
            os.close(fd)
            raise
        else:
            return fd
