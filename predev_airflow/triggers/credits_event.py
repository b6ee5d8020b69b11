"""`PreDevCreditsEventTrigger`: an asset watcher's trigger that fires when credits are back.

For event-driven scheduling (`Asset(..., watchers=[AssetWatcher(name, trigger)])`): it polls
the balance for as long as the DAG is deployed and yields one event per edge (see
`predev_integrations._core.topup`): the balance rising from below `min_credits` to at or above it,
and, with `min_increase`, a top-up of at least that much while at or above the floor.

Restarts: on Airflow 3.3+ the last observation is kept in the watched asset's state store, so
a restarted triggerer compares with it; before 3.3 the first reading after a start is the
baseline. Polling: readings go through `predev_integrations._http.shared_poll`, so every trigger on
one key in a triggerer (these and deferred sensors alike) shares one request per interval;
on 3.3+ watchers with the same connection and interval also share one poll loop through
Airflow's shared stream. Errors never end the watch: a rejected key or a broken connection is
logged once, retried with a growing delay and picked up again once fixed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Hashable
from typing import Any, Protocol

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from predev_integrations._core.ranges import INCREASE, WATCH
from predev_integrations._core.topup import Observation, error_delay, observe
from predev_integrations._core.verdict import Balance
from predev_integrations.errors import ApiError

from .._check import FATAL_ERRORS, checked, describe
from .._compat import emit_gauge
from ..hooks.predev import PreDevHook, PreDevSettings

#: One logger for the poll loop, which on Airflow 3.3+ runs once per group, not per trigger.
log = logging.getLogger(__name__)

#: Where the last observation lives in the asset state store (one per connection).
STATE_KEY_PREFIX = "predev.credits_observation:"


class _StateStore(Protocol):
    """The part of Airflow 3.3's `AssetStateStoreAccessors` used here."""

    async def aget(self, key: str, default: Any = None) -> Any: ...
    async def aset(self, key: str, value: Any) -> None: ...


class PreDevCreditsEventTrigger(BaseEventTrigger):
    """Yields `{"balance", "previous", "floor", "fired_by", "predev_conn_id"}` once per top-up.

    :param predev_conn_id: a connection of type `predev`.
    :param min_credits: the floor; rising from below it to at or above it is an event.
    :param poke_interval: seconds between readings.
    :param min_increase: also fire when the balance, at or above the floor, rises by at least
        this much between two readings (None: only floor crossings fire).

    Each number is checked here, by the core's one rule: a bad one fails the DAG's parse.
    """

    def __init__(
        self,
        *,
        min_credits: float,
        predev_conn_id: str = PreDevHook.default_conn_name,
        poke_interval: float = 60.0,
        min_increase: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.predev_conn_id = predev_conn_id
        self.min_credits = checked(min_credits, "min_credits")
        self.poke_interval = float(checked(poke_interval, "poke_interval", WATCH))
        self.min_increase = (
            None if min_increase is None else checked(min_increase, "min_increase", INCREASE)
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The connection id and the settings: the key is read again from the connection."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "predev_conn_id": self.predev_conn_id,
                "min_credits": self.min_credits,
                "poke_interval": self.poke_interval,
                "min_increase": self.min_increase,
            },
        )

    # Airflow 3.3+ calls these three instead of `run()`; older lines only call `run()`, which
    # composes the same two halves, so both paths run the same code.

    def shared_stream_key(self) -> Hashable | None:
        """Watchers reading one connection at one interval share one poll loop."""
        return ("predev-credits-balance", self.predev_conn_id, self.poke_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """Balances, one per successful reading; never ends, never raises."""
        async for balance in readings(kwargs["predev_conn_id"], float(kwargs["poke_interval"])):
            yield balance

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        """This trigger's edges in the shared balances."""
        memory = _Memory(self, self.predev_conn_id)
        previous = await memory.load()
        async for balance in shared_stream:
            edge, observation = observe(previous, balance, self.min_credits, self.min_increase)
            if observation != previous:
                # Stored before the event is handed over: a crash in between loses this one
                # event rather than starting a second run after the restart.
                await memory.save(observation)
                previous = observation
            if edge is not None:
                log.info(
                    "pre.dev credits are back on %r: %g (was %g, floor %g, fired by %s).",
                    self.predev_conn_id,
                    edge.balance,
                    edge.previous,
                    edge.floor,
                    edge.fired_by,
                )
                yield TriggerEvent({**edge.payload(), "predev_conn_id": self.predev_conn_id})  # type: ignore[no-untyped-call]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in self.filter_shared_stream(
            type(self).open_shared_stream(self.serialize()[1])
        ):
            yield event


