"""`PreDevCreditsEventTrigger`: an asset watcher's trigger that fires when credits are back.

For event-driven scheduling (`Asset(..., watchers=[AssetWatcher(name, trigger)])`): it polls
the balance for as long as the DAG is deployed and yields one event per edge (see
`predev_integrations._core.watch`): the balance rising from below `min_credits` to at or above it,
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

import logging
from collections.abc import AsyncIterator, Hashable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from predev_integrations._core.ranges import INCREASE, WATCH
from predev_integrations._core.watch import Observation, observe

from .._check import checked
from ..hooks.predev import PreDevHook
from ._watch import Memory, readings, stream_key

log = logging.getLogger(__name__)

#: Where the last observation lives in the asset state store (one per connection).
STATE_KEY_PREFIX = "predev.credits_observation:"


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
        return stream_key(self.predev_conn_id, self.poke_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """`(Unix time, balance)`, one per successful reading; never ends, never raises. The
        same loop as `PreDevCreditsLowTrigger`'s: watchers of both kinds share it."""
        async for reading in readings(kwargs["predev_conn_id"], float(kwargs["poke_interval"])):
            yield reading

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        """This trigger's edges in the shared balances."""
        memory = Memory(self, STATE_KEY_PREFIX + self.predev_conn_id, Observation.from_json)
        previous = await memory.load()
        async for _, balance, _ in shared_stream:
            edge, observation = observe(previous, balance, self.min_credits, self.min_increase)
            if observation != previous:
                # Stored before the event is handed over: a crash in between loses this one
                # event rather than starting a second run after the restart.
                await memory.save(observation.to_json())
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
