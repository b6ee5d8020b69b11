"""The shared poll: many waiters on one (base URL, key) in one loop cost one request."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from predev_integrations._core.retry import RetryPolicy
from predev_integrations._core.secret import Secret
from predev_integrations._http.client import AsyncCreditsClient
from predev_integrations._http.shared_poll import SharedPoll, fingerprint, shared_balance
from predev_integrations.errors import ConfigError, UnauthorizedError
from predev_integrations.sandbox import Sandbox

NO_RETRY = RetryPolicy(retries=0, timeout=5)
URL = "https://api.pre.dev"


class Held(httpx.AsyncBaseTransport):
    """An API whose answers wait for `release`: a request stays on the wire for exactly as
    long as the test needs, however slow the machine. Each answer is the balance when its
    request arrived."""

    def __init__(self) -> None:
        self.balance = 450
        self.requests = 0
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        balance = self.balance
        await self.release.wait()
        return httpx.Response(200, json={"success": True, "creditsRemaining": balance})

    def poll(self) -> SharedPoll:
        """A registry whose flights go to this API."""

        def client(key: Secret, url: str, policy: RetryPolicy | None, name: str) -> Any:
            return AsyncCreditsClient(
                key, base_url=url, policy=policy, integration=name, transport=self
            )

        return SharedPoll(client)


async def until(condition: Callable[[], bool]) -> None:
    await eventually(condition, within=60.0)


async def gather_balances(n: int, key: str, url: str, max_age: float = 0.0) -> list[object]:
    return await asyncio.gather(
        *(shared_balance(key, base_url=url, max_age=max_age, policy=NO_RETRY) for _ in range(n)),
        return_exceptions=True,
    )


@pytest.mark.parametrize("waiters", [1, 10, 200])
async def test_concurrent_waiters_share_one_request(
    sandbox: Sandbox, api_key: str, waiters: int
) -> None:
    sandbox.configure(latency=0.2)
    results = await gather_balances(waiters, api_key, sandbox.url)
    assert results == [450] * waiters
    assert sandbox.requests == 1


async def test_an_answer_is_reused_within_max_age_and_refetched_after(
    sandbox: Sandbox, api_key: str
) -> None:
    for _ in range(3):
        assert await shared_balance(api_key, base_url=sandbox.url, max_age=5) == 450
    assert sandbox.requests == 1
    sandbox.configure(balance=12)
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=60) == 450
    await asyncio.sleep(0.3)  # a floor: on a busy machine the answer is only older
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=0.2) == 12
    assert sandbox.requests == 2


async def test_different_keys_and_urls_do_not_share(sandbox: Sandbox, api_key: str) -> None:
    with Sandbox(key=api_key, balance=7) as other:
        results = await asyncio.gather(
            shared_balance(api_key, base_url=sandbox.url),
            shared_balance(api_key, base_url=other.url),
            shared_balance("another-key", base_url=sandbox.url, policy=NO_RETRY),
            return_exceptions=True,
        )
        assert list(results[:2]) == [450, 7]
        assert isinstance(results[2], UnauthorizedError)
        assert (sandbox.requests, other.requests) == (2, 1)


async def test_an_error_reaches_every_waiter_and_is_reused(sandbox: Sandbox, api_key: str) -> None:
    sandbox.configure(latency=0.2)
    results = await gather_balances(50, "wrong-key", sandbox.url, max_age=5)
    assert all(isinstance(r, UnauthorizedError) for r in results)
    with pytest.raises(UnauthorizedError):
        await shared_balance("wrong-key", base_url=sandbox.url, max_age=5, policy=NO_RETRY)
    assert sandbox.requests == 1


async def test_a_cancelled_waiter_does_not_cancel_the_others(api_key: str) -> None:
    api = Held()
    poll = api.poll()
    first = asyncio.ensure_future(poll.get_balance(api_key, base_url=URL))
    second = asyncio.ensure_future(poll.get_balance(api_key, base_url=URL))
    await until(lambda: api.requests == 1)  # on the wire
    first.cancel()
    await asyncio.sleep(0)
    api.release.set()
    assert await second == 450
    assert first.cancelled()
    assert api.requests == 1


async def test_the_flight_stops_and_entries_go_when_every_waiter_leaves(api_key: str) -> None:
    api = Held()
    poll = api.poll()
    waiter = asyncio.ensure_future(poll.get_balance(api_key, base_url=URL, max_age=0.1))
    await until(lambda: api.requests == 1)
    assert len(poll) == 1
    waiter.cancel()
    await eventually(lambda: len(poll) == 0)
    # Nothing half-finished is reused: the next call asks again.
    api.release.set()
    assert await poll.get_balance(api_key, base_url=URL) == 450
    assert (poll.flights, api.requests) == (2, 2)
    await eventually(lambda: len(poll) == 0)


async def eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait for pruning timers without betting on how punctual a loaded machine is."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + within
    while not condition():
        assert loop.time() < ends, "condition never became true"
        await asyncio.sleep(0.02)


def test_each_event_loop_has_its_own_registry_which_goes_with_it(
    sandbox: Sandbox, api_key: str
) -> None:
    async def registry() -> weakref.ref[SharedPoll]:
        await shared_balance(api_key, base_url=sandbox.url, max_age=60)
        return weakref.ref(SharedPoll.current())

    first = asyncio.run(registry())
    second = asyncio.run(registry())
    gc.collect()
    assert first() is None
    assert second() is None
    assert sandbox.requests == 2  # a 60 s answer is not carried into another loop


async def test_the_key_is_not_kept_in_clear(sandbox: Sandbox, api_key: str) -> None:
    poll = SharedPoll.current()
    await poll.get_balance(api_key, base_url=sandbox.url, max_age=60)
    state = repr(vars(poll)) + repr(list(poll._entries))
    assert api_key not in state
    assert fingerprint(api_key) in state
    assert fingerprint(api_key) != fingerprint(api_key + "x")


async def test_bad_input_fails_before_any_request(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigError):
        await shared_balance("k", base_url="http://example.com")
    with pytest.raises(ConfigError):
        await shared_balance(" ", base_url=sandbox.url)
    assert sandbox.requests == 0


async def test_a_waiter_that_saw_a_reading_is_never_served_an_older_answer(
    sandbox: Sandbox, api_key: str
) -> None:
    """A sensor's poke read 20 after the poll cached 500: its trigger must not take the 500."""
    loop = asyncio.get_running_loop()
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=60) == 450
    sandbox.configure(balance=20)
    seen = loop.time()  # the poke's reading, elsewhere
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=60, not_before=seen) == 20
    # Newer answers are still shared, with and without a floor of their own.
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=60, not_before=seen) == 20
    assert await shared_balance(api_key, base_url=sandbox.url, max_age=60) == 20
    assert sandbox.requests == 2


async def test_a_flight_started_before_the_reading_is_not_joined(api_key: str) -> None:
    api = Held()
    poll = api.poll()
    loop = asyncio.get_running_loop()
    early = asyncio.ensure_future(poll.get_balance(api_key, base_url=URL, max_age=60))
    await until(lambda: api.requests == 1)  # its request is on the wire
    api.balance = 20
    seen = loop.time()
    late = [
        asyncio.ensure_future(poll.get_balance(api_key, base_url=URL, max_age=60, not_before=seen))
        for _ in range(10)
    ]
    await asyncio.sleep(0)
    api.release.set()
    assert await asyncio.gather(*late) == [20] * 10  # one flight after the first, shared
    assert await early == 450
    assert api.requests == 2
