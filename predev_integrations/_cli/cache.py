"""A tiny on-disk TTL cache so a burst of commits makes one API call.

Entries are keyed by a hash of (base URL, key) and hold only the balance and when it was
read. Files are 0600 in a 0700 directory, written to a temporary file and renamed into
place, so concurrent writers never leave a torn file. Every failure is a miss: the cache
must never be the reason a check fails.

A hit is the CLI's fast path, so paths are `os.path` strings (pathlib would bring in
urllib.parse, ipaddress and fnmatch) and annotation-only names are imported for type checkers only.
"""

from __future__ import annotations

import hashlib
import json
import os

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


def _trusted(info: os.stat_result, uid: int, *, directory: bool) -> bool:
    """Ours alone: owned by `uid`, and (for a directory) writable by nobody else."""
    if info.st_uid != uid:
        return False
    return not (directory and info.st_mode & 0o022)


def fingerprint(*parts: str) -> str:
    """A one-way name for (purpose, format, base URL, key): 40 hex digits, never the key.

    The history (`history.py`) names its files with this too, under another purpose.
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\0")
    return digest.hexdigest()[:40]


def entry_path(directory: str | os.PathLike[str], base_url: str, api_key: Secret) -> str:
    """One file per (base URL as given, key); the name is a one-way hash, never the key.

    The URL is keyed as written, not normalized: an entry only exists for a URL that a request
    has validated, so a hit needs no URL parsing.
    """
    name = fingerprint("predev-credits-cache", str(_FORMAT), base_url, api_key.reveal())
    return os.path.join(directory, f"balance-{name}.json")


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


def private_dir(directory: str | os.PathLike[str], uid: int) -> bool:
    """Create the directory 0700, or make an existing one of ours 0700; False if not ours.

    Raises OSError when it cannot be created.
    """
    os.makedirs(directory, mode=0o700, exist_ok=True)
    info = os.stat(directory)
    if info.st_uid != uid:
        return False
    if info.st_mode & 0o077:
        os.chmod(directory, 0o700)
    return True


def write(
    path: str | os.PathLike[str], balance: Balance, now: float, *, uid: int | None = None
) -> bool:
    """Store the balance atomically; False (and nothing changed) on any OS error, or when
    the directory belongs to another user."""
    payload = json.dumps({"v": _FORMAT, "credits_remaining": balance, "fetched_at": now})
    return write_private(path, payload, os.geteuid() if uid is None else uid)


def write_private(path: str | os.PathLike[str], payload: str, uid: int) -> bool:
    """Replace `path` with `payload` atomically (a 0600 temporary file renamed into place) in a
    private directory of ours; False on any OS error. Shared with the history."""
    import contextlib  # only the live path writes; keep these off the cache-hit import path
    import tempfile

    tmp_name: str | None = None
    try:
        directory = os.path.dirname(path)
        if not private_dir(directory, uid):
            return False
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
