"""One deadline per attempt, enforced on every socket operation of the sync client.

httpx's timeouts apply per operation: a server that drips one byte per second resets the
read timeout forever (headers, endless `100 Continue`, empty gzip blocks). httpcore lets a
transport use any network backend, so the sync client wraps the default one: each connect,
TLS handshake, read and write gets `min(its timeout, time left)` and fails once none is left.
(CPython bounds a whole TLS handshake or `sendall` by its socket timeout, and one `recv`
returns as soon as a byte arrives, so no operation can outlive the deadline.)

The deadline lives in a context variable set around one attempt, so a client shared between
threads keeps each thread's own. The async client uses a cancel scope instead (see client).
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import time
import typing
from collections.abc import Callable, Iterable, Iterator

import httpcore

#: When the current attempt must be over, on the backend's clock; None outside an attempt.
_ENDS_AT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "predev_deadline", default=None
)


def bounded_timeout(timeout: float | None, ends_at: float | None, now: float) -> float | None:
    """The timeout for one operation: the smaller of its own and the time left.

    Returns 0 or less when the deadline has passed (callers raise instead of waiting).
    """
    if ends_at is None:
        return timeout
    left = ends_at - now
    return left if timeout is None else min(timeout, left)


@contextlib.contextmanager
def deadline(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Bound every socket operation inside the block to end within `seconds` from now."""
    token = _ENDS_AT.set(clock() + seconds)
    try:
        yield
    finally:
        _ENDS_AT.reset(token)


def _budget(
    timeout: float | None, clock: Callable[[], float], error: type[Exception]
) -> float | None:
    value = bounded_timeout(timeout, _ENDS_AT.get(), clock())
    if value is not None and value <= 0:
        raise error("the deadline passed")
    return value


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, clock: Callable[[], float]) -> None:
        self._inner = inner
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, self._clock, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, self._clock, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, self._clock, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, budget), self._clock)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a network backend so that every operation respects the current deadline."""

    def __init__(
        self, inner: httpcore.NetworkBackend, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, self._clock, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, budget, local_address, socket_options)
        return _Stream(stream, self._clock)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - the client never uses unix sockets
        budget = _budget(timeout, self._clock, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, budget, socket_options), self._clock)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries are off
        self._inner.sleep(seconds)


def install(transports: Iterable[object], clock: Callable[[], float] = time.monotonic) -> int:
    """Wrap the network backend of each httpx HTTPTransport (and proxy mount); returns how many.

    httpx does not expose httpcore's `network_backend` option, so this sets the pool's
    attribute; a test pins that every transport the client builds gets wrapped.
    """
    wrapped = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if isinstance(inner, httpcore.NetworkBackend) and not isinstance(inner, DeadlineBackend):
            pool._network_backend = DeadlineBackend(inner, clock)  # type: ignore[union-attr]
            wrapped += 1
    return wrapped
