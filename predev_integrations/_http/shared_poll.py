"""One balance request for many waiters: single-flight plus a short reuse window.

Hundreds of waiters (Airflow triggers, asyncio tasks) polling the same key in one event loop
would each cost a request per interval. Here, waiters on the same (base URL, key) share the
request in flight, and reuse its outcome (a balance or an error) while it is younger than the
`max_age` each waiter accepts. Waiters polling every P seconds that pass `max_age=P` see
answers at most P old, and a new request starts only once the last answer is older than P:
at most 1 request per P for all of them, however many there are and whenever they wake.

A waiter that already saw a reading elsewhere (a sensor's poke before it deferred) passes
`not_before`, a time on the loop's clock after that reading: it is served only by a request
started at or after it, never by an older answer that is still within `max_age`, so it never
decides on a balance older than the one that made it wait.

The registry is per running event loop (a loop's tasks and clients cannot be shared with
another loop) and held weakly, so a closed loop takes its registry with it. Entries are
pruned once their outcome is too old for anyone, and a flight nobody waits for any more is
cancelled. Entries are keyed by an HMAC of the key under a per-process random salt: the key
itself is held only by the flight's client while the request runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from .._core.retry import RetryPolicy
from .._core.secret import Secret
from .._core.urls import DEFAULT_BASE_URL, normalize_base_url
from .._core.verdict import Balance
from ..errors import ApiError
from .client import AsyncCreditsClient

_SALT = os.urandom(32)

#: Builds the client for one flight; pass one to `SharedPoll(...)` to use another transport.
ClientFactory = Callable[[Secret, str, RetryPolicy | None, str], AsyncCreditsClient]


def _default_factory(
    key: Secret, base_url: str, policy: RetryPolicy | None, integration: str
) -> AsyncCreditsClient:
    return AsyncCreditsClient(key, base_url=base_url, policy=policy, integration=integration)


def fingerprint(key: Secret | str) -> str:
    """A per-process, salted digest of the key: equal keys match, the key cannot be recovered."""
    secret = key if isinstance(key, Secret) else Secret(key)
    return secret.digest(salt=_SALT)[:32]


@dataclass
class _Entry:
    """The latest flight for one (base URL, key) and its outcome."""

    task: asyncio.Task[Balance] | None = None
    waiters: int = 0
    done_at: float | None = None
    balance: Balance | None = None
    error: ApiError | None = None
    started: float = float("-inf")  # when the latest flight began, on the loop's clock
    keep: float = 0.0  # the longest max_age anyone asked for; decides when to prune


class SharedPoll:
    """The registry for one event loop. Use `shared_balance()` or `SharedPoll.current()`."""

    def __init__(self, factory: ClientFactory | None = None) -> None:
        # No reference to the loop: `_REGISTRIES` holds loops weakly, and must not be defeated.
        self._factory = factory or _default_factory
        self._entries: dict[tuple[str, str], _Entry] = {}
        #: Requests actually started, for tests and benches.
        self.flights = 0

    @classmethod
    def current(cls) -> SharedPoll:
        """The registry of the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        poll = _REGISTRIES.get(loop)
        if poll is None:
            poll = _REGISTRIES[loop] = cls()
        return poll

    def __len__(self) -> int:
        """How many (base URL, key) entries are held; 0 once everyone has gone."""
        return len(self._entries)

    async def get_balance(
        self,
        api_key: Secret | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        max_age: float = 0.0,
        policy: RetryPolicy | None = None,
        integration: str = "library",
        not_before: float | None = None,
    ) -> Balance:
        """The balance, from the flight in progress, a recent enough outcome, or a new request.

        With `not_before` (the loop's clock), only a request started at or after it counts.
        Raises the same `ApiError` every waiter of that flight gets (`ConfigError` at once).
        """
        key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        url = normalize_base_url(base_url)
        entry_key = (url, fingerprint(key))
        entry = self._entries.get(entry_key)
        if entry is None:
            entry = self._entries[entry_key] = _Entry()
        entry.keep = max(entry.keep, max_age)
        loop = asyncio.get_running_loop()
        floor = float("-inf") if not_before is None else not_before
        while True:
            if entry.task is None:
                fresh = entry.done_at is not None and loop.time() - entry.done_at <= max_age
                if fresh and entry.started >= floor:
                    return self._outcome(entry)
                entry.started = loop.time()
                entry.task = loop.create_task(self._fly(entry, key, url, policy, integration))
                self.flights += 1
            task = entry.task
            newer = entry.started >= floor
            entry.waiters += 1
            try:
                if newer:
                    return await asyncio.shield(task)
                # Began before what this waiter has seen: let it land, then fly again.
                with contextlib.suppress(ApiError):
                    await asyncio.shield(task)
            except ApiError as error:
                raise error.with_traceback(None) from None
            finally:
                entry.waiters -= 1
                if entry.waiters == 0:
                    if task.done():
                        loop.call_later(entry.keep, self._prune)
                    else:
                        task.cancel()  # nobody wants this answer any more

    async def _fly(
        self,
        entry: _Entry,
        key: Secret,
        url: str,
        policy: RetryPolicy | None,
        integration: str,
    ) -> Balance:
        loop = asyncio.get_running_loop()
        entry.balance = entry.error = entry.done_at = None
        try:
            async with self._factory(key, url, policy, integration) as client:
                balance = await client.get_balance()
        except ApiError as error:
            entry.error, entry.done_at = error, loop.time()
            raise
        else:
            entry.balance, entry.done_at = balance, loop.time()
            return balance
        finally:  # also on cancellation: then there is no outcome to reuse (done_at None)
            entry.task = None
            # Handles are not stored: they refer to the loop, which must stay collectable.
            loop.call_later(entry.keep, self._prune)

    @staticmethod
    def _outcome(entry: _Entry) -> Balance:
        if entry.error is not None:
            raise entry.error.with_traceback(None)
        assert entry.balance is not None
        return entry.balance

    def _prune(self) -> None:
        """Drop entries nobody waits on whose outcome is older than anyone accepts."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        later: list[float] = []
        for entry_key, entry in list(self._entries.items()):
            if entry.task is not None or entry.waiters:
                continue  # its flight or last waiter schedules a prune when done
            left = 0.0 if entry.done_at is None else entry.done_at + entry.keep - now
            if left <= 0:
                del self._entries[entry_key]
            else:  # timers may fire a little early
                later.append(left)
        if later:
            loop.call_later(min(later), self._prune)


_REGISTRIES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedPoll] = (
    weakref.WeakKeyDictionary()
)


async def shared_balance(
    api_key: Secret | str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    max_age: float = 0.0,
    policy: RetryPolicy | None = None,
    integration: str = "library",
    not_before: float | None = None,
) -> Balance:
    """`SharedPoll.get_balance` on the running loop's registry."""
    return await SharedPoll.current().get_balance(
        api_key,
        base_url=base_url,
        max_age=max_age,
        policy=policy,
        integration=integration,
        not_before=not_before,
    )
