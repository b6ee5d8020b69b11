"""Where a bug of ours goes: one line for the user, the traceback in a private log file.

As pre-commit does with `~/.cache/pre-commit/pre-commit.log`: the run still ends with one
readable line, and that line names the file a maintainer needs. The file is
`predev-credits-check.log` in the cache directory (0600 in a 0700 directory), else a fresh
private temporary file. The key, whole or any 8-character run of it, is redacted first.
"""

from __future__ import annotations

import os

from .._core.defaults import API_KEY_ENV

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

LOG_NAME = "predev-credits-check.log"


def traceback_text(exc: BaseException, keys: Iterable[str | None]) -> str:
    """The formatted traceback with every key (and fragment of one) replaced by ***."""
    import traceback

    from .._core.sanitize import redact

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    # The default key variable is redacted even when the key was never loaded.
    for key in (*keys, os.environ.get(API_KEY_ENV)):
        text = redact(text, key)
    return text


def _write_private(directory: str | None, data: bytes) -> str:
    """Write `data` to the log in `directory` (ours, 0700) or, with None, to a temp file."""
    if directory is None:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="predev-credits-check-", suffix=".log")
    else:
        from .cache import private_dir

        if not private_dir(directory, os.geteuid()):
            raise PermissionError(f"{directory} belongs to another user")
        path = os.path.join(directory, LOG_NAME)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def write_log(exc: BaseException, keys: Iterable[str | None] = ()) -> str | None:
    """Write the traceback of `exc`; the file's path, or None when nowhere was writable."""
    from .cache import cache_dir

    data = traceback_text(exc, keys).encode("utf-8", "backslashreplace")
    for directory in (cache_dir(), None):
        try:
            return _write_private(directory, data)
        except OSError:
            continue
    return None


def log_internal_error(exc: BaseException, keys: Iterable[str | None] = ()) -> str:
    """The one line to show for a bug of ours, naming the log that holds its traceback."""
    path = write_log(exc, keys)
    where = f"the traceback is in {path}" if path else "no log file could be written"
    return f"internal error ({type(exc).__name__}); {where}. Please report it."
