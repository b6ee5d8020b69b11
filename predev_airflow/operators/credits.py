"""`PreDevCreditsCheckOperator`: one check, no waiting. Below the floor the task fails
without retries (more attempts will not add credits); a transient API failure fails it
normally, so the task's own `retries` apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

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
from .._compat import AirflowException
from ..hooks.predev import PreDevHook


class PreDevCreditsCheckOperator(BaseOperator):
    """Fails below `min_credits` plus `need`; returns the balance as XCom.

    :param min_credits: the floor (templated).
    :param need: what the work after the check will spend (templated): credits, specs by kind
        (`"12 deep, 3 fast"`), or a mapping of kind to a count or a list (its length counts).
    :param spec_cost: your own credits per spec (`{"deep": 40}`); default Deep 50, Fast 10.
    :param warn_below: log a warning when the balance is at/above the floor but below this.
    :param predev_conn_id: a connection of type `predev`.
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
        warn_below: float | str | None = None,
        need: Any = None,
        spec_cost: Any = None,
        predev_conn_id: str = PreDevHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_credits = min_credits
        self.warn_below = warn_below
        self.predev_conn_id = predev_conn_id
        self.need = need
        self.spec_cost = spec_cost
        check_literals(min_credits=min_credits, warn_below=warn_below)
        check_need(need, spec_cost)

    def execute(self, context: Context) -> Balance:
        floor, warn = rendered_floors(self.min_credits, self.warn_below)
        need = rendered_need(self.need, self.spec_cost)
        try:
            balance, settings = read_balance(PreDevHook(self.predev_conn_id))
        except ApiError as error:
            raise AirflowException(
                f"Could not read the pre.dev balance: {describe(error)}"
            ) from None
        verdict = judge(balance, floor, warn, need)
        if verdict is Verdict.LOW:
            raise fatal(
                f"{balance:g} credits remaining, {below(balance, floor, need)}; "
                f"top up at {settings.topup_url} before running spec generation."
            )
        log_enough(self.log, balance, floor, verdict, self.warn_below, need=need)
        return balance
