"""What a check says about the low-credit alert: the one-line message of the run that fired or
recovered (the `alert` object itself is `outcome.AlertReport`). Pure: the caller decides the edge
(`watch.low_edges`) and passes the forecast and the time.

The message is numbers and our own words only (the balance, the runway as `forecast.describe`
says it, the thresholds, the top-up link the user configured and we validated), so it can go
into a chat message, a mail subject or a workflow output without escaping anything a server
said.
"""

from __future__ import annotations

from .outcome import AlertReport, number, setting_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .forecast import Forecast
    from .verdict import Balance

#: The `rule` values: which rule fired.
BALANCE_RULE, RUNWAY_RULE = "balance", "runway"


def _runway(result: Forecast | None, now: float) -> str:
    if result is None:
        return "runway unknown"
    from .forecast import describe

    return describe(result, now)


def fired_message(
    rule: str,
    balance: Balance,
    *,
    report: AlertReport,
    result: Forecast | None,
    now: float,
    topup_url: str,
) -> str:
    """`pre.dev credits low: 180 remaining, below the alert level 200; burning ~240/day, floor
    in ~17 hours (Thu 3 Dec 14:00 UTC). Top up at https://...`, or for the runway rule
    `pre.dev credits running out: 450 remaining; burning ..., within the alert runway 5h. ...`"""
    runway = _runway(result, now)
    if rule == RUNWAY_RULE and report.runway_below_seconds is not None:
        limit = setting_text(report.runway_below_seconds)
        head = f"pre.dev credits running out: {number(balance)} remaining; {runway}"
        return f"{head}, within the alert runway {limit}. Top up at {topup_url}."
    level = "" if report.below is None else f", below the alert level {number(report.below)}"
    return (
        f"pre.dev credits low: {number(balance)} remaining{level}; {runway}. Top up at {topup_url}."
    )


def recovered_message(
    balance: Balance, report: AlertReport, result: Forecast | None, now: float
) -> str:
    """`pre.dev credits recovered: 240 remaining, at or above 220 again; <runway>.`"""
    again = (
        "" if report.rearm_above is None else f", at or above {number(report.rearm_above)} again"
    )
    return f"pre.dev credits recovered: {number(balance)} remaining{again}; {_runway(result, now)}."
