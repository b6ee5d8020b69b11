"""Class 1: decompression bombs. The cap applies to decoded bytes as they stream, per layer."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import Callable

import pytest

from predev_integrations import errors
from predev_integrations._core.retry import RetryPolicy
from predev_integrations._http.client import AsyncCreditsClient

from .conftest import RawServer, Run, bounded, http_response, replying


def _gzip_zeros(size: int, *, deflate: bool = False) -> bytes:
    """`size` zero bytes, compressed in chunks so the test itself never holds them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS if deflate else 16 + 15)
    chunk = bytes(1 << 20)
    out = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join(out) + packer.flush()


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[str, bytes]]:
    """(Content-Encoding, body): the issue's `gzip, gzip` under 1 KB and a ~60 KB gzip."""
    inner = _gzip_zeros(256 << 20)
    return {
        "gzip-gzip": ("gzip, gzip", gzip.compress(inner, 9)),
        "gzip": ("gzip", _gzip_zeros(60 << 20)),
        "deflate": ("deflate", _gzip_zeros(60 << 20, deflate=True)),
        "chunked-gzip": ("gzip", _gzip_zeros(60 << 20)),
    }


def _answer(encoding: str, body: bytes, *, chunked: bool) -> bytes:
    if not chunked:
        return http_response(200, body, {"Content-Encoding": encoding})
    chunks = b"".join(
        b"%x\r\n" % len(body[i : i + 4096]) + body[i : i + 4096] + b"\r\n"
        for i in range(0, len(body), 4096)
    )
    return http_response(
        200,
        chunks + b"0\r\n\r\n",
        {"Content-Encoding": encoding, "Transfer-Encoding": "chunked", "Content-Length": None},
    )


@pytest.mark.parametrize("name", ["gzip-gzip", "gzip", "deflate", "chunked-gzip"])
def test_compressed_bombs_stop_at_the_cap_in_bounded_memory(
    name: str,
    bombs: dict[str, tuple[str, bytes]],
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
) -> None:
    encoding, body = bombs[name]
    server = serve(replying(_answer(encoding, body, chunked=name.startswith("chunked"))))
    result = run_cli("--base-url", server.url, "--deadline", "10", bound=10)
    assert result.code == 3
    assert "larger than 64 KiB" in result.stderr


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip, gzip", "compress"])
def test_unsupported_encodings_are_a_clear_error(
    encoding: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    server = serve(replying(http_response(200, b"\x00" * 100, {"Content-Encoding": encoding})))
    result = run_cli("--base-url", server.url, "--deadline", "5", bound=5)
    assert result.code == 3
    assert "unsupported Content-Encoding" in result.stderr


def test_a_corrupt_gzip_body_is_a_clear_error(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    server = serve(
        replying(http_response(200, b"\x1f\x8b" + b"\xff" * 50, {"Content-Encoding": "gzip"}))
    )
    result = run_cli("--base-url", server.url, bound=30)
    assert result.code == 3
    assert "encoding is corrupt" in result.stderr


def test_a_small_gzip_answer_is_still_read(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    body = gzip.compress(b'{"success": true, "creditsRemaining": 42}')
    server = serve(replying(http_response(200, body, {"Content-Encoding": "gzip"})))
    result = run_cli("--base-url", server.url, bound=30)
    assert result.code == 0
    assert "42 remaining" in result.stdout


def test_the_async_client_decodes_within_the_cap(
    bombs: dict[str, tuple[str, bytes]], serve: Callable[..., RawServer], hostile_key: str
) -> None:
    encoding, body = bombs["gzip-gzip"]
    server = serve(replying(_answer(encoding, body, chunked=False)))

    async def go() -> None:
        policy = RetryPolicy(retries=0, timeout=10, deadline=10)
        async with AsyncCreditsClient(hostile_key, base_url=server.url, policy=policy) as client:
            await client.get_balance()

    tracemalloc.start()
    try:
        raised = bounded(lambda: asyncio.run(go()), 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(raised, errors.InvalidResponseError)
    assert "larger than 64 KiB" in str(raised)
    assert peak < 16 * 1024 * 1024
