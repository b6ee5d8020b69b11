"""What both asset watchers share: the poll loop, its metrics, and the state they keep.

`readings()` is the one poll loop per connection and interval: every successful reading as
`(Unix time, balance, the connection's top-up link)`, errors logged once per change and backed
off, never raised, and the metrics (`predev.credits.remaining`, `.burn_per_hour`,
`.runway_hours`) sent once per reading. On Airflow 3.3+ it is the shared stream of every
watcher (either kind) with the same connection and interval; before, each watcher's `run()`
runs its own. Readings go through
`predev_integrations._http.shared_poll`, so all triggers on one key in a triggerer share one
request per interval either way.

`Memory` keeps a watcher's state in the watched asset's state store (Airflow 3.3+, set on the
trigger by the triggerer), as JSON under one key per watcher; `fresh` says what a start
without it does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, Protocol, TypeVar

from airflow.triggers.base import BaseEventTrigger

from predev_integrations._core import watch_history as hist
from predev_integrations._core.watch import error_delay
from predev_integrations.errors import ApiError

from .._check import FATAL_ERRORS, describe
from .._compat import emit_gauge, emit_runway
from ..hooks.predev import PreDevHook, PreDevSettings

#: One logger for the poll loop, which on Airflow 3.3+ runs once per group, not per trigger.
log = logging.getLogger(__name__)

#: What the loop yields: when the balance was read (Unix time), the balance, and the
#: connection's top-up link (its `topup_url` extra, else the solo dashboard).
Reading = tuple[float, float, str]
T = TypeVar("T")


def stream_key(conn_id: str, interval: float) -> tuple[str, str, float]:
    """Watchers (either kind) reading one connection at one interval share one poll loop."""
    return ("predev-credits-balance", conn_id, interval)


async def readings(
    conn_id: str, interval: float, clock: Callable[[], float] = time.time
) -> AsyncIterator[Reading]:
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
    kept: hist.History = ()
    spacing = hist.spacing_for(interval)
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
            at = clock()
            emit_gauge(balance, conn_id)
            emit_runway(balance, hist.runway(kept, at, balance), conn_id)
            kept = hist.add(kept, at, balance, spacing)
            yield at, balance, settings.topup_url
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


class StateStore(Protocol):
    """The part of Airflow 3.3's `AssetStateStoreAccessors` used here."""

    async def aget(self, key: str, default: Any = None) -> Any: ...
    async def aset(self, key: str, value: Any) -> None: ...


class Memory(Generic[T]):
    """A watcher's state in the watched asset's state store where there is one; `decode` turns
    the stored JSON back into a state (None for anything it did not write). A failing store is
    logged once; the watch goes on without it."""

    def __init__(
        self,
        trigger: BaseEventTrigger,
        key: str,
        decode: Callable[[object], T | None],
        what: str = "the last observation",
        fresh: str = "the first reading is the baseline",
    ) -> None:
        self.store: StateStore | None = getattr(trigger, "asset_state_store", None)
        self.key = key
        self.decode = decode
        self.what = what
        self.fresh = fresh
        self.failing = False

    async def load(self) -> T | None:
        if self.store is None:
            log.info("No asset state store on this Airflow: %s.", self.fresh)
            return None
        try:
            return self.decode(await self.store.aget(self.key))
        except Exception as error:  # noqa: BLE001 - several assets on one trigger, or no API
            self._failed("read", error)
            return None

    async def save(self, value: dict[str, Any]) -> None:
        if self.store is None:
            return
        try:
            await self.store.aset(self.key, value)
        except Exception as error:  # noqa: BLE001 - a lost write only costs the restart edge
            self._failed("store", error)
        else:
            self.failing = False

    def _failed(self, action: str, error: Exception) -> None:
        if not self.failing:
            log.warning(
                "Could not %s %s in the asset state store (%s); after a restart %s.",
                action,
                self.what,
                type(error).__name__,
                self.fresh,
            )
        self.failing = True
