"""Both clients, sync and async, against pytest-httpx: same behaviour, mirrored."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock, IteratorStream

from predev_integrations import errors
from predev_integrations._core.protocol import MAX_BODY_BYTES
from predev_integrations._core.retry import RetryPolicy
from predev_integrations._core.secret import Secret
from predev_integrations._http.client import AsyncCreditsClient, CreditsClient

KEY = "pdk_unit_0123456789abcdef"
BASE = "https://api.pre.dev"
URL = f"{BASE}/credits-balance"
OK_BODY = {"success": True, "creditsRemaining": 450}

Fetch = Callable[..., Any]


@pytest.fixture
def sleeps() -> list[float]:
    """The clients' waits, recorded by the `sleep` that `fetch` injects instead of sleeping."""
    return []


@pytest.fixture(params=["sync", "async"])
def fetch(request: pytest.FixtureRequest, sleeps: list[float]) -> Fetch:
    """`fetch(**client_kwargs)` reads the balance with the sync or the async client."""

    async def async_sleep(delay: float) -> None:
        sleeps.append(delay)

    def run(**kwargs: Any) -> Any:
        kwargs.setdefault("base_url", BASE)
        kwargs.setdefault("rand", lambda: 0.5)
        if request.param == "sync":
            with CreditsClient(kwargs.pop("key", KEY), sleep=sleeps.append, **kwargs) as client:
                return client.get_balance()

        async def go() -> Any:
            key = kwargs.pop("key", KEY)
            async with AsyncCreditsClient(key, sleep=async_sleep, **kwargs) as client:
                return await client.get_balance()

        return asyncio.run(go())

    return run


def test_reads_the_balance_with_the_documented_headers(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, json=OK_BODY)
    assert fetch(integration="airflow") == 450
    (sent,) = httpx_mock.get_requests()
    assert sent.method == "GET"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].endswith("(airflow)")


def test_recovers_from_two_server_errors(
    fetch: Fetch, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=URL, status_code=500, json={"error": "x", "message": "y"})
    httpx_mock.add_response(url=URL, status_code=503)
    httpx_mock.add_response(url=URL, json=OK_BODY)
    assert fetch() == 450
    assert len(httpx_mock.get_requests()) == 3
    assert sleeps == [0.25, 0.5]  # full jitter at rand=0.5 of 0.5 s, then 1 s


def test_gives_up_after_the_retries_with_the_last_error(
    fetch: Fetch, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=URL, status_code=500, is_reusable=True)
    with pytest.raises(errors.ServerError) as info:
        fetch(policy=RetryPolicy(retries=2))
    assert len(httpx_mock.get_requests()) == 3
    assert info.value.attempts == 3


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (400, errors.MissingContextError),
        (401, errors.UnauthorizedError),
        (403, errors.UnauthorizedError),
        (404, errors.NotFoundError),
    ],
)
def test_client_errors_fail_after_one_request(
    fetch: Fetch, httpx_mock: HTTPXMock, status: int, exc_type: type[Exception]
) -> None:
    httpx_mock.add_response(url=URL, status_code=status, json={"error": "E", "message": "M"})
    with pytest.raises(exc_type):
        fetch()
    assert len(httpx_mock.get_requests()) == 1


def test_honours_retry_after_on_429(
    fetch: Fetch, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=URL, status_code=429, headers={"Retry-After": "2"})
    httpx_mock.add_response(url=URL, json=OK_BODY)
    assert fetch() == 450
    assert sleeps == [2.0]


def test_reads_a_retry_after_date_against_the_injected_wall_clock(
    fetch: Fetch, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    date = "Wed, 21 Oct 2015 07:28:10 GMT"  # 1445412490 in Unix time
    httpx_mock.add_response(url=URL, status_code=503, headers={"Retry-After": date})
    httpx_mock.add_response(url=URL, json=OK_BODY)
    assert fetch(now=lambda: 1445412487.0) == 450
    assert sleeps == [3.0]


@pytest.mark.parametrize(
    ("exception", "text"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "Could not reach api.pre.dev"),
        (httpx.ReadError("reset"), "Could not reach api.pre.dev"),
        (httpx.ConnectTimeout("slow"), "Timed out after"),
        (httpx.ReadTimeout("slow"), "Timed out after"),
    ],
)
def test_network_failures_are_retried_then_reported(
    fetch: Fetch, httpx_mock: HTTPXMock, exception: Exception, text: str
) -> None:
    httpx_mock.add_exception(exception, is_reusable=True)
    with pytest.raises(errors.TransportError) as info:
        fetch(policy=RetryPolicy(retries=1))
    assert text in str(info.value)
    assert len(httpx_mock.get_requests()) == 2


