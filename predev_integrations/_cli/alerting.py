"""The low-credit alert in the CLI: `--alert-below`, `--alert-runway`, `--alert-rearm-above`.

The edge is `_core/watch.low_edges`, the rule the Airflow trigger uses; its state (the two
arming flags) lives in the history file (`history.record`), decided inside the history's
locked read-merge-replace, so concurrent local runs alert at most once between them. Runs
restored from one snapshot (two CI jobs from one Actions cache entry) cannot see each other:
each may alert once. Lost state (no file, an evicted cache, a refused or damaged file, changed
settings) is first sight: a balance already low alerts once and is recorded; it may repeat one
alert, never swallow one.

The state is kept per setting (`key`: every number an edge uses: the level, the re-arm level,
the runway limit and, for the runway rule, the floor it is counted to and a `--runway-risk`
other than the default), so changed thresholds start clean instead of inheriting flags set
for others (at the default risk the key is the one written before the risk could be set).
Only a live reading decides: a cache hit and an unreadable API report the stored state and
fire nothing.
"""

from __future__ import annotations

import math

from .._core.alert import BALANCE_RULE, RUNWAY_RULE, message, runway_text
from .._core.defaults import FORECAST_RISK
from .._core.outcome import AlertReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .._core.forecast import Forecast
    from .._core.verdict import Balance
    from .._core.watch import LowEdges
    from .history import Flags, Readings

#: The text output's one line when an alert is set but no history is kept.
NO_HISTORY_NOTE = (
    "Alerts off: a crossing cannot be known without the history ({why}), so no alert fires; "
    "drop --no-history (or give the cache a directory) to be alerted once per fall."
)


class AlertPlan:
    """The alert settings of one run, and (after `decide`) what this run's reading did."""

    def __init__(self, settings: dict[str, Any], balance: Balance, now: float) -> None:
        from .._core.watch import LowSettings, default_rearm_above

        below, runway = settings["alert_below"], settings["alert_runway"]
        rearm = settings["alert_rearm_above"]
        if below is not None and rearm is None:
            rearm = default_rearm_above(below)
        self.below: float | None = below
        self.rearm_above: float | None = rearm
        self.runway: float | None = runway
        self.floor: float = settings["min_credits"]
        self.risk: float = settings["runway_risk"]
        self.balance, self.now = balance, now
        # The runway rule alone: a balance level nothing is below, so that rule never fires.
        self.low = LowSettings(
            threshold=-math.inf if below is None else below,
            rearm_above=-math.inf if rearm is None else rearm,
            min_runway=runway,
            runway_risk=self.risk,
        )
        floor = None if runway is None else float(self.floor)
        self.key = (
            f"below={_num(below)};rearm={_num(rearm)};runway={_num(runway)};floor={_num(floor)}"
        )
        if runway is not None and self.risk != FORECAST_RISK:
            self.key += f";risk={_num(self.risk)}"
        self.forecast: Forecast | None = None
        self.edges: LowEdges | None = None

    def decide(self, readings: Readings, stored: Flags | None) -> Flags:
        """The edge for this run's reading (`history.record` calls it under the lock)."""
        from .._core.forecast import forecast
        from .._core.watch import low_edges

        self.forecast = forecast(readings, self.floor, now=self.now, risk=self.risk)
        runway = self.forecast if self.runway is not None else None
        armed, runway_armed = (None, None) if stored is None else stored
        self.edges = low_edges(armed, runway_armed, self.balance, runway, self.low)
        return self.edges.armed, self.edges.runway_armed

    def _report(self, **fields: Any) -> AlertReport:
        return AlertReport(
            below=self.below,
            rearm_above=self.rearm_above,
            runway_below_seconds=self.runway,
            **fields,
        )

    def _active(self, flags: Flags | None) -> bool:
        if flags is None:
            return False
        armed, runway_armed = flags
        return not armed or (self.runway is not None and not runway_armed)

    def off(self, why: str) -> AlertReport:
        """No history here: nothing can fire."""
        return self._report(stateful=False, note=NO_HISTORY_NOTE.format(why=why))

    def idle(self, flags: Flags | None) -> AlertReport:
        """A run that read no new balance (a cache hit, an unreadable API): the stored state."""
        return self._report(stateful=True, active=self._active(flags))

    def report(self, result: Forecast | None, topup_url: str) -> AlertReport:
        """What this run's decision (`decide`) says, its message built from `result`."""
        edges = self.edges
        if edges is None:  # the history could not be read or written at all
            return self.off("no usable cache directory")
        flags = (edges.armed, edges.runway_armed)
        report = self._report(stateful=True, active=self._active(flags))
        if edges.fired is not None:
            from .._core.watch import LowRule

            report.fired = True
            report.rule = RUNWAY_RULE if edges.fired is LowRule.RUNWAY else BALANCE_RULE
        elif edges.recovered:
            report.recovered = True
        if report.fired or report.recovered:  # the words the Action's alert-message has too
            report.message = message(
                fired=report.fired,
                rule=report.rule,
                balance=self.balance,
                below=report.below,
                rearm_above=report.rearm_above,
                runway_below_seconds=report.runway_below_seconds,
                runway=runway_text(result, self.now),
                link=topup_url,
            )
        return report


def _num(value: float | None) -> str:
    return "none" if value is None else repr(float(value))
