"""Class 2: one deadline across connect, TLS, headers, interim responses, body and decoding.

Every server here sends *something* often enough to reset a per-read timeout forever.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Callable

import pytest

from predev_integrations import errors
from predev_integrations._core.retry import RetryPolicy
from predev_integrations._http.client import AsyncCreditsClient, CreditsClient

from .conftest import DEADLINE_SLACK, RawServer, Run, bounded, read_request

DEADLINE = 1.0
EVERY = 0.05


def _forever(conn: socket.socket, stop: threading.Event, head: bytes, piece: bytes) -> None:
    conn.sendall(head)
    while not stop.is_set():
        conn.sendall(piece)
        time.sleep(EVERY)


def headers_one_byte_at_a_time(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    for byte in itertools.cycle(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 60):
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(EVERY)


def endless_100_continue(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    _forever(conn, stop, b"", b"HTTP/1.1 100 Continue\r\n\r\n")


def empty_gzip_blocks(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + 15)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    first = packer.compress(b"") + packer.flush(zlib.Z_SYNC_FLUSH)
    conn.sendall(head + b"%x\r\n%s\r\n" % (len(first), first))
    empty = b"\x00\x00\x00\xff\xff"  # an empty, non-final stored block: decodes to nothing
    _forever(conn, stop, b"", b"%x\r\n%s\r\n" % (len(empty), empty))


def body_one_byte_at_a_time(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    _forever(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", b" ")


def silent(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    stop.wait(30)


def tls_handshake_drip(conn: socket.socket, stop: threading.Event) -> None:
    """Answer a ClientHello with a TLS record header, then its body one byte at a time."""
    conn.recv(4096)
    _forever(conn, stop, b"\x16\x03\x03\x40\x00", b"\x00")


SERVERS = {
    "headers-drip": (headers_one_byte_at_a_time, "http"),
    "100-continue": (endless_100_continue, "http"),
    "empty-gzip-blocks": (empty_gzip_blocks, "http"),
    "body-drip": (body_one_byte_at_a_time, "http"),
    "silent": (silent, "http"),
    "tls-drip": (tls_handshake_drip, "https"),
}


def _url(server: RawServer, scheme: str) -> str:
    return f"{scheme}://127.0.0.1:{server.port}"


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_the_cli_ends_within_its_deadline(
    name: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    handler, scheme = SERVERS[name]
    server = serve(handler)
    result = run_cli("--base-url", _url(server, scheme), "--deadline", str(DEADLINE), bound=10)
    assert result.code == 3
    # Timed from the server's first accept to the CLI's exit: the deadline covers the check, not
    # the interpreter's start-up, which a loaded machine can stretch past a second on its own.
    assert server.first_connection_at is not None
    took = result.ended - server.first_connection_at
    assert took < DEADLINE + DEADLINE_SLACK, f"took {took:.2f} s after connecting"
    assert "Timed out after 1 s" in result.stderr or "Could not reach" in result.stderr


def _fetch(mode: str, key: str, url: str, policy: RetryPolicy) -> object:
    if mode == "sync":
        with CreditsClient(key, base_url=url, policy=policy) as client:
            return client.get_balance()

    async def go() -> object:
        async with AsyncCreditsClient(key, base_url=url, policy=policy) as client:
            return await client.get_balance()

    return asyncio.run(go())


@pytest.mark.parametrize("name", sorted(SERVERS))
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_library_clients_end_within_their_deadline(
    name: str, mode: str, serve: Callable[..., RawServer], hostile_key: str
) -> None:
    handler, scheme = SERVERS[name]
    server = serve(handler)
    policy = RetryPolicy(retries=3, timeout=DEADLINE, deadline=DEADLINE)
    started = time.monotonic()
    raised = bounded(lambda: _fetch(mode, hostile_key, _url(server, scheme), policy), 10)
    assert isinstance(raised, errors.TransportError)
    assert time.monotonic() - started < DEADLINE + DEADLINE_SLACK
