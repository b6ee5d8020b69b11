"""One check's outcome and the human line that says it: what every report format starts from."""

from __future__ import annotations

from .defaults import MIN_CREDITS, TOP_UP_URL
from .verdict import ERROR, STATUSES, Verdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .verdict import Balance


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
