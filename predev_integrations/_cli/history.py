"""The balance over time: every live reading, kept next to the cache for the runway forecast.

One file per (base URL as written, key), named by a one-way hash like the cache entries
(`Secret.digest`), holding only `[Unix time, balance]` pairs: never the key. The trust
rules are the cache's, through its helpers (`cache.read_private`, `cache.write_private`): a
0600 file in a 0700 directory of ours; a file that is not a regular file of ours, is larger
than MAX_HISTORY_BYTES, or holds anything but MAX_READINGS well-formed readings is an empty
history, never an error. A write replaces the file atomically (temporary file + rename) while
holding an exclusive `flock` on the directory, so concurrent runs neither tear the file nor
lose each other's readings (read, merge, replace). A run that cannot get the lock within
LOCK_WAIT seconds skips its write: the history is never the reason a check fails or hangs.

The size cap: the newest MAX_READINGS readings (1000, twice what the forecast fits), at most
MAX_HISTORY_BYTES (64 KiB; 1000 readings of the longest form take about 37 KiB).

A burst of checks (a CI matrix, commits without a cache) reads the same balance many times
within seconds. Kept, those readings would outnumber the rest, and the median of the pairwise
slopes (mostly zeros between them) would call a steady burn "not spending". So a reading equal
to the newest one and less than MIN_GAP seconds after it is not stored: one reading per
unchanged balance per five minutes. A changed balance is always stored.

POSIX only (ownership and `flock`); elsewhere there is no history and the runway is unknown.
"""

from __future__ import annotations

import json
import os

from .._core.ranges import BALANCE, range_problem
from . import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from .._core.secret import Secret

_FORMAT = 1
#: The newest readings kept.
MAX_READINGS = 1000
#: A history file larger than this was not written by us.
MAX_HISTORY_BYTES = 64 * 1024
#: Seconds a run waits for another run's write to finish before it skips its own.
LOCK_WAIT = 2.0
#: Seconds within which a reading equal to the newest one adds nothing (see above).
MIN_GAP = 300.0

Readings = list[tuple[float, float]]


def history_path(directory: str | os.PathLike[str], base_url: str, api_key: Secret) -> str:
    """The history file for (base URL, key) in the cache directory; never names the key."""
    name = api_key.digest("predev-credits-history", str(_FORMAT), base_url)[:40]
    return os.path.join(directory, f"history-{name}.json")


def parse(raw: bytes) -> Readings:
    """The readings in a history file's bytes, oldest first; [] for anything else.

    All or nothing: one malformed reading means the file is not ours, so none is believed.
    Times are Unix seconds within cache.TIMESTAMP, balances within ranges.BALANCE.
    """
    if len(raw) > MAX_HISTORY_BYTES:
        return []
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return []
    if not isinstance(data, dict) or data.get("v") != _FORMAT:
        return []
    items = data.get("readings")
    if not isinstance(items, list) or len(items) > MAX_READINGS:
        return []
    readings: Readings = []
    for item in items:
        if not isinstance(item, list) or len(item) != 2:
            return []
        at, balance = item
        if range_problem(at, cache.TIMESTAMP) or range_problem(balance, BALANCE):
            return []
        readings.append((float(at), balance))
    readings.sort(key=lambda reading: reading[0])
    return readings


def serialize(readings: Iterable[tuple[float, float]]) -> str:
    """The file's text: the newest readings that fit both caps, oldest first."""
    kept = sorted(readings, key=lambda reading: reading[0])[-MAX_READINGS:]
    while True:
        text = json.dumps(
            {"v": _FORMAT, "readings": [list(r) for r in kept]}, separators=(",", ":")
        )
        if len(text.encode("utf-8")) <= MAX_HISTORY_BYTES or not kept:
            return text
        kept = kept[len(kept) // 10 + 1 :]  # drop the oldest tenth and try again


def _uid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


def load(path: str | os.PathLike[str], *, uid: int | None = None) -> Readings:
    """The stored readings, oldest first; [] when there are none we can trust."""
    uid = _uid() if uid is None else uid
    if uid is None:
        return []
    raw = cache.read_private(path, MAX_HISTORY_BYTES, uid)
    return [] if raw is None else parse(raw)


def append(
    path: str | os.PathLike[str],
    at: float,
    balance: float,
    *,
    uid: int | None = None,
    lock_wait: float = LOCK_WAIT,
) -> Readings:
    """Add one reading (read, merge, replace under the directory's lock); the history as it
    now stands, oldest first. When the file cannot be written, the readings are returned all
    the same (the forecast still uses them) and the file is left as it was."""
    uid = _uid() if uid is None else uid
    if uid is None:
        return [(round(at, 3), balance)]
    directory = os.path.dirname(path)
    try:
        if not cache.private_dir(directory, uid):
            return [(round(at, 3), balance)]
        lock = _lock(directory, lock_wait)
    except OSError:
        return [(round(at, 3), balance)]
    try:
        readings = _merged(load(path, uid=uid), round(at, 3), balance)
        if lock is not None:
            cache.write_private(path, serialize(readings), uid, now=at)
        return readings[-MAX_READINGS:]
    finally:
        if lock is not None:
            os.close(lock)  # closing the descriptor releases the flock


def _merged(readings: Readings, at: float, balance: float) -> Readings:
    """`readings` with (at, balance) in time order; a reading already there is not doubled,
    nor one that repeats the newest balance within MIN_GAP seconds."""
    if (at, balance) in readings:
        return readings
    if readings and readings[-1][1] == balance and 0 <= at - readings[-1][0] < MIN_GAP:
        return readings
    readings.append((at, balance))
    readings.sort(key=lambda reading: reading[0])
    return readings


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
