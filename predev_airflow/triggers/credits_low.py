"""`PreDevCreditsLowTrigger`: an asset watcher's trigger that fires once when credits run low.

The mirror of `PreDevCreditsEventTrigger`, for alerts: schedule a DAG on the watched asset and
send the event through a notifier (see `predev_airflow.alerts` and the example DAG). It yields
one event when the balance falls below `threshold`, and (with `min_runway`) one when the runway
at the current burn rate falls below that many seconds; each rule then stays quiet until the
level was healthy again (the balance back at `rearm_above`; the runway back at 1.5 times
`min_runway`), so a balance hovering at the threshold alerts once. The runway rule is the
gate's: it fires when the floor has at least a `runway_risk` chance (default 1 in 5) of coming
within `min_runway`. The edges and the runway forecast live in
`predev_integrations._core.watch`; this class reads, remembers and yields.

Restarts: on Airflow 3.3+ the arming state and the kept readings (4 weeks of them, thinned:
`watch_history`) live in the watched asset's state store, so a restarted triggerer carries on
as if it had not stopped. The event is handed over first and the state written after it (when
the triggerer asks for the next event, the one before is in its queue): a crash in between
repeats that one alert after the restart, never loses it. Where there is no store (Airflow
3.0-3.2), or it refused the state, a start is first sight: both rules are armed, so a balance
already low alerts once. A triggerer restart while low therefore costs at most one repeated
alert per watcher (and a runway rule needs an hour of readings again before it can fire); a
fall while the triggerer was down is reported at its first reading. Polling and errors are
the event trigger's (`_watch.readings`): one shared request per interval, errors logged once
per change and backed off, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Hashable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from predev_integrations._core.forecast import duration_text
from predev_integrations._core.watch import LowAlert, LowState, low_settings, observe_low
from predev_integrations.errors import ConfigError

from .._check import describe
from .._compat import AirflowException
from ..hooks.predev import PreDevHook
from ._watch import Memory, readings, stream_key

log = logging.getLogger(__name__)

#: Where the state lives in the asset state store: one key per connection and settings.
STATE_KEY_PREFIX = "predev.credits_low:"


class PreDevCreditsLowTrigger(BaseEventTrigger):
    """Yields one event per fall below the threshold (or the runway below `min_runway`).

    The event's payload: `balance`, `threshold`, `rearm_above`, `min_runway`, `fired_by`
    (`threshold` or `runway`; `threshold` when both fire at one reading), the runway
    (`runway_status`, `runway_seconds`, `burn_per_hour`, `runs_out_at`, `runway_reason`), the
    reading's time `read_at`, `predev_conn_id` and `topup_url` (the connection's top-up link,
    else the solo dashboard), and `runway_risk` when one was given. Never the key.

    :param predev_conn_id: a connection of type `predev`.
    :param threshold: alert when the balance falls from at or above this to below it.
    :param poke_interval: seconds between readings.
    :param rearm_above: alert again only after the balance was back at this or more (default:
        10 % above the threshold, at least 1 credit above it; equal to it turns hysteresis off).
    :param min_runway: also alert when the runway (seconds until 0 credits at the current
        rate) falls below this (None: no runway alert).
    :param runway_risk: the chance of 0 credits within `min_runway` at which the runway rule
        fires: `0.1`, or text as the CLI's `--runway-risk` takes it (`"1-in-10"`, `"10%"`);
        from 1-in-100 up to, not including, 1-in-2 (None: the gate's 1-in-5).

    Each number is checked here, by the core's one rule: a bad one fails the DAG's parse.
    """

    def __init__(
        self,
        *,
        threshold: float,
        predev_conn_id: str = PreDevHook.default_conn_name,
        poke_interval: float = 60.0,
        rearm_above: float | None = None,
        min_runway: float | None = None,
        runway_risk: float | str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        try:
            self.low_settings = low_settings(
                threshold, poke_interval, rearm_above, min_runway, runway_risk
            )
        except ConfigError as error:  # fails the DAG's parse with one line naming the setting
            raise AirflowException(describe(error)) from None
        self.predev_conn_id = predev_conn_id
        self.threshold = self.low_settings.threshold
        self.poke_interval = float(poke_interval)
        self.rearm_above = None if rearm_above is None else self.low_settings.rearm_above
        self.min_runway = self.low_settings.min_runway
        self.runway_risk = self.low_settings.runway_risk

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The connection id and the settings as given: the key is read from the connection.

        `runway_risk` (as a chance, 0.1 for "1-in-10") only when given: a watcher without it
        serializes as before, so its trigger and its stored state stay the same."""
        kwargs: dict[str, Any] = {
            "predev_conn_id": self.predev_conn_id,
            "threshold": self.threshold,
            "poke_interval": self.poke_interval,
            "rearm_above": self.rearm_above,
            "min_runway": self.min_runway,
        }
        if self.runway_risk is not None:
            kwargs["runway_risk"] = self.runway_risk
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    def shared_stream_key(self) -> Hashable | None:
        """The same poll loop as the "credits are back" watchers on this connection."""
        return stream_key(self.predev_conn_id, self.poke_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """`(Unix time, balance, top-up link)`, one per successful reading; never ends, never
        raises."""
        async for reading in readings(kwargs["predev_conn_id"], float(kwargs["poke_interval"])):
            yield reading

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        """This trigger's alerts in the shared readings."""
        key = f"{STATE_KEY_PREFIX}{self.predev_conn_id}:{self.low_settings.state_key()}"
        memory = Memory(
            self,
            key,
            LowState.from_json,
            what="the low-credit alert's state",
            fresh="both rules start armed: a balance already low alerts once",
        )
        state = await memory.load()
        async for at, balance, topup_url in shared_stream:
            alert, new_state = observe_low(state, at, balance, self.low_settings)
            if alert is not None:
                self._announce(alert, topup_url)
                # Handed over before the state is written: the triggerer asks for the next
                # event only once this one is queued, so a crash in between repeats this alert
                # after a restart rather than losing it.
                payload = {
                    **alert.payload(),
                    "predev_conn_id": self.predev_conn_id,
                    "topup_url": topup_url,
                }
                yield TriggerEvent(payload)  # type: ignore[no-untyped-call]
            if new_state != state:
                await memory.save(new_state.to_json())
                state = new_state

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in self.filter_shared_stream(
            type(self).open_shared_stream(self.serialize()[1])
        ):
            yield event

    def _announce(self, alert: LowAlert, topup_url: str) -> None:
        seconds = alert.runway.seconds_to_floor
        runway = "unknown" if seconds is None else duration_text(seconds)
        log.warning(
            "pre.dev credits are low on %r: %g (threshold %g, runway %s, fired by %s); "
            "top up at %s.",
            self.predev_conn_id,
            alert.balance,
            alert.settings.threshold,
            runway,
            alert.fired_by,
            topup_url,
        )
