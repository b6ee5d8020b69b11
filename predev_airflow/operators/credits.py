"""`PreDevCreditsCheckOperator`: one check, no waiting. Below the floor the task fails
without retries (more attempts will not add credits); a transient API failure fails it
normally, so the task's own `retries` apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context

from predev_integrations._core.verdict import Balance, Verdict, evaluate
from predev_integrations.errors import ApiError

from .._check import check_literals, describe, fatal, log_enough, read_balance, rendered_floors
from .._compat import AirflowException
from ..hooks.predev import PreDevHook


class PreDevCreditsCheckOperator(BaseOperator):
    """Fails below `min_credits`; returns the balance as XCom.

    :param min_credits: the floor (templated).
    :param warn_below: log a warning when the balance is at/above the floor but below this.
    :param predev_conn_id: a connection of type `predev`.
    """

    template_fields: Sequence[str] = ("predev_conn_id", "min_credits", "warn_below")
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        min_credits: float | str,
        warn_below: float | str | None = None,
        predev_conn_id: str = PreDevHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_credits = min_credits
        self.warn_below = warn_below
        self.predev_conn_id = predev_conn_id
        check_literals(min_credits=min_credits, warn_below=warn_below)

    def execute(self, context: Context) -> Balance:
        floor, warn = rendered_floors(self.min_credits, self.warn_below)
        try:
            balance, settings = read_balance(PreDevHook(self.predev_conn_id))
        except ApiError as error:
            raise AirflowException(
                f"Could not read the pre.dev balance: {describe(error)}"
            ) from None
        verdict = evaluate(balance, floor, warn)
        if verdict is Verdict.LOW:
            raise fatal(
                f"{balance:g} credits remaining, below the floor of {floor:g}; "
                f"top up at {settings.topup_url} before running spec generation."
            )
        log_enough(self.log, balance, floor, verdict, self.warn_below)
        return balance
