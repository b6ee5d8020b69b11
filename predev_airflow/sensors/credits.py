"""`PreDevCreditsSensor`: wait until the pre.dev balance reaches a floor, then let the DAG on.

Poke/reschedule mode checks from a worker every `poke_interval`; deferrable mode checks once,
then hands the wait to `PreDevCreditsTrigger` in the triggerer, where all waits on one
connection share one request per interval. A rejected key fails at once, without retries;
a transient error is logged and the wait goes on until `timeout`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue

from predev_integrations._core.need import Need
from predev_integrations._core.verdict import Balance, Verdict
from predev_integrations.errors import ApiError

from .._check import (
    below,
    check_literals,
    check_need,
    describe,
    fatal,
    judge,
    log_enough,
    read_balance,
    rendered_floors,
    rendered_need,
)
from .._compat import conf
from ..hooks.predev import PreDevHook
from ..triggers.credits import PreDevCreditsTrigger


class PreDevCreditsSensor(BaseSensorOperator):
    """Done when the balance is at or above `min_credits` plus `need`; returns the balance.

    :param min_credits: the floor (templated).
    :param need: what the work after the gate will spend (templated): credits (`600`), specs
        by kind (`"12 deep, 3 fast"`), or a mapping of kind to a count or to the list of specs
        itself (`{"deep": plan}` with `plan` an XComArg: its length counts). None or 0: none.
    :param spec_cost: your own credits per spec (`{"deep": 40}`); default Deep 50, Fast 10.
    :param predev_conn_id: a connection of type `predev`.
    :param warn_below: log a warning when the balance is at/above the floor but below this.
    :param deferrable: wait in the triggerer (default: `[operators] default_deferrable`).
    """

    template_fields: Sequence[str] = (
        "predev_conn_id",
        "min_credits",
        "warn_below",
        "need",
        "spec_cost",
    )
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        min_credits: float | str,
        predev_conn_id: str = PreDevHook.default_conn_name,
        warn_below: float | str | None = None,
        need: Any = None,
        spec_cost: Any = None,
        deferrable: bool | None = None,
        mode: str = "reschedule",
        poke_interval: timedelta | float = 300,
        **kwargs: Any,
    ) -> None:
        super().__init__(mode=mode, poke_interval=poke_interval, **kwargs)
        self.min_credits = min_credits
        self.predev_conn_id = predev_conn_id
        self.warn_below = warn_below
        self.need = need
        self.spec_cost = spec_cost
        check_literals(min_credits=min_credits, warn_below=warn_below)
        check_need(need, spec_cost)
        if deferrable is None:
            deferrable = conf.getboolean("operators", "default_deferrable", fallback=False)
        self.deferrable = deferrable

    def _floors(self) -> tuple[float, float | None]:
        return rendered_floors(self.min_credits, self.warn_below)

    def _need(self) -> Need | None:
        return rendered_need(self.need, self.spec_cost)

    def execute(self, context: Context) -> Any:  # noqa: RET503 - defer() never returns
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)  # often enough already: no trigger needed
        if result.is_done:
            return result.xcom_value
        floor, warn = self._floors()
        need = self._need()
        self.defer(
            trigger=PreDevCreditsTrigger(
                predev_conn_id=self.predev_conn_id,
                min_credits=floor,
                poke_interval=self.poke_interval,
                warn_below=warn,
                need=None if need is None else need.text(),
                spec_cost=None if need is None else need.costs,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        floor, warn = self._floors()
        need = self._need()
        try:
            balance, settings = read_balance(PreDevHook(self.predev_conn_id))
        except ApiError as error:
            self.log.warning(
                "Could not read the pre.dev balance (%s); will retry.", describe(error)
            )
            return PokeReturnValue(is_done=False)
        verdict = judge(balance, floor, warn, need)
        if verdict is Verdict.LOW:
            self.log.info(
                "%g pre.dev credits remaining, %s; waiting (top up at %s).",
                balance,
                below(balance, floor, need),
                settings.topup_url,
            )
            return PokeReturnValue(is_done=False)
        log_enough(self.log, balance, floor, verdict, self.warn_below, need=need)
        return PokeReturnValue(is_done=True, xcom_value=balance)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Balance:
        """Resumes from the trigger: the balance on success, a failure without retries else."""
        if event.get("status") != "success":
            raise fatal(str(event.get("message") or "the trigger reported an unknown error"))
        balance: Balance = event["balance"]
        floor, _ = self._floors()
        verdict = Verdict(event.get("verdict", "ok"))
        log_enough(self.log, balance, floor, verdict, self.warn_below, need=self._need())
        return balance
