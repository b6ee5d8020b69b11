"""A tiny on-disk TTL cache so a burst of commits makes one API call.

Entries are keyed by a hash of (base URL, key) and hold only the balance and when it was
read. Files are 0600 in a 0700 directory, written to a temporary file and renamed into
place, so concurrent writers never leave a torn file; temporary files left by a writer that
was killed are removed once they are stale. Every failure is a miss: the cache must never be
the reason a check fails.

Permissions: we only ever remove group/other bits, only from a directory we own, through a
descriptor opened without following a symlink (fchmod); a sticky or another user's directory
(PREDEV_CACHE_DIR=/tmp) is never changed: we use a subdirectory of ours in it.

A hit is the CLI's fast path, so paths are `os.path` strings (pathlib would bring in
urllib.parse, ipaddress and fnmatch) and annotation-only names are imported for type checkers only.
"""

from __future__ import annotations

import json
import os
import stat

from .._core.ranges import BALANCE, Range, range_problem
from .files import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._core.secret import Secret
    from .._core.verdict import Balance

_FORMAT = 1
#: An entry is ~80 bytes; anything bigger was not written by us.
MAX_ENTRY_BYTES = 4096
#: Unix seconds from 1970 to 9999: a stored time outside this is damage.
TIMESTAMP = Range(0, 253_402_300_799)


def cache_dir(env: Mapping[str, str] | None = None) -> str | None:
    """`$PREDEV_CACHE_DIR`, else `$XDG_CACHE_HOME/predev`, else `~/.cache/predev`.

    None (no cache) when there is no home to put it in: `HOME` unset and a uid with no
    passwd entry is normal in containers, and must not fail the check.
    """
    env = os.environ if env is None else env
    if env.get("PREDEV_CACHE_DIR"):
        return env["PREDEV_CACHE_DIR"]
    if env.get("XDG_CACHE_HOME"):
        return os.path.join(env["XDG_CACHE_HOME"], "predev")
    home = env.get("HOME") or os.path.expanduser("~")  # the passwd entry when HOME is unset
    return os.path.join(home, ".cache", "predev") if home not in ("", "~") else None


def location(directory: str | None, uid: int | None = None) -> str | None:
    """Where our files go for `directory`: itself, or our own subdirectory in a shared one.

    Shared means sticky (like /tmp) or another user's. A symlink as the last component is
    followed only when it is ours. None: not usable (a file, another user's symlink).
    """
    if directory is None:
        return None
    uid = os.geteuid() if uid is None else uid
    try:
        info = os.lstat(directory)
        if stat.S_ISLNK(info.st_mode):
            if info.st_uid != uid:
                return None
            info = os.stat(directory)
    except FileNotFoundError:
        return directory
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    if info.st_mode & stat.S_ISVTX or info.st_uid != uid:
        return os.path.join(directory, f"predev-{uid}")
    return directory


def _trusted(info: os.stat_result, uid: int, *, directory: bool) -> bool:
    """Ours alone: owned by `uid`, and (for a directory) writable by nobody else."""
    if info.st_uid != uid:
        return False
    return not (directory and info.st_mode & 0o022)


def entry_path(directory: str | os.PathLike[str], base_url: str, api_key: Secret) -> str:
    """One file per (base URL as given, key); the name is a one-way hash, never the key.

    The URL is keyed as written, not normalized: an entry only exists for a URL that a request
    has validated, so a hit needs no URL parsing.
    """
    digest = api_key.digest("predev-credits-cache", str(_FORMAT), base_url)
    return os.path.join(directory, f"balance-{digest[:40]}.json")


def read_private(path: str | os.PathLike[str], limit: int, uid: int) -> bytes | None:
    """The bytes of a file we wrote ourselves, or None (see `read`); shared with the history."""
    try:
        if not _trusted(os.stat(os.path.dirname(path)), uid, directory=True):
            return None
        raw, info = read_regular(path, limit, follow_symlinks=False)
    except OSError:
        return None
    return raw if _trusted(info, uid, directory=False) else None


