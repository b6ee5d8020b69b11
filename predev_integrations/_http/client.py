"""Sync and async clients: small mirrored shells over `protocol` and `retry`.

Both build the same request, read at most MAX_BODY_BYTES, never follow redirects, and
retry by the same pure policy. Only the I/O verbs (`with`/`async with`, `sleep`) differ.
Time and chance come in as arguments (`clock`, `now`, `rand`, `sleep`), so tests inject them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from .._core.protocol import (
    MAX_BODY_BYTES,
    Balance,
    build_request,
    content_length_exceeds_cap,
    parse_response,
)
from .._core.retry import RetryPolicy, RetryState
from .._core.sanitize import duration, safe_text
from .._core.secret import Secret
from .._core.urls import DEFAULT_BASE_URL, normalize_base_url
from ..errors import (
    ApiError,
    ConfigError,
    InvalidResponseError,
    TransportError,
    detached_errors,
)
from . import deadline, logscrub
from .decoding import BoundedDecoder

_H = TypeVar("_H", httpx.Client, httpx.AsyncClient)


def _http_options(base_url: str) -> dict[str, Any]:
    """Options for an httpx client we build ourselves.

    Plain http is only ever to loopback (see `normalize_base_url`), and there httpx's
    `trust_env` would be wrong: an `HTTP_PROXY` in the environment would route the request,
    key and all, in clear text through that proxy. Loopback is never proxied.
    https keeps httpx's defaults: proxies tunnel TLS end to end, and certificates are verified.
    """
    options: dict[str, Any] = {"follow_redirects": False}
    if base_url.startswith("http://"):
        options["trust_env"] = False
    return options


def _new_http(factory: Callable[..., _H], base_url: str, **kwargs: Any) -> _H:
    """Build an httpx client; proxy settings it cannot use are a configuration error.

    httpx reads HTTPS_PROXY/ALL_PROXY when it is built: a socks:// proxy without the socks
    extra raises ImportError, an unknown scheme ValueError. Their text may hold the proxy's
    credentials, so it is not quoted.
    """
    try:
        return factory(**kwargs, **_http_options(base_url))
    except (ImportError, ValueError, httpx.InvalidURL):
        raise ConfigError(
            "The proxy set in the environment (HTTPS_PROXY, ALL_PROXY) cannot be used: an "
            "unsupported scheme, or socks:// without `pip install httpx[socks]`; fix or unset "
            "it, or add the API host to NO_PROXY."
        ) from None


class _Body:
    """Accumulates a streamed body, decoded and capped as it arrives, within the attempt's time.

    Raw bytes go through `BoundedDecoder`, so neither the network bytes nor any decoding
    layer can grow past MAX_BODY_BYTES (+1) however the server encodes its answer.
    """

    def __init__(self, headers: Mapping[str, str], timeout: float, clock: Callable[[], float]):
        self.data = bytearray()
        self.truncated = content_length_exceeds_cap(headers)
        #: Why the body could not be decoded (unsupported or corrupt encoding), if it could not.
        self.problem: InvalidResponseError | None = None
        #: True while raw chunks should be fed to `add` (set by the client).
        self.streaming = False
        self._decoder: BoundedDecoder | None = None
        try:
            self._decoder = BoundedDecoder(headers, MAX_BODY_BYTES)
        except InvalidResponseError as exc:
            self.problem = exc
        self._ends_at = clock() + timeout
        self._clock = clock
        self._timeout = timeout

    @property
    def wanted(self) -> bool:
        return not self.truncated and self.problem is None

    def add_decoded(self, content: bytes) -> None:
        """A body httpx already holds decoded (a response built in memory, as by MockTransport)."""
        self.data += content[: MAX_BODY_BYTES + 1]
        self.truncated = len(content) > MAX_BODY_BYTES

    def add(self, raw: bytes) -> bool:
        """Decode and append a raw chunk; False once enough has been read (cap or bad data)."""
        assert self._decoder is not None
        try:
            self.data += self._decoder.feed(raw)
        except InvalidResponseError as exc:
            self.problem = exc
            return False
        if self._decoder.exceeded:
            self.truncated = True
            return False
        if self._clock() > self._ends_at:
            raise TransportError(
                f"Timed out after {duration(self._timeout)} s reading the API answer."
            )
        return True


class _BaseClient:
    """Configuration and error translation shared by both clients.

    Every error the public methods raise leaves through `detached_errors`: alone (the httpx,
    h11, json or zlib exception it was raised during holds the server's text), and redacted of
    the key (a base URL may hold a key pasted in the wrong place).
    """

    def __init__(
        self,
        api_key: Secret | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        integration: str = "library",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        """`clock` times attempts and the deadline; `now` (Unix time) reads Retry-After dates;
        `rand` in [0, 1) jitters the backoff. Each client takes its own `sleep` too."""
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        with detached_errors(self._key):
            problem = self._key.problem()
            if problem is not None:
                raise ConfigError(f"The API key {problem}; use the key pre.dev gave you, as it is.")
            self.base_url = normalize_base_url(base_url)
            self.policy = policy or RetryPolicy()
            self._request = build_request(self.base_url, self._key, integration)
            try:
                self._host = httpx.URL(self._request.url).host
            except (httpx.InvalidURL, ValueError):  # e.g. a host IDNA cannot encode
                shown = safe_text(self.base_url, self._key, limit=100)
                raise ConfigError(f"The base URL {shown} has an invalid host name.") from None
        self._clock = clock
        self._now = now
        self._rand = rand
        logscrub.install()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _new_state(self) -> RetryState:
        return RetryState(self.policy, self._clock, self._rand)

    def _timed_out(self, timeout: float) -> TransportError:
        return TransportError(
            f"Timed out after {duration(timeout)} s waiting for {self._host}; "
            "check the network or raise --timeout."
        )

    def _transport_error(self, exc: httpx.HTTPError, timeout: float) -> TransportError:
        if isinstance(exc, httpx.TimeoutException):
            return self._timed_out(timeout)
        reason = safe_text(str(exc) or type(exc).__name__, self._key, limit=120)
        return TransportError(
            f"Could not reach {self._host} ({reason}); check the network and --base-url."
        )

    def _http_request(
        self, http: httpx.Client | httpx.AsyncClient, timeout: float
    ) -> httpx.Request:
        """The httpx request for one attempt; the key goes in this request's headers only."""
        request = self._request
        return http.build_request(
            request.method, request.url, headers=dict(request.headers), timeout=timeout
        )

    def _body(self, response: httpx.Response, timeout: float) -> _Body:
        """The body reader for `response`; `streaming` says whether raw chunks are still wanted.

        Redirects and bodies announced too big are not read; a response httpx already holds in
        memory (a mock transport's) is taken as it is.
        """
        body = _Body(response.headers, timeout, self._clock)
        if body.wanted and not response.is_redirect:
            if response.is_stream_consumed:
                body.add_decoded(response.content)
            else:
                body.streaming = True
        return body

    def _parse(self, response: httpx.Response, body: _Body) -> Balance:
        """Every text the server controls is redacted and cleaned inside `parse_response`."""
        status = response.status_code
        if body.problem is not None and 200 <= status < 300:
            raise body.problem
        data = bytes(body.data) if body.problem is None else b""
        return parse_response(
            status,
            response.headers,
            data,
            truncated=body.truncated,
            now=self._now(),
            secret=self._key,
        )


class CreditsClient(_BaseClient):
    """Blocking client. Pass `http_client` to reuse a pool, or `transport` for tests."""

    def __init__(
        self,
        api_key: Secret | str,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: object,
    ) -> None:
        super().__init__(api_key, **kwargs)  # type: ignore[arg-type]
        self._sleep = sleep
        self._owns_http = http_client is None
        if http_client is None:
            http_client = _new_http(httpx.Client, self.base_url, transport=transport)
            if transport is None:
                deadline.install([http_client._transport, *http_client._mounts.values()])
        self._http = http_client

    def get_balance(self) -> Balance:
        """Prototype credits remaining, retried per the policy; raises ApiError subclasses."""
        with detached_errors(self._key):
            state = self._new_state()
            while True:
                timeout = state.start_attempt()
                try:
                    return self._attempt(timeout)
                except ApiError as error:
                    self._sleep(state.delay_or_raise(error))

    def _attempt(self, timeout: float) -> Balance:
        """One request; every socket operation in it ends by `timeout` from now (see deadline)."""
        try:
            with deadline.deadline(timeout), logscrub.scrubbing(self._key):
                response = self._http.send(
                    self._http_request(self._http, timeout),
                    stream=True,
                    auth=None,
                    follow_redirects=False,
                )
                try:
                    body = self._body(response, timeout)
                    if body.streaming:
                        for chunk in response.iter_raw():
                            if not body.add(chunk):
                                break
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, timeout) from None
        return self._parse(response, body)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CreditsClient:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncCreditsClient(_BaseClient):
    """Asyncio client, the mirror of `CreditsClient`."""

    def __init__(
        self,
        api_key: Secret | str,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        **kwargs: object,
    ) -> None:
        """`sleep` defaults to anyio's, which works under asyncio and trio alike."""
        super().__init__(api_key, **kwargs)  # type: ignore[arg-type]
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or _new_http(httpx.AsyncClient, self.base_url, transport=transport)

    async def get_balance(self) -> Balance:
        """Prototype credits remaining, retried per the policy; raises ApiError subclasses."""
        with detached_errors(self._key):
            state = self._new_state()
            while True:
                timeout = state.start_attempt()
                try:
                    return await self._attempt(timeout)
                except ApiError as error:
                    delay = state.delay_or_raise(error)
                    if self._sleep is None:
                        import anyio  # here, not at the top: the sync CLI never needs it

                        self._sleep = anyio.sleep
                    await self._sleep(delay)

    async def _attempt(self, timeout: float) -> Balance:
        """One request inside a cancel scope: connect, TLS, headers, body all end by `timeout`."""
        import anyio  # httpx's own dependency; works under asyncio and trio alike

        try:
            with anyio.fail_after(timeout), logscrub.scrubbing(self._key):
                response = await self._http.send(
                    self._http_request(self._http, timeout),
                    stream=True,
                    auth=None,
                    follow_redirects=False,
                )
                try:
                    body = self._body(response, timeout)
                    if body.streaming:
                        async for chunk in response.aiter_raw():
                            if not body.add(chunk):
                                break
                finally:
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
        except TimeoutError:
            raise self._timed_out(timeout) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, timeout) from None
        return self._parse(response, body)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncCreditsClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
