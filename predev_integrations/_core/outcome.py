"""One check's outcome and the human line that says it: what every report format starts from."""

from __future__ import annotations

from .defaults import MIN_CREDITS, TOP_UP_URL
from .verdict import ERROR, STATUSES, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .forecast import Forecast
    from .need import Need
    from .verdict import Balance


class Outcome:
    """Everything a report needs. `error` is one safe line, or None.

    The runway fields are set by the check when it made a forecast (see `with_runway`).
    """

    __slots__ = (
        "alert",
        "balance",
        "cached",
        "error",
        "history",
        "min_credits",
        "min_runway",
        "need",
        "now",
        "runway",
        "runway_verdict",
        "show_runway",
        "soft",
        "status",
        "topup_url",
        "warn_below",
        "warn_runway",
    )

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
        topup_url: str = TOP_UP_URL,
        need: Need | None = None,
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
        #: The forecast, the Unix time it was made for, and the verdict it raised the balance's
        #: to (OK when it did not change it); the thresholds asked for, in seconds.
        self.runway: Forecast | None = None
        self.now: float = 0.0
        self.runway_verdict: Verdict = Verdict.OK
        self.min_runway: float | None = None
        self.warn_runway: float | None = None
        #: Say the runway in the text line even when unknown (a runway flag was given).
        self.show_runway = False
        #: The stored readings `(time, balance)`, oldest first, for charts; None when unread.
        self.history: list[tuple[float, float]] | None = None
        #: Where to buy credits, in every LOW/warn line and alert (`--topup-url`, validated).
        self.topup_url = topup_url
        #: The low-credit alert's report (`alert.AlertReport`); None when no alert is set.
        self.alert: AlertReport | None = None
        #: What the coming work will spend (`need.Need`); the verdict compares the balance
        #: with the floor plus it. None (no need, or a need of 0) changes nothing.
        self.need = need

    @property
    def sufficient(self) -> bool:
        return self.status != ERROR and Verdict(self.status).sufficient

    @property
    def shortfall(self) -> float | None:
        """Credits missing for the floor plus the need; None without a need or a balance."""
        if self.need is None or self.balance is None or self.status == ERROR:
            return None
        from .need import shortfall

        return shortfall(self.balance, self.min_credits, self.need)

    def as_dict(self) -> dict[str, object]:
        if self.need is not None:  # the keys appear only with a need: output without is as before
            return {
                **self._as_dict(),
                "need": self.need.to_json(),
                "shortfall": self.shortfall,
            }
        return self._as_dict()

    def _as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "credits_remaining": self.balance,
            "min_credits": self.min_credits,
            "warn_below": self.warn_below,
            "cached": self.cached,
            "error": self.error,
            "runway": None if self.runway is None else self.runway.to_json(),
            "alert": None if self.alert is None else self.alert.to_json(),
        }


class AlertReport:
    """One check's alert: what fired or recovered on this run, and whether an alert is active.

    `stateful` is False when no history is kept (`--no-history`, no cache directory, no POSIX
    ownership): a crossing cannot be known then, so nothing fires; `note` says why, for the
    text output (not part of the JSON).
    """

    __slots__ = (
        "active",
        "below",
        "fired",
        "message",
        "note",
        "rearm_above",
        "recovered",
        "rule",
        "runway_below_seconds",
        "stateful",
    )

    def __init__(
        self,
        *,
        below: float | None,
        rearm_above: float | None,
        runway_below_seconds: float | None,
        stateful: bool,
        fired: bool = False,
        recovered: bool = False,
        rule: str | None = None,
        message: str | None = None,
        active: bool = False,
        note: str | None = None,
    ) -> None:
        self.below = below
        self.rearm_above = rearm_above
        self.runway_below_seconds = runway_below_seconds
        self.stateful = stateful
        self.fired = fired
        self.recovered = recovered
        self.rule = rule
        self.message = message
        self.active = active
        self.note = note

    def to_json(self) -> dict[str, object]:
        """The `alert` object of `--format json` (its fields: docs/cli.md, Alerts)."""
        return {
            "fired": self.fired,
            "recovered": self.recovered,
            "rule": self.rule,
            "message": self.message,
            "active": self.active,
            "below": self.below,
            "runway_below_seconds": self.runway_below_seconds,
            "rearm_above": self.rearm_above,
            "stateful": self.stateful,
        }


