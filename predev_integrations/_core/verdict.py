"""The floor comparison, the one decision every integration makes."""

from __future__ import annotations

from enum import Enum

#: A balance as the API reports it: the docs say "number", so floats are kept as floats.
Balance = int | float


class Verdict(str, Enum):
    """The three outcomes of a readable balance; their values are the reported statuses."""

    OK = "ok"
    WARN = "warn"
    LOW = "low"

    def __str__(self) -> str:
        return self.value

    @property
    def sufficient(self) -> bool:
        """At or above the floor (a warning still lets the pipeline run)."""
        return self is not Verdict.LOW


#: The status of a check that could not judge a balance (it has no verdict).
ERROR = "error"
#: Every status a report, a step output or an XCom can carry.
STATUSES = (*(verdict.value for verdict in Verdict), ERROR)


def evaluate(balance: Balance, min_credits: float, warn_below: float | None = None) -> Verdict:
    """`low` below the floor, `warn` at/above it but below `warn_below`, else `ok`."""
    if balance < min_credits:
        return Verdict.LOW
    if warn_below is not None and balance < warn_below:
        return Verdict.WARN
    return Verdict.OK
