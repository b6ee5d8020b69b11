"""Sync and async clients: small mirrored shells over `protocol` and `retry`.

Both build the same request, read at most MAX_BODY_BYTES, never follow redirects, and
retry by the same pure policy. Only the I/O verbs (`with`/`async with`, `sleep`) differ.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from .errors import ApiError, ConfigError, TransportError
from .protocol import (
    MAX_BODY_BYTES,
    Balance,
    build_request,
    content_length_exceeds_cap,
    parse_response,
)
from .retry import RetryPolicy, RetryState
from .secret import Secret, key_problem, redact, redact_exception
from .urls import DEFAULT_BASE_URL, normalize_base_url


def _http_options(base_url: str) -> dict[str, Any]:
    """Options for an httpx client we build ourselves.

    Plain http is only ever to loopback (see `normalize_base_url`), and there two defaults of
    httpx would be wrong:
    - `trust_env`: an `HTTP_PROXY` in the environment would route the request, key and all,
      in clear text through that proxy. Loopback is never proxied.
    - `verify`: httpx loads the CA bundle eagerly (~15 ms) even for http. An empty context
      that still requires certificates is cheap, and fails closed should TLS ever happen.
    https keeps httpx's defaults: proxies tunnel TLS end to end, and certificates are verified.
    """
    options: dict[str, Any] = {"follow_redirects": False}
    if base_url.startswith("http://"):
        import ssl

        options["verify"] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        options["trust_env"] = False
    return options


class _Body:
    """Accumulates a streamed body up to the cap and watches the attempt's time budget."""

    def __init__(self, headers: Mapping[str, str], timeout: float, clock: Callable[[], float]):
        self.data = bytearray()
        self.truncated = content_length_exceeds_cap(headers)
        self._ends_at = clock() + timeout
        self._clock = clock
        self._timeout = timeout

    def add(self, chunk: bytes) -> bool:
        """Append a chunk; False once enough has been read (cap reached)."""
        self.data += chunk
        if len(self.data) > MAX_BODY_BYTES:
            self.truncated = True
            return False
        if self._clock() > self._ends_at:
            raise TransportError(f"Timed out after {self._timeout:g} s reading the API answer.")
        return True


class _BaseClient:
    """Configuration and error translation shared by both clients."""

    def __init__(
        self,
        api_key: Secret | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        policy: RetryPolicy | None = None,
        integration: str = "library",
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        problem = key_problem(self._key.reveal())
        if problem is not None:
            raise ConfigError(f"The API key {problem}; use the key pre.dev gave you, as it is.")
        self.base_url = normalize_base_url(base_url)
        self.policy = policy or RetryPolicy()
        self._request = build_request(self.base_url, self._key, integration)
        self._clock = clock
        self._rand = rand

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _new_state(self) -> RetryState:
        return RetryState(self.policy, self._clock, self._rand)

    def _transport_error(self, exc: httpx.HTTPError, timeout: float) -> TransportError:
        host = httpx.URL(self._request.url).host
        if isinstance(exc, httpx.TimeoutException):
            text = (
                f"Timed out after {timeout:g} s waiting for {host}; "
                "check the network or raise --timeout."
            )
        else:
            reason = redact(str(exc) or type(exc).__name__, self._key)
            text = f"Could not reach {host} ({reason}); check the network and --base-url."
        return TransportError(text)

    def _http_request(
        self, http: httpx.Client | httpx.AsyncClient, timeout: float
    ) -> httpx.Request:
        """The httpx request for one attempt; the key goes in this request's headers only."""
        request = self._request
        return http.build_request(
            request.method, request.url, headers=dict(request.headers), timeout=timeout
        )

    def _parse(self, response: httpx.Response, body: _Body) -> Balance:
        try:
            return parse_response(
                response.status_code, response.headers, bytes(body.data), truncated=body.truncated
            )
        except ApiError as exc:
            raise redact_exception(exc, self._key) from None


class CreditsClient(_BaseClient):
    """Blocking client. Pass `http_client` to reuse a pool, or `transport` for tests."""

    def __init__(
        self,
        api_key: Secret | str,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(api_key, **kwargs)  # type: ignore[arg-type]
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            transport=transport, **_http_options(self.base_url)
        )

    def get_balance(self) -> Balance:
        """Prototype credits remaining, retried per the policy; raises ApiError subclasses."""
        state = self._new_state()
        while True:
            timeout = state.start_attempt()
            try:
                return self._attempt(timeout)
            except ApiError as error:
                time.sleep(state.delay_or_raise(error))

    def _attempt(self, timeout: float) -> Balance:
        try:
            response = self._http.send(
                self._http_request(self._http, timeout),
                stream=True,
                auth=None,
                follow_redirects=False,
            )
            try:
                body = _Body(response.headers, timeout, self._clock)
                if not body.truncated and not response.is_redirect:
                    for chunk in response.iter_bytes():
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
        **kwargs: object,
    ) -> None:
        super().__init__(api_key, **kwargs)  # type: ignore[arg-type]
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, **_http_options(self.base_url)
        )

    async def get_balance(self) -> Balance:
        """Prototype credits remaining, retried per the policy; raises ApiError subclasses."""
        state = self._new_state()
        while True:
            timeout = state.start_attempt()
            try:
                return await self._attempt(timeout)
            except ApiError as error:
                import asyncio  # here, not at the top: the sync CLI never needs it (~5 ms)

                await asyncio.sleep(state.delay_or_raise(error))

    async def _attempt(self, timeout: float) -> Balance:
        try:
            response = await self._http.send(
                self._http_request(self._http, timeout),
                stream=True,
                auth=None,
                follow_redirects=False,
            )
            try:
                body = _Body(response.headers, timeout, self._clock)
                if not body.truncated and not response.is_redirect:
                    async for chunk in response.aiter_bytes():
                        if not body.add(chunk):
                            break
            finally:
                await response.aclose()
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
