"""The CLI's one output path: every byte it prints or writes is redacted of every key source.

`main` builds the redactor from every place the key may come from ($PREDEV_API_KEY, the
variable `--api-key-env` names, the `--api-key-file`'s content) before it reads any flag or
file, and swaps stdout and stderr for redacting streams while it runs: so argparse's messages,
errors raised while reading the configuration, the report and any stray print are all redacted,
not a list of call sites. Files we write ($GITHUB_OUTPUT, the step summary, the crash log) take
the same redactor.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

    from .._core.secret import Secrets


class RedactingStream:
    """A text stream that writes whole lines, each redacted, to the stream it wraps.

    Lines are redacted whole, so a key split across two `write` calls is still found; the rest
    of a line is written (redacted) on `flush`.
    """

    def __init__(self, stream: TextIO, secrets: Secrets) -> None:
        self._stream = stream
        self._secrets = secrets
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        done, newline, rest = self._pending.rpartition("\n")
        if newline:
            self._pending = rest
            self._stream.write(self._secrets.redact(done + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self._stream.write(self._secrets.redact(text))
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


class redirected:
    """Within the block, sys.stdout and sys.stderr redact `secrets`; restored (and flushed)
    after. A plain class, not contextlib: it is on every run's path."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self._saved: tuple[TextIO, TextIO] | None = None

    def __enter__(self) -> redirected:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = RedactingStream(sys.stdout, self.secrets)
        sys.stderr = RedactingStream(sys.stderr, self.secrets)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        streams: Iterator[object] = iter((sys.stdout, sys.stderr))
        sys.stdout, sys.stderr = self._saved
        for stream in streams:
            try:
                stream.flush()  # type: ignore[attr-defined]
            except (OSError, ValueError):
                continue
