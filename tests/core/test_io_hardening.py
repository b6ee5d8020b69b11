"""Non-blocking reads of regular files only, a cache that trusts only its owner, and a sync
client whose every transport honours the attempt's deadline."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import httpcore
import httpx
import pytest

from predev_integrations._cli import cache
from predev_integrations._cli.files import NotReadable, read_regular
from predev_integrations._core.protocol import build_request, classify_status
from predev_integrations._core.secret import Secret
from predev_integrations._http import deadline
from predev_integrations._http.client import CreditsClient
from predev_integrations.errors import ConfigError, InvalidResponseError

KEY = Secret("pdk_io_hardening_key_0123")


def test_read_regular_reads_small_regular_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    data, info = read_regular(path, 10)
    assert data == b"abc"
    assert stat.S_ISREG(info.st_mode)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (os.mkfifo, "FIFO"),
        (lambda p: p.mkdir(), "directory"),
        (lambda p: p.write_bytes(b"x" * 11), "larger than 10 bytes"),
        (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "No such device"),  # ENXIO
    ],
)
def test_read_regular_refuses_anything_else_without_blocking(
    tmp_path: Path, make: object, says: str
) -> None:
    path = tmp_path / "f"
    make(path)  # type: ignore[operator]
    with pytest.raises(OSError, match=says):
        read_regular(path, 10)


def test_read_regular_refuses_devices() -> None:
    with pytest.raises(NotReadable, match="device"):
        read_regular("/dev/zero", 10)


def test_cache_entries_of_another_owner_or_in_an_open_directory_are_misses(
    tmp_path: Path,
) -> None:
    path = Path(cache.entry_path(tmp_path / "c", "https://api.pre.dev", KEY))
    assert cache.write(path, 7, now=100.0)
    assert cache.read(path, ttl=60, now=110.0) == 7
    assert cache.read(path, ttl=60, now=110.0, uid=os.geteuid() + 1) is None
    path.parent.chmod(0o777)
    assert cache.read(path, ttl=60, now=110.0) is None
    assert cache.write(path, 8, now=120.0)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # fixed on the next write
    assert cache.read(path, ttl=60, now=130.0) == 8


def test_the_cache_never_writes_into_another_users_directory(tmp_path: Path) -> None:
    path = Path(cache.entry_path(tmp_path / "c", "https://api.pre.dev", KEY))
    (tmp_path / "c").mkdir(mode=0o700)
    assert cache.write(path, 8, now=1.0, uid=os.geteuid() + 1) is False
    assert not path.exists()


def test_a_symlinked_entry_is_a_miss(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text(json.dumps({"v": 1, "credits_remaining": 5, "fetched_at": 1.0}))
    path = tmp_path / "entry.json"
    path.symlink_to(real)
    assert cache.read(path, ttl=60, now=2.0) is None


def test_the_request_asks_for_no_compression() -> None:
    assert build_request("https://api.pre.dev", KEY).headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(304, "HttpStatusError", False), (999, "HttpStatusError", False), (599, "ServerError", True)],
)
def test_304_is_no_redirect_and_999_no_server_error(
    status: int, kind: str, retryable: bool
) -> None:
    error = classify_status(status, {"Location": "https://x"}, b"")
    assert type(error).__name__ == kind
    assert error.retryable is retryable
    assert "redirect" not in str(error).replace("not a redirect", "")


def test_every_transport_of_the_sync_client_is_bounded_by_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with CreditsClient(KEY, base_url="https://api.pre.dev") as client:
        http = client._http
        transports = [http._transport, *(t for t in http._mounts.values() if t is not None)]
        assert len(transports) >= 2  # the default one and the proxy mount
        for transport in transports:
            backend = transport._pool._network_backend  # type: ignore[attr-defined]
            assert isinstance(backend, deadline.DeadlineBackend)


@pytest.mark.parametrize(
    ("timeout", "ends_at", "now", "expected"),
    [(5.0, None, 0.0, 5.0), (5.0, 3.0, 1.0, 2.0), (1.0, 3.0, 1.0, 1.0), (None, 3.0, 1.0, 2.0)],
)
def test_bounded_timeout_is_the_smaller_of_the_two(
    timeout: float | None, ends_at: float | None, now: float, expected: float
) -> None:
    assert deadline.bounded_timeout(timeout, ends_at, now) == expected


def test_a_passed_deadline_fails_the_next_operation_at_once() -> None:
    class Never(httpcore.NetworkBackend):
        def connect_tcp(self, *args: object, **kwargs: object) -> httpcore.NetworkStream:
            raise AssertionError("must not be called")

    backend = deadline.DeadlineBackend(Never(), clock=lambda: 10.0)
    with deadline.deadline(1.0, clock=lambda: 0.0), pytest.raises(httpcore.ConnectTimeout):
        backend.connect_tcp("127.0.0.1", 1, timeout=5.0)


def test_an_unusable_proxy_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "gopher://user:secret@127.0.0.1:1")
    with pytest.raises(ConfigError, match="proxy") as info:
        CreditsClient(KEY, base_url="https://api.pre.dev")
    assert "secret" not in str(info.value)


def test_a_corrupt_compressed_body_is_an_invalid_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"\x1f\x8bjunk")
        )

    with (
        CreditsClient(KEY, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(InvalidResponseError, match="corrupt"),
    ):
        client.get_balance()
