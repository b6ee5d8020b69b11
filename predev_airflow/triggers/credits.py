"""`PreDevCreditsTrigger`: waits in the triggerer until the balance reaches a floor.

Every trigger on the same connection in one triggerer process shares one poll (see
`predev_integrations._http.shared_poll`): N deferred sensors cost about one request per interval,
not N. A rejected key (400/401) or a broken connection ends the wait at once with a `failed`
event, which the sensor turns into a failure without retries; anything else is logged and
retried at the next interval until the sensor's timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from predev_integrations._core.ranges import POKE
from predev_integrations._core.verdict import Verdict
from predev_integrations.errors import ApiError, ConfigError

from .._check import FATAL_ERRORS, below, checked, describe, judge, rendered_need
from .._compat import emit_gauge
from ..hooks.predev import PreDevHook


class PreDevCreditsTrigger(BaseTrigger):
    """Fires `{"status": "success", "balance": n}` once the balance is at or above the floor,
    or `{"status": "failed", "message": ...}` when the key or connection is unusable.

    Numbers only (nothing renders a trigger's arguments), checked here: a trigger is also
    built from its serialized kwargs, by the triggerer. `need` (text such as `12 deep`, or
    credits) and `spec_cost` size the floor as the sensor's do: it fires once the balance
    covers the floor plus the need."""

    def __init__(
        self,
        predev_conn_id: str,
        min_credits: float,
        poke_interval: float,
        warn_below: float | None = None,
        *,
        need: str | float | None = None,
        spec_cost: dict[str, float] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.predev_conn_id = predev_conn_id
        self.min_credits = checked(min_credits, "min_credits")
        self.poke_interval = float(checked(poke_interval, "poke_interval", POKE))
        self.warn_below = None if warn_below is None else checked(warn_below, "warn_below")
        self.need = rendered_need(need, spec_cost, rendered=False)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Connection id, floor and interval: the key is read again from the connection."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "predev_conn_id": self.predev_conn_id,
                "min_credits": self.min_credits,
                "poke_interval": self.poke_interval,
                "warn_below": self.warn_below,
                **self._need_kwargs(),
            },
        )

    def _need_kwargs(self) -> dict[str, Any]:
        """`need` and `spec_cost` only when there is a need: a trigger without one serializes
        as before, so triggers deferred by an older provider still load."""
        if self.need is None:
            return {}
        return {"need": self.need.text(), "spec_cost": self.need.costs}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # The sensor's poke read the balance before it deferred, so before this line: only
        # requests started from now on may decide, never an older answer still in the poll.
        started = asyncio.get_running_loop().time()
        hook = PreDevHook(self.predev_conn_id)
        try:
            settings = await hook.aget_settings()
        except ConfigError as error:
            yield self._failed(error)
            return
        # Reuse an answer up to one interval old: flights on this connection are then at least
        # an interval apart, so at most 1 request per interval however many triggers wait.
        max_age = self.poke_interval
        while True:
            try:
                balance = await hook.aget_credits_balance(
                    max_age=max_age, settings=settings, not_before=started
                )
            except FATAL_ERRORS as error:
                yield self._failed(error)
                return
            except ApiError as error:
                self.log.warning(
                    "Could not read the pre.dev balance (%s); retrying in %g s.",
                    describe(error),
                    self.poke_interval,
                )
            else:
                emit_gauge(balance, self.predev_conn_id)
                verdict = judge(balance, self.min_credits, self.warn_below, self.need)
                if verdict is not Verdict.LOW:
                    yield _event(status="success", balance=balance, verdict=verdict.value)
                    return
                self.log.info(
                    "%g pre.dev credits remaining, %s; checking again in %g s (top up at %s).",
                    balance,
                    below(balance, self.min_credits, self.need),
                    self.poke_interval,
                    settings.topup_url,
                )
            await asyncio.sleep(self.poke_interval)

    def _failed(self, error: Exception) -> TriggerEvent:
        return _event(status="failed", message=describe(error))


def _event(**payload: Any) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]