def read(
    path: str | os.PathLike[str], ttl: float, now: float, *, uid: int | None = None
) -> Balance | None:
    """The cached balance if it is younger than `ttl` seconds, else None.

    A miss, too, for anything we did not write ourselves: not a regular file (a FIFO is never
    waited on), a symlink, owned by another user (`uid`, default the effective uid), in a
    directory others can write, or whose content is damaged or out of range.
    """
    if ttl <= 0:
        return None
    raw = read_private(path, MAX_ENTRY_BYTES, os.geteuid() if uid is None else uid)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("v") != _FORMAT:
        return None
    balance, stored_at = data.get("credits_remaining"), data.get("fetched_at")
    if range_problem(balance, BALANCE) or range_problem(stored_at, TIMESTAMP):
        return None
    assert isinstance(balance, (int, float))
    assert isinstance(stored_at, (int, float))
    age = now - stored_at
    if age < 0 or age >= ttl:  # a clock that went backwards is a miss, not a hit
        return None
    return balance


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def private_dir(directory: str | os.PathLike[str], uid: int) -> bool:
    """Make `directory` ours alone, changing as little as possible; False if it cannot be.

    Created 0700 if missing. An existing one must be ours and not sticky; group/other bits
    are removed (never anything added: a 0555 directory stays read-only), through a
    descriptor opened with O_NOFOLLOW, so a symlink planted there never carries the change.
    A symlink of ours is used as it is, if its target is ours and writable by nobody else.
    Raises OSError when it cannot be created.
    """
    os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        fd = os.open(directory, _DIR_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        if not os.path.islink(directory):
            raise
        info = os.stat(directory)  # ours (see `location`): used, never changed
        return stat.S_ISDIR(info.st_mode) and _trusted(info, uid, directory=True)
    try:
        info = os.fstat(fd)
        if info.st_uid != uid or info.st_mode & stat.S_ISVTX:
            return False
        if info.st_mode & 0o077:
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~0o077)
    finally:
        os.close(fd)
    return True


#: A writer needs milliseconds; a temporary file this old was left by one that was killed.
STALE_SECONDS = 3600


def clean_stale(
    directory: str | os.PathLike[str],
    prefix: str,
    suffix: str,
    uid: int,
    *,
    now: float,
    max_age: float = STALE_SECONDS,
) -> None:
    """Remove our regular files named prefix*suffix older than `max_age` seconds; never
    follows a symlink, never touches another user's file, and ignores every error."""
    try:
        names = [n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith(suffix)]
    except OSError:
        return
    for name in names:
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
            ours = stat.S_ISREG(info.st_mode) and info.st_uid == uid
            if ours and now - info.st_mtime > max_age:
                os.unlink(path)
        except OSError:
            continue


def write(
    path: str | os.PathLike[str], balance: Balance, now: float, *, uid: int | None = None
) -> bool:
    """Store the balance atomically; False (and nothing changed) on any OS error, or when
    the directory belongs to another user."""
    payload = json.dumps({"v": _FORMAT, "credits_remaining": balance, "fetched_at": now})
    return write_private(path, payload, os.geteuid() if uid is None else uid, now=now)


def write_private(path: str | os.PathLike[str], payload: str, uid: int, *, now: float) -> bool:
    """Replace `path` with `payload` atomically (a 0600 temporary file renamed into place) in a
    private directory of ours, first removing temporary files of writers killed before `now`
    minus an hour; False on any OS error. Shared with the history."""
    import contextlib  # only the live path writes; keep these off the cache-hit import path
    import tempfile

    tmp_name: str | None = None
    uid = os.geteuid() if uid is None else uid
    try:
        directory = os.path.dirname(path)
        if not private_dir(directory, uid):
            return False
        clean_stale(directory, ".tmp-", ".json", uid, now=now)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            handle.write(payload)
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError:
        return False
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return True
