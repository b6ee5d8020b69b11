"""Render one check's outcome as text, JSON or GitHub-native output.

The Action does no logic in bash: `--format github` writes the step outputs, the job
summary and the annotations here.
"""

from __future__ import annotations

import os
import sys

from .._core.outcome import Outcome, summary_line
from .._core.sanitize import clean
from .._core.verdict import ERROR, Verdict
from .._github.commands import annotation
from .._github.summary import github_outputs, github_summary

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from _typeshed import SupportsWrite

    from .._core.secret import Secrets

    #: Where a report is written: a text stream, or the redacting wrapper around one.
    Stream = SupportsWrite[str]


def error_line(prog: str, outcome: Outcome) -> str:
    if outcome.soft:
        return (
            f"{prog}: warning: could not read the credit balance: {outcome.error} "
            "Continuing because --on-error is warn."
        )
    return f"{prog}: error: {outcome.error}"


def alert_lines(outcome: Outcome) -> list[str]:
    """`ALERT: ...` on the run that fires, `RECOVERED: ...` on the run that re-arms, or the
    one line saying that alerts cannot work without a history; else nothing."""
    alert = outcome.alert
    if alert is None:
        return []
    if alert.fired and alert.message:
        return [f"ALERT: {alert.message}"]
    if alert.recovered and alert.message:
        return [f"RECOVERED: {alert.message}"]
    return [alert.note] if not alert.stateful and alert.note else []


def render_text(outcome: Outcome, prog: str, out: Stream, err: Stream) -> None:
    if outcome.status == ERROR:
        print(error_line(prog, outcome), file=err)
    else:
        print(summary_line(outcome), file=out)
    for line in alert_lines(outcome):
        print(line, file=out)


def render_json(outcome: Outcome, prog: str, out: Stream, err: Stream) -> None:
    import json  # only this format needs it

    print(json.dumps(outcome.as_dict()), file=out)
    if outcome.status == ERROR:
        print(error_line(prog, outcome), file=err)


def _append(path: str, text: str, err: Stream, what: str, secrets: Secrets | None) -> None:
    """Append to a step file, redacted; never blocking: a regular file or /dev/null, else one
    warning line (a FIFO without a reader would hang the step forever)."""
    from .files import open_regular_for_write

    data = (secrets.redact(text) if secrets is not None else text).encode("utf-8")
    try:
        fd = open_regular_for_write(
            path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666, devnull_ok=True
        )
        if fd is not None:
            with open(fd, "wb", closefd=True) as handle:
                handle.write(data)
    except OSError as exc:
        print(f"warning: could not write {what} ({exc.strerror or exc}).", file=err)


def render_github(
    outcome: Outcome,
    prog: str,
    out: Stream,
    err: Stream,
    env: Mapping[str, str] | None = None,
    *,
    secrets: Secrets | None = None,
) -> None:
    env = os.environ if env is None else env
    if env.get("GITHUB_OUTPUT"):
        # One line each; long enough for `alert-message` with a 2048-character link, whole.
        text = "".join(f"{k}={clean(v, 4_096)}\n" for k, v in github_outputs(outcome).items())
        _append(env["GITHUB_OUTPUT"], text, err, "GITHUB_OUTPUT", secrets)
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = github_summary(outcome)
        _append(env["GITHUB_STEP_SUMMARY"], summary, err, "GITHUB_STEP_SUMMARY", secrets)
    if outcome.status == ERROR:
        level = "warning" if outcome.soft else "error"
        print(annotation(level, "pre.dev credits check failed", outcome.error or ""), file=out)
    elif outcome.status == Verdict.LOW:
        level = "warning" if outcome.soft else "error"
        print(annotation(level, "pre.dev credits low", summary_line(outcome)), file=out)
    elif outcome.status == Verdict.WARN:
        print(annotation("warning", "pre.dev credits running low", summary_line(outcome)), file=out)
    else:
        print(summary_line(outcome), file=out)


class _Redacting:
    """A text stream that redacts every key source from what is written: after every escape
    (an escape could spell a fragment of the key). main's stdout and stderr do so already."""

    def __init__(self, stream: Stream, secrets: Secrets) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(self._secrets.redact(text))
        return len(text)

    def flush(self) -> None:
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()


def render(
    outcome: Outcome,
    fmt: str,
    prog: str,
    out: Stream | None = None,
    err: Stream | None = None,
    *,
    secrets: Secrets | None = None,
) -> None:
    """Write the report; `secrets` are redacted from every byte written (streams and files)."""
    to: Stream = sys.stdout if out is None else out
    te: Stream = sys.stderr if err is None else err
    if secrets is not None:
        to, te = _Redacting(to, secrets), _Redacting(te, secrets)
    if fmt == "json":
        render_json(outcome, prog, to, te)
    elif fmt == "github":
        render_github(outcome, prog, to, te, secrets=secrets)
    else:
        render_text(outcome, prog, to, te)