def number(value: Balance | None) -> str:
    """450, 12.5; floats that are whole print without `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def runway_phrase(outcome: Outcome) -> str | None:
    """The forecast as a phrase for the line (`burning ~120/day, floor in ~3.3 days (...)`):
    when it is known or not spending, or when a runway flag asked for it; else None."""
    result = outcome.runway
    if result is None:
        return None  # before the import: a cache hit without a forecast never loads it
    from .forecast import KNOWN, UNKNOWN, describe, risk_text

    if result.status == UNKNOWN and not outcome.show_runway:
        return None
    phrase = describe(result, outcome.now)
    if result.status == KNOWN and outcome.runway_verdict != Verdict.OK:
        limit = outcome.min_runway if outcome.runway_verdict == Verdict.LOW else outcome.warn_runway
        which = "--min-runway" if outcome.runway_verdict == Verdict.LOW else "--warn-runway"
        if limit is not None:
            phrase += f": {risk_text(result, outcome.now)}, within {which} {setting_text(limit)}"
    return phrase


def setting_text(seconds: float) -> str:
    """A threshold as a user would write it: 7d, 36h, 90m, 45s (2w is 14d)."""
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "m")):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def summary_line(outcome: Outcome) -> str:
    """The one human line: balance, floor, verdict, the runway, and what to do about it."""
    cached = " (cached)" if outcome.cached else ""
    floor = f"floor {number(outcome.min_credits)}"
    if outcome.warn_below is not None:
        floor += f", warn below {number(outcome.warn_below)}"
    head = f"pre.dev credits: {number(outcome.balance)} remaining{cached} ({floor})"
    runway = runway_phrase(outcome)
    if outcome.need is not None and outcome.status != ERROR:
        return need_line(outcome, head, runway)
    by_runway = outcome.runway_verdict != Verdict.OK  # the runway, not the balance, decided
    if outcome.status == Verdict.OK:
        return f"{head}: ok; {runway}." if runway else f"{head}: ok."
    if outcome.status == Verdict.WARN:
        what = runway if by_runway and runway else "running low"
        if runway and not by_runway:
            what += f"; {runway}"
        return f"{head}: warn, {what}; top up soon at {outcome.topup_url}."
    if outcome.status == Verdict.LOW:
        tail = " Continuing because low balances are tolerated." if outcome.soft else ""
        what = runway if by_runway and runway else "below the floor"
        return f"{head}: LOW, {what}; top up at {outcome.topup_url} before generating specs.{tail}"
    return f"pre.dev credits: unknown, {outcome.error}"


def need_line(outcome: Outcome, head: str, runway: str | None) -> str:
    """`summary_line` for a check with a need (its wording without one is unchanged)."""
    from .need import batches_phrase, enough_phrase, short_phrase, shortfall

    need = outcome.need
    assert need is not None
    assert outcome.balance is not None
    floor, url = outcome.min_credits, outcome.topup_url
    by_runway = outcome.runway_verdict != Verdict.OK
    batches = batches_phrase(need, outcome.balance, floor, outcome.runway)
    tail = "".join(f"; {part}" for part in (runway, batches) if part)
    if outcome.status == Verdict.OK:
        return f"{head}: ok, {enough_phrase(need, floor)}{tail}."
    if outcome.status == Verdict.WARN:
        if by_runway and runway:
            what = f"{runway}; {enough_phrase(need, floor)}"
        else:
            what = f"{enough_phrase(need, floor)}, but running low after them{tail}"
        return f"{head}: warn, {what}; top up soon at {url}."
    soft = " Continuing because low balances are tolerated." if outcome.soft else ""
    missing = shortfall(outcome.balance, floor, need)
    what = runway if by_runway and runway and not missing else short_phrase(need, missing, floor)
    return f"{head}: LOW, {what}; top up at {url} before generating specs.{soft}"
