"""A tiny on-disk TTL cache so a burst of commits makes one API call.

Entries are keyed by a hash of (base URL, key) and hold only the balance and when it was
read. Files are 0600 in a 0700 directory, written to a temporary file and renamed into
place, so concurrent writers never leave a torn file. Every failure is a miss: the cache
must never be the reason a check fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path

from .secret import Secret
from .verdict import Balance

_FORMAT = 1


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$PREDEV_CACHE_DIR`, else `$XDG_CACHE_HOME/predev`, else `~/.cache/predev`."""
    env = os.environ if env is None else env
    if env.get("PREDEV_CACHE_DIR"):
        return Path(env["PREDEV_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "predev"
    return Path.home() / ".cache" / "predev"


def entry_path(directory: Path, base_url: str, api_key: Secret) -> Path:
    """One file per (base URL, key); the name is a one-way hash, never the key."""
    digest = hashlib.sha256()
    for part in ("predev-credits-cache", str(_FORMAT), base_url, api_key.reveal()):
        digest.update(part.encode("utf-8") + b"\0")
    return directory / f"balance-{digest.hexdigest()[:40]}.json"


def read(path: Path, ttl: float, now: float) -> Balance | None:
    """The cached balance if it is younger than `ttl` seconds, else None."""
    if ttl <= 0:
        return None
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(4096))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != _FORMAT:
        return None
    balance, stored_at = data.get("credits_remaining"), data.get("fetched_at")
    for value in (balance, stored_at):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value):
            return None
    assert isinstance(balance, (int, float))
    assert isinstance(stored_at, (int, float))
    age = now - stored_at
    if age < 0 or age >= ttl:  # a clock that went backwards is a miss, not a hit
        return None
    return balance


def write(path: Path, balance: Balance, now: float) -> bool:
    """Store the balance atomically; returns False (and changes nothing) on any OS error."""
    payload = json.dumps({"v": _FORMAT, "credits_remaining": balance, "fetched_at": now})
    import tempfile  # only the live path writes; keep it off the cache-hit import path

    tmp_name: str | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
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
