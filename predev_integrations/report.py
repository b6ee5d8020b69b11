"""Render one check's outcome as text, JSON or GitHub-native output.

The Action does no logic in bash: `--format github` writes the step outputs, the job
summary and the annotations here.
"""

from __future__ import annotations

import os
import sys

from .options import MIN_CREDITS
from .sanitize import clean, markdown, redact, workflow_data, workflow_property
from .verdict import ERROR, STATUSES, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from _typeshed import SupportsWrite

    from .verdict import Balance

    #: Where a report is written: a text stream, or the redacting wrapper around one.
    Stream = SupportsWrite[str]

TOP_UP_URL = "https://pre.dev/project/playground"


class Outcome:
    """Everything a report needs. `error` is one safe line, or None."""

    __slots__ = ("balance", "cached", "error", "min_credits", "soft", "status", "warn_below")

    def __init__(
        self,
        status: Verdict | str,
        *,
        balance: Balance | None = None,
        min_credits: float = MIN_CREDITS,
        warn_below: float | None = None,
        cached: bool = False,
        error: str | None = None,
        soft: bool = False,
    ) -> None:
        assert status in STATUSES
        self.status = str(status)
        self.balance = balance
        self.min_credits = min_credits
        self.warn_below = warn_below
        self.cached = cached
        self.error = error
        #: True when a low balance or an error is tolerated (exit 0) by policy.
        self.soft = soft

    @property
    def sufficient(self) -> bool:
        return self.status != ERROR and Verdict(self.status).sufficient

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "credits_remaining": self.balance,
            "min_credits": self.min_credits,
            "warn_below": self.warn_below,
            "cached": self.cached,
            "error": self.error,
        }


def number(value: Balance | None) -> str:
    """450, 12.5; floats that are whole print without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def summary_line(outcome: Outcome) -> str:
    """The one human line: balance, floor, verdict, and what to do about it."""
    cached = " (cached)" if outcome.cached else ""
    floor = f"floor {number(outcome.min_credits)}"
    if outcome.warn_below is not None:
        floor += f", warn below {number(outcome.warn_below)}"
    head = f"pre.dev credits: {number(outcome.balance)} remaining{cached} ({floor})"
    if outcome.status == Verdict.OK:
        return f"{head}: ok."
    if outcome.status == Verdict.WARN:
        return f"{head}: warn, running low; top up soon at {TOP_UP_URL}."
    if outcome.status == Verdict.LOW:
        tail = " Continuing because low balances are tolerated." if outcome.soft else ""
        return (
            f"{head}: LOW, below the floor; top up at {TOP_UP_URL} before generating specs.{tail}"
        )
    return f"pre.dev credits: unknown, {outcome.error}"


def error_line(prog: str, outcome: Outcome) -> str:
    if outcome.soft:
        return (
            f"{prog}: warning: could not read the credit balance: {outcome.error} "
            "Continuing because --on-error is warn."
        )
    return f"{prog}: error: {outcome.error}"


def render_text(outcome: Outcome, prog: str, out: Stream, err: Stream) -> None:
    if outcome.status == ERROR:
        print(error_line(prog, outcome), file=err)
    else:
        print(summary_line(outcome), file=out)


def render_json(outcome: Outcome, prog: str, out: Stream, err: Stream) -> None:
    import json  # only this format needs it

    print(json.dumps(outcome.as_dict()), file=out)
    if outcome.status == ERROR:
        print(error_line(prog, outcome), file=err)


# --- GitHub Actions -------------------------------------------------------------------------


def annotation(level: str, title: str, message: str) -> str:
    """A workflow command such as `::error title=...::message`, escaped per GitHub's rules."""
    return f"::{level} title={workflow_property(title)}::{workflow_data(message)}"


def github_outputs(outcome: Outcome) -> dict[str, str]:
    """Step outputs: our own words and numbers only, each one line (`name=value` format)."""
    return {
        "credits-remaining": number(outcome.balance) if outcome.status != ERROR else "",
        "status": outcome.status,
        "sufficient": "true" if outcome.sufficient else "false",
    }


def _cell(text: str) -> str:
    """Text for the summary's Markdown: one line, no HTML, links, images or comments."""
    return markdown(clean(text, limit=1000))


def github_summary(outcome: Outcome) -> str:
    icon = {Verdict.OK.value: "✅", Verdict.WARN.value: "⚠️"}.get(outcome.status, "❌")
    balance = number(outcome.balance) if outcome.balance is not None else "unknown"
    warn = number(outcome.warn_below) if outcome.warn_below is not None else "—"
    lines = [
        "### pre.dev credits",
        "",
        "| Balance | Floor | Warn below | Verdict |",
        "| --- | --- | --- | --- |",
        f"| {balance}{' (cached)' if outcome.cached else ''} | {number(outcome.min_credits)} "
        f"| {warn} | {icon} {outcome.status} |",
    ]
    if outcome.error:
        lines += ["", f"**Error:** {_cell(outcome.error)}"]
    elif outcome.status == Verdict.LOW:
        lines += ["", f"Top up at {TOP_UP_URL} before generating specs."]
    return "\n".join(lines) + "\n\n"


def _append(path: str, text: str, err: Stream, what: str, key: str | None = None) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(redact(text, key))
    except OSError as exc:
        print(f"warning: could not write {what} ({exc.strerror or exc}).", file=err)


def render_github(
    outcome: Outcome,
    prog: str,
    out: Stream,
    err: Stream,
    env: Mapping[str, str] | None = None,
    *,
    key: str | None = None,
) -> None:
    env = os.environ if env is None else env
    if env.get("GITHUB_OUTPUT"):
        text = "".join(f"{k}={clean(v)}\n" for k, v in github_outputs(outcome).items())
        _append(env["GITHUB_OUTPUT"], text, err, "GITHUB_OUTPUT", key)
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = github_summary(outcome)
        _append(env["GITHUB_STEP_SUMMARY"], summary, err, "GITHUB_STEP_SUMMARY", key)
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
    """A text stream that redacts the key from everything written: the last line of defence,
    after every escape (an escape could spell a fragment of the key)."""

    def __init__(self, stream: Stream, key: str | None) -> None:
        self._stream = stream
        self._key = key

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._key))
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
    key: str | None = None,
) -> None:
    """Write the report; `key` is redacted from every byte written (streams and files)."""
    to = _Redacting(sys.stdout if out is None else out, key)
    te = _Redacting(sys.stderr if err is None else err, key)
    if fmt == "json":
        render_json(outcome, prog, to, te)
    elif fmt == "github":
        render_github(outcome, prog, to, te, key=key)
    else:
        render_text(outcome, prog, to, te)