async def readings(conn_id: str, interval: float) -> AsyncIterator[Balance]:
    """Every successful reading of the connection's balance, one per `interval` at most.

    Logs one line per change of state (failing with a new reason, or healthy again), not one
    per attempt. A rejected key or a broken connection is retried with a doubling delay and
    the connection is read again each time, so fixing it is enough; transient errors (which
    the core client already retried) are tried again at the next interval.
    """
    started = asyncio.get_running_loop().time()  # no answer older than this loop's readers
    hook = PreDevHook(conn_id)
    settings: PreDevSettings | None = None
    trouble: str | None = None
    failures = 0
    while True:
        delay = interval
        try:
            if settings is None:
                settings = await hook.aget_settings()
            balance = await hook.aget_credits_balance(
                max_age=interval, settings=settings, not_before=started
            )
        except FATAL_ERRORS as error:
            settings, failures = None, failures + 1
            delay = error_delay(interval, failures)
            trouble = _trouble(conn_id, trouble, describe(error), "backing off")
        except ApiError as error:
            failures = 0
            trouble = _trouble(conn_id, trouble, describe(error), "retrying every interval")
        except Exception as error:  # noqa: BLE001 - e.g. the triggerer's API server restarts
            failures = 0
            name = type(error).__name__  # not its text: it is not ours to vouch for
            trouble = _trouble(conn_id, trouble, f"unexpected {name}", "retrying every interval")
        else:
            failures = 0
            if trouble is not None:
                log.info("pre.dev balance on %r readable again: %g.", conn_id, balance)
                trouble = None
            emit_gauge(balance, conn_id)
            yield balance
        await asyncio.sleep(delay)


def _trouble(conn_id: str, current: str | None, reason: str, plan: str) -> str:
    """Log a reading failure once per reason; return the new reason."""
    if reason != current:
        log.warning(
            "Could not read the pre.dev balance on %r (%s); %s, the watch goes on.",
            conn_id,
            reason,
            plan,
        )
    return reason


class _Memory:
    """The last observation, kept in the watched asset's state store where there is one
    (Airflow 3.3+, set on the trigger by the triggerer); a failing store is logged once."""

    def __init__(self, trigger: BaseEventTrigger, conn_id: str) -> None:
        self.store: _StateStore | None = getattr(trigger, "asset_state_store", None)
        self.key = STATE_KEY_PREFIX + conn_id
        self.failing = False

    async def load(self) -> Observation | None:
        if self.store is None:
            log.info("No asset state store on this Airflow: the first reading is the baseline.")
            return None
        try:
            return Observation.from_json(await self.store.aget(self.key))
        except Exception as error:  # noqa: BLE001 - several assets on one trigger, or no API
            self._failed("read", error)
            return None

    async def save(self, observation: Observation) -> None:
        if self.store is None:
            return
        try:
            await self.store.aset(self.key, observation.to_json())
        except Exception as error:  # noqa: BLE001 - a lost write only costs the restart edge
            self._failed("store", error)
        else:
            self.failing = False

    def _failed(self, what: str, error: Exception) -> None:
        if not self.failing:
            log.warning(
                "Could not %s the last observation in the asset state store (%s); a restart "
                "takes the first reading after it as the baseline.",
                what,
                type(error).__name__,
            )
        self.failing = True
