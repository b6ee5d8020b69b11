"""Where a bug of ours goes: one line for the user, the traceback in a private log file.

As pre-commit does with `~/.cache/pre-commit/pre-commit.log`: the run still ends with one
readable line, and that line names the file a maintainer needs. The file is
`predev-credits-check.log` in the cache directory, else in a directory of ours (`predev-<uid>`)
in the system's temporary directory: 0600 in a 0700 directory (see `cache.private_dir`), one
file per place, overwritten, capped at MAX_LOG_BYTES, opened without blocking, only if regular.
Every key source, whole or any 8-character run of one, is redacted first. Logs that older
versions left in the temporary directory (`predev-credits-check-*.log`) are removed once stale.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .._core.secret import Secrets

LOG_NAME = "predev-credits-check.log"
#: A traceback of ours is a few KiB; a huge message or a deep recursion is cut to this.
MAX_LOG_BYTES = 256 * 1024
#: Fallback logs of older versions in the temporary directory are removed after this long.
OLD_LOG_SECONDS = 7 * 86_400


def traceback_text(exc: BaseException, secrets: Secrets | None = None) -> str:
    """The formatted traceback with every key source (and fragment of one) replaced by ***,
    cut to MAX_LOG_BYTES (its head and tail, where the cause and the failing line are)."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(text) > MAX_LOG_BYTES // 4:  # at most 4 bytes per character once encoded
        half = MAX_LOG_BYTES // 8 - 100
        text = f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"
    return secrets.redact(text) if secrets is not None else text


def _write_private(directory: str, data: bytes) -> str:
    """Write `data` to the log in `directory` (made ours alone first); its path."""
    from .cache import location, private_dir
    from .files import open_regular_for_write

    uid = os.geteuid()
    place = location(directory, uid)
    if place is None or not private_dir(place, uid):
        raise PermissionError(f"{directory} is not usable")
    path = os.path.join(place, LOG_NAME)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = open_regular_for_write(path, flags, 0o600)
    assert fd is not None
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data[:MAX_LOG_BYTES])
    return path


def _clean_old_fallbacks(temp: str) -> None:
    from .cache import clean_stale

    # Only files of ours, regular, named as older versions named them, and old.
    clean_stale(
        temp,
        "predev-credits-check-",
        ".log",
        os.geteuid(),
        now=time.time(),
        max_age=OLD_LOG_SECONDS,
    )


def write_log(exc: BaseException, secrets: Secrets | None = None) -> str | None:
    """Write the traceback of `exc`; the file's path, or None when nowhere was usable."""
    import tempfile

    from .cache import cache_dir

    data = traceback_text(exc, secrets).encode("utf-8", "backslashreplace")
    temp = tempfile.gettempdir()
    _clean_old_fallbacks(temp)
    # In the temporary directory, always a directory of ours: never a mode change on it.
    for directory in (cache_dir(), os.path.join(temp, f"predev-{os.geteuid()}")):
        if directory is None:
            continue
        try:
            return _write_private(directory, data)
        except OSError:
            continue
    return None


def log_internal_error(exc: BaseException, secrets: Secrets | None = None) -> str:
    """The one line to show for a bug of ours, naming the log that holds its traceback."""
    path = write_log(exc, secrets)
    where = f"the traceback is in {path}" if path else "no log file could be written"
    return f"internal error ({type(exc).__name__}); {where}. Please report it."