def test_network_failure_then_success(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    httpx_mock.add_response(url=URL, json=OK_BODY)
    assert fetch() == 450


def test_redirects_are_not_followed(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, status_code=302, headers={"Location": "https://evil.example/x"}
    )
    with pytest.raises(errors.RedirectError):
        fetch()
    assert [str(r.url) for r in httpx_mock.get_requests()] == [URL]


def test_invalid_answers_are_not_retried(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, text="<html>maintenance</html>")
    with pytest.raises(errors.InvalidResponseError, match="not JSON"):
        fetch()
    assert len(httpx_mock.get_requests()) == 1


def test_announced_huge_body_is_not_read(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(400):
            pulled.append(1)
            yield b"x" * 65536

    httpx_mock.add_response(
        url=URL, headers={"Content-Length": str(400 * 65536)}, stream=IteratorStream(chunks())
    )
    with pytest.raises(errors.InvalidResponseError, match="larger than 64 KiB"):
        fetch()
    assert pulled == []


def test_streamed_huge_body_stops_at_the_cap(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(400):  # 25 MiB if read to the end
            pulled.append(1)
            yield b"x" * 65536

    httpx_mock.add_response(url=URL, stream=IteratorStream(chunks()))
    with pytest.raises(errors.InvalidResponseError, match="larger than 64 KiB"):
        fetch()
    assert len(pulled) <= MAX_BODY_BYTES // 65536 + 1


def test_a_body_that_drips_past_the_timeout_is_abandoned(
    fetch: Fetch, httpx_mock: HTTPXMock
) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # every look at the clock is a second later
        return now[0]

    httpx_mock.add_response(url=URL, stream=IteratorStream([b"{"] * 50))
    with pytest.raises(errors.TransportError, match="reading the API answer"):
        fetch(clock=clock, policy=RetryPolicy(retries=0, timeout=5, deadline=100))


def test_a_key_echoed_by_the_server_is_scrubbed(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=URL, status_code=401, json={"error": "Unauthorized", "message": f"bad key {KEY}"}
    )
    with pytest.raises(errors.UnauthorizedError) as info:
        fetch()
    assert KEY not in str(info.value)
    assert KEY not in (info.value.message or "")


def test_a_key_echoed_in_an_invalid_body_is_scrubbed(fetch: Fetch, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, text=f"<p>{KEY}</p>")
    with pytest.raises(errors.InvalidResponseError) as info:
        fetch()
    assert KEY not in str(info.value)


def test_injected_transport_is_used() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "creditsRemaining": 3.5})

    with CreditsClient(KEY, transport=httpx.MockTransport(handler)) as client:
        assert client.get_balance() == 3.5
    assert seen[0].url == URL


async def test_injected_async_transport_is_used() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "creditsRemaining": 9})

    async with AsyncCreditsClient(KEY, transport=httpx.MockTransport(handler)) as client:
        assert await client.get_balance() == 9


def test_injected_client_is_not_closed_and_its_auth_and_redirects_are_overridden() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        return httpx.Response(200, json=OK_BODY)

    http = httpx.Client(
        transport=httpx.MockTransport(handler), auth=("user", "pass"), follow_redirects=True
    )
    with CreditsClient(KEY, http_client=http) as client:
        assert client.get_balance() == 450
    assert not http.is_closed
    http.close()


async def test_injected_async_client_is_not_closed() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=OK_BODY)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncCreditsClient(KEY, http_client=http) as client:
        assert await client.get_balance() == 450
    assert not http.is_closed
    await http.aclose()


@pytest.mark.parametrize("client_type", [CreditsClient, AsyncCreditsClient])
def test_repr_and_str_never_show_the_key(client_type: type[Any]) -> None:
    client = client_type(Secret(KEY), base_url="https://api.pre.dev/")
    assert KEY not in repr(client)
    assert repr(client) == f"{client_type.__name__}(base_url='https://api.pre.dev')"
    assert KEY not in repr(vars(client))


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("   ", "contains spaces"),
        ("pdk_abc\ndef", "contains spaces, control or non-ASCII"),
        ("pdk_abc\x00def", "contains spaces, control or non-ASCII"),
        ("pdk_abcdéf", "contains spaces, control or non-ASCII"),
        ("x" * 5000, "longer than 4096"),
    ],
)
@pytest.mark.parametrize("client_type", [CreditsClient, AsyncCreditsClient])
def test_keys_that_cannot_be_a_bearer_token_are_refused_without_quoting_them(
    client_type: type[Any], key: str, problem: str
) -> None:
    with pytest.raises(errors.ConfigError, match=problem) as info:
        client_type(key)
    for part in ("pdk_abc", "def", "xxxx"):
        assert part not in str(info.value)


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(errors.ConfigError, match="unencrypted"):
        CreditsClient(KEY, base_url="http://api.pre.dev")
