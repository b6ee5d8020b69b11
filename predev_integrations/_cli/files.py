"""Read small files without ever blocking: the key file, the config file, a cache entry.

`open()` on a FIFO with no writer blocks forever, and a device can stream without end. So a
file is opened with O_NONBLOCK, checked with fstat on the open descriptor (no race with a
swap between check and open), and read only if it is a regular file, and only so far.
"""

from __future__ import annotations

import errno
import os
import stat


class NotReadable(OSError):
    """A path that exists but is not a small regular file; `strerror` says what it is."""


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
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
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
