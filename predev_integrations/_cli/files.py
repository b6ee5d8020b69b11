"""Open files without ever blocking: the key file, the config file, a cache entry to read;
$GITHUB_OUTPUT, the step summary and the crash log to write.

`open()` on a FIFO with no writer (or, to write, no reader) blocks forever, and a device can
stream without end. So a file is opened with O_NONBLOCK, checked with fstat on the open
descriptor (no race with a swap between check and open), and used only if it is a regular
file (read only so far).
"""

from __future__ import annotations

import errno
import os
import stat


class NotReadable(OSError):
    """A path that exists but is not a small regular file; `strerror` says what it is."""


class NotWritable(OSError):
    """A path to write that is not a regular file; `strerror` says what it is."""


_COMMON = os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def open_regular_for_write(
    path: str | os.PathLike[str], flags: int, mode: int = 0o600, *, devnull_ok: bool = False
) -> int | None:
    """A descriptor of the regular file at `path` opened with `flags` (O_WRONLY | ...), at once.

    O_NONBLOCK: a FIFO without a reader fails at once (ENXIO) instead of waiting for one, and
    one with a reader is refused like any device (NotWritable). O_TRUNC is done only once the
    file is known to be regular. With `devnull_ok`, /dev/null is accepted and None returned:
    nothing needs writing.
    """
    truncate = flags & os.O_TRUNC
    try:
        fd = os.open(path, (flags & ~os.O_TRUNC) | _COMMON, mode)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise NotWritable(errno.ENXIO, _kind(stat.S_IFIFO)) from None
        raise
    try:
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        if regular and truncate:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    if regular:
        return fd
    os.close(fd)
    if devnull_ok and stat.S_ISCHR(info.st_mode) and _is_devnull(info):
        return None
    raise NotWritable(errno.EINVAL, _kind(info.st_mode))


def _is_devnull(info: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return (info.st_rdev, info.st_dev, info.st_ino) == (null.st_rdev, null.st_dev, null.st_ino)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is a device, not a regular file"


def read_regular(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> tuple[bytes, os.stat_result]:
    """The first bytes of a regular file, and its stat; NotReadable when not regular or larger.

    Raises OSError (with `strerror`) for every failure: missing, no permission, a directory,
    a FIFO, a device, a symlink when `follow_symlinks` is False, or more than `limit` bytes.
    """
    flags = os.O_RDONLY | _COMMON
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotReadable(errno.EINVAL, _kind(info.st_mode))
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise NotReadable(errno.EFBIG, f"is larger than {limit} bytes")
        return b"".join(chunks), info
    finally:
        os.close(fd)
