"""Raw-socket servers on 127.0.0.1 that misbehave on purpose, and a CLI runner that bounds
every run in time and memory and checks every byte it leaves for the key or a fragment of it."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: The acceptance bounds of issue 10.
MAX_RSS_BYTES = 80 * 1024 * 1024
DEADLINE_SLACK = 1.0
#: A child that runs away is killed here, and its address space is capped, so a failing test
#: cannot take the shared machine down with it.
HARD_TIMEOUT = 30.0
HARD_AS_LIMIT = 2 * 1024**3

Handler = Callable[[socket.socket, threading.Event], None]


def fragments(key: str, size: int = 8) -> list[str]:
    return [key[i : i + size] for i in range(len(key) - size + 1)]


def assert_no_fragment(key: str, *blobs: str | bytes) -> None:
    """Neither the key nor any 8 consecutive characters of it, in any of `blobs`."""
    for blob in blobs:
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        for piece in fragments(key):
            assert piece not in text, f"a fragment of the key leaked: {text[:300]!r}"


def read_request(conn: socket.socket, limit: int = 65536) -> bytes:
    """Read one request head (the client sends no body)."""
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def authorization(request: bytes) -> str:
    for line in request.split(b"\r\n"):
        if line.lower().startswith(b"authorization:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def http_response(
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str | None] | None = None,
    reason: str = "X",
) -> bytes:
    """A raw answer; Content-Length is added unless `headers` maps it to None."""
    head = [f"HTTP/1.1 {status} {reason}"]
    merged = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    head += [f"{k}: {v}" for k, v in merged.items() if v is not None]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def drip(conn: socket.socket, stop: threading.Event, data: bytes, every: float) -> None:
    """Send `data` one byte at a time, forever if it is an endless iterator's worth."""
    for byte in data:
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(every)


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each to `handler` in its own thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.connections = 0
        #: When the first connection was accepted (time.monotonic, the same clock in every
        #: process on Linux): the moment a CLI run's network phase is known to have begun.
        self.first_connection_at: float | None = None
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            if self.first_connection_at is None:
                self.first_connection_at = time.monotonic()
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.handler(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(5)
        for thread in self._threads:
            thread.join(5)
        self._sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        servers.append(server.__enter__())
        return server

    yield start
    for server in servers:
        server.__exit__()


def bounded(call: Callable[[], object], limit: float) -> BaseException | None:
    """Run `call` in a thread and wait at most `limit` seconds; return what it raised.

    A client that ignores its deadline fails the test instead of hanging the suite (the
    server's teardown then closes the connection, which ends the thread).
    """
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    assert outcome, f"still running after {limit} s"
    return outcome[0]


def replying(payload: bytes | Callable[[bytes], bytes]) -> Handler:
    """A handler that reads the request and answers `payload` (or payload(request))."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        request = read_request(conn)
        conn.sendall(payload(request) if callable(payload) else payload)

    return handle


@pytest.fixture
def hostile_key() -> str:
    """Random, long, and with the characters that escaping changes: \\ ' % and a `%0A`."""
    return f"pdk_{secrets.token_hex(10)}\\'%0A{secrets.token_hex(10)}"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    #: When the CLI exited, on time.monotonic (see RawServer.first_connection_at).
    ended: float
    peak_rss: int
    files: dict[str, str] = field(default_factory=dict)


#: A small launcher between pytest and the CLI: it caps the address space, runs the CLI,
#: and reports the CLI's own peak RSS (RUSAGE_CHILDREN: its only child) and wall time. Measured
#: from pytest directly, a child's ru_maxrss would include the pytest process it was forked
#: (or vforked) from, since Linux carries the high-water mark across exec.
_LAUNCHER = f"""
import resource, subprocess, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({HARD_AS_LIMIT}, {HARD_AS_LIMIT}))
started = time.monotonic()
proc = subprocess.Popen([sys.executable, "-m", sys.argv[2], *sys.argv[3:]])
try:
    proc.wait(timeout={HARD_TIMEOUT})
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
ended = time.monotonic()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
with open(sys.argv[1], "w") as report:
    report.write(f"{{peak}} {{ended - started}} {{ended}}")
sys.exit(proc.returncode if proc.returncode >= 0 else 128 - proc.returncode)
"""


#: What `run_cli(module=...)` runs: the console script's module, or the Action's check step
#: (`action.yml` runs this module; its inputs arrive as INPUT_* variables).
CLI = "predev_integrations"
ACTION_STEP = "predev_integrations.github_action"

#: (seconds, bound or None, peak RSS, test id) of every run, for the summary below.
MEASURED: list[tuple[float, float | None, int, str]] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The worst time (against its bound) and the worst peak memory of any CLI run."""
    if not MEASURED:
        return
    bounded = [m for m in MEASURED if m[1] is not None] or MEASURED
    slowest = max(bounded, key=lambda m: m[0] - (m[1] or 0))
    biggest = max(MEASURED, key=lambda m: m[2])
    terminalreporter.write_line(
        f"hostile: {len(MEASURED)} CLI runs; closest to its bound: {slowest[0]:.2f} s "
        f"for a bound of {slowest[1]} s ({slowest[3]}); largest peak RSS "
        f"{biggest[2] / 2**20:.1f} MiB ({biggest[3]})"
    )


@pytest.fixture
def run_cli(tmp_path: Path, hostile_key: str, request: pytest.FixtureRequest) -> Callable[..., Run]:
    """Run the CLI as a subprocess with a time and memory bound; check its output for the key.

    Time and peak memory are the CLI's own, as measured by the launcher above.
    """

    def run(
        *args: str,
        env: Mapping[str, str | None] | None = None,
        key: str | None = None,
        bound: float | None = None,
        stdout: int | None = None,
        module: str = CLI,
    ) -> Run:
        key = hostile_key if key is None else key
        work = tmp_path / f"run-{secrets.token_hex(4)}"
        work.mkdir()
        out_path, err_path = work / "stdout", work / "stderr"
        files = {"GITHUB_OUTPUT": work / "output", "GITHUB_STEP_SUMMARY": work / "summary"}
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREDEV_", "GITHUB_"))}
        full_env.update(
            PREDEV_API_KEY=key,
            PREDEV_CACHE_DIR=str(tmp_path / "cache"),
            NO_PROXY="127.0.0.1,localhost,::1",
            **{name: str(path) for name, path in files.items()},
        )
        for name, value in (env or {}).items():
            if value is None:
                full_env.pop(name, None)
            else:
                full_env[name] = value

        report = work / "measured"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), module, *args],
                env=full_env,
                cwd=work,
                stdout=out if stdout is None else stdout,
                stderr=err,
                timeout=HARD_TIMEOUT + 10,
                check=False,
            )
        peak, seconds, ended = report.read_text().split()
        result = Run(
            code=proc.returncode,
            stdout=out_path.read_text("utf-8", "replace"),
            stderr=err_path.read_text("utf-8", "replace"),
            seconds=float(seconds),
            ended=float(ended),
            peak_rss=int(peak),
            files={n: p.read_text("utf-8", "replace") for n, p in files.items() if p.exists()},
        )
        MEASURED.append((result.seconds, bound, result.peak_rss, request.node.name))
        assert result.peak_rss < MAX_RSS_BYTES, f"peak RSS {result.peak_rss >> 20} MiB"
        if bound is not None:
            assert result.seconds < bound + DEADLINE_SLACK, f"took {seconds} s, bound {bound} s"
        assert "Traceback" not in result.stderr
        assert "Exception ignored" not in result.stderr
        assert "internal error" not in result.stderr + result.stdout
        assert_no_fragment(key, result.stdout, result.stderr, *result.files.values())
        cache = tmp_path / "cache"
        if cache.is_dir():
            for path in cache.rglob("*"):
                if path.is_file():
                    assert_no_fragment(key, path.read_bytes())
        return result

    return run
