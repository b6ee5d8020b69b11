"""The low-credit alert's one message, for every shell: the CLI's `alert.message` (JSON) and
`ALERT:`/`RECOVERED:` lines, and the Action's `alert-message` output and summary, are
`message(...)` of the same crossing (the `alert` object itself is `outcome.AlertReport`).
Pure: the caller decides the edge (`watch.low_edges`) and passes the forecast and the time.

Safe by construction: the message is one line of numbers and our own words (the balance, the
thresholds, the runway as `forecast.describe` says it) and the top-up link, which
`urls.normalize_topup_url` validated and %-encoded. Neither part holds a character of
`urls.LINK_UNSAFE` (a quote, backtick, brace, `$`, backslash, angle bracket, or whitespace
other than the single spaces between words), nor `|`, `[` or `]`: users paste it into JSON
strings, YAML and shell double-quoted strings, Jinja and Markdown, and it must stay text in
every one of them. The link is encoded here once more (idempotent), and the words lose any
such character, so no caller's input or future wording can break that.
"""

from __future__ import annotations

from .numbers import finite_number
from .outcome import number, setting_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .forecast import Forecast

#: The `rule` values: which rule fired.
BALANCE_RULE, RUNWAY_RULE = "balance", "runway"
#: Characters the words of a message never hold (the link's are %-encoded instead).
_DROPPED = frozenset("\"'`{}$\\<>|[]")
#: Our words are short; a phrase longer than this is cut (the link never is).
MAX_WORDS = 400


def runway_text(result: Forecast | None, now: float) -> str:
    """The runway as the message says it: `forecast.describe`, or `runway unknown`."""
    if result is None:
        return "runway unknown"
    from .forecast import describe

    return describe(result, now)


def message(
    *,
    fired: bool,
    rule: str | None,
    balance: object,
    below: object,
    rearm_above: object,
    runway_below_seconds: object,
    runway: str,
    link: str,
) -> str:
    """The alert in one line, fired or (`fired=False`) recovered:

    `pre.dev credits low: 180 remaining, below the alert level 200; burning ~240/day, floor in
    ~13 hours (Thu 3 Dec 14:00 UTC). Top up at https://pre.dev/project/playground`, for the
    runway rule `pre.dev credits running out: 450 remaining; <runway>, within the alert runway
    5h. Top up at ...`, and `pre.dev credits recovered: 240 remaining, at or above 220 again;
    <runway>.` The link ends the line (no full stop a linkifier could take for part of it).
    Numbers are checked here (a missing or non-finite one is left out or read as unknown), so
    a shell may pass what its own contract carries.
    """
    left = credits_text(balance)
    left = "balance unknown" if left is None else f"{left} remaining"
    if not fired:
        level = credits_text(rearm_above)
        again = "" if level is None else f", at or above {level} again"
        return _words(f"pre.dev credits recovered: {left}{again}; {runway}.")
    limit = finite_number(runway_below_seconds)
    # Every door parses the runway limit as a duration (at most MAX_DURATION); one beyond it
    # is not ours to print (its digits would push the link past the line's bound).
    from .forecast import MAX_DURATION

    if rule == RUNWAY_RULE and limit is not None and 0 < limit <= MAX_DURATION:
        head = f"pre.dev credits running out: {left}; {runway}, within the alert runway "
        words = head + f"{setting_text(limit)}."
    else:
        level = credits_text(below)
        words = f"pre.dev credits low: {left}"
        words += "" if level is None else f", below the alert level {level}"
        words += f"; {runway}."
    from .urls import encode_link

    return f"{_words(words)} Top up at {encode_link(link)}"


def credits_text(value: object) -> str | None:
    """450.0 -> 450, 12.3456 -> 12.35: a number of credits as a person reads it."""
    credits = finite_number(value)
    if credits is None:
        return None
    rounded = round(credits, 2)
    return number(int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded)


def _words(text: str) -> str:
    """Our words as one clean line, without any character `_DROPPED` names (and without the
    runs of spaces dropping them or the line breaks `clean` turned into spaces can leave)."""
    from .sanitize import clean

    line = clean(text, limit=MAX_WORDS)
    return " ".join("".join(ch for ch in line if ch not in _DROPPED).split())
