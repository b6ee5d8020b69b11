"""`predev-sandbox`: a real HTTP server on loopback that speaks the credits-balance contract.

It serves `GET /credits-balance` as the vendor documents it, with a configurable key and
balance, plus fault injection (status sequences, latency, malformed bodies, redirects, a
balance that changes over time). It can spend on its own: `burn_per_hour` credits per hour of
its uptime and `spend_per_request` credits per balance it serves, in whole credits, so a
runway forecast has something to fit. Tests, `make demo` and offline dry runs all use it.

Control endpoints (loopback only, no key): `GET /_sandbox/state` returns the state and the
request count; `POST /_sandbox/state` with a JSON object changes any field.

With a certificate (`--tls-cert`/`--tls-key`, or `tls=` in process) it serves https, so a
client's real TLS path (CA bundle, handshake) can be exercised and measured on loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

DEFAULT_KEY = "sandbox-key"

#: Malformed bodies the sandbox can serve with status 200.
BODIES: dict[str, bytes] = {
    "html": b"<!doctype html><html><body><h1>Welcome</h1></body></html>",
    "not-json": b"creditsRemaining=450",
    "empty": b"",
    "array": b"[450]",
    "string": b'{"success": true, "creditsRemaining": "450"}',
    "bool": b'{"success": true, "creditsRemaining": true}',
    "null": b'{"success": true, "creditsRemaining": null}',
    "missing": b'{"success": true}',
    "success-false": b'{"success": false, "creditsRemaining": 450}',
    "nan": b'{"success": true, "creditsRemaining": NaN}',
    "infinity": b'{"success": true, "creditsRemaining": 1e999}',
}
#: Large bodies: `huge` announces its length, `huge-chunked` streams until close.
HUGE_BYTES = 20 * 1024 * 1024

ERROR_BODIES: dict[int, tuple[str, str]] = {
    400: ("Missing context", "Unable to determine user or organization from API key"),
    401: ("Unauthorized", "Invalid or missing Authorization header"),
    404: ("Not Found", "No such endpoint"),
    429: ("Too Many Requests", "Rate limit exceeded"),
    500: ("Failed to retrieve credits balance", "Internal server error"),
}


class SandboxState:
    """Mutable behaviour of the server; every field can be changed while it runs."""

    FIELDS = (
        "key",
        "balance",
        "statuses",
        "retry_after",
        "latency",
        "body",
        "redirect_to",
        "schedule",
        "burn_per_hour",
        "spend_per_request",
    )

    def __init__(self, **fields: Any) -> None:
        self.lock = threading.Lock()
        #: Monotonic seconds; tests drive spending over hours with a clock of their own.
        self.clock: Callable[[], float] = time.monotonic
        self.key: str = DEFAULT_KEY
        self.balance: float = 450
        self.statuses: list[int] = []  # served first, one per request
        self.retry_after: str | None = None  # Retry-After on 429/5xx from `statuses`
        self.latency: float = 0.0
        self.body: str | None = None  # a key of BODIES, or huge / huge-chunked
        self.redirect_to: str | None = None
        self.schedule: list[tuple[float, float]] = []  # (seconds after start, new balance)
        self.burn_per_hour: float = 0.0  # spent continuously, counted from `started`
        self.spend_per_request: float = 0.0  # spent after each balance served
        self.spent = 0.0  # by requests so far
        self.started = self.burn_started = self.clock()
        self.requests = 0
        self.log: list[dict[str, Any]] = []
        self.update(fields)

    def update(self, fields: dict[str, Any]) -> None:
        with self.lock:
            for name, value in fields.items():
                if name not in self.FIELDS:
                    raise ValueError(f"unknown sandbox field {name!r}")
                if (
                    name == "body"
                    and value is not None
                    and value not in (*BODIES, "huge", "huge-chunked")
                ):
                    raise ValueError(f"unknown body {value!r}; choose from {sorted(BODIES)}")
                if name in ("burn_per_hour", "spend_per_request") and (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not math.isfinite(value)
                    or value < 0
                ):
                    raise ValueError(f"{name} must be a number >= 0, got {value!r}")
                if name in ("schedule", "balance", "burn_per_hour", "spend_per_request"):
                    self.burn_started = self.clock()  # spending counts from a new balance
                    self.spent = 0.0
                if name == "schedule":
                    self.started = self.clock()
                    setattr(self, name, sorted((float(t), v) for t, v in value))
                elif name == "statuses":
                    setattr(self, name, [int(s) for s in value])
                else:
                    setattr(self, name, value)

    def spend(self, fields: dict[str, Any]) -> None:
        """`POST /_sandbox/spend {"credits": 50, "by": "spec 3"}`: what a spec costs, taken
        at once (two spenders never both see the balance before the other's), and logged in
        order with the balance requests so a test can tell who read what before whom."""
        credits, by = fields.get("credits"), fields.get("by")
        if (
            isinstance(credits, bool)
            or not isinstance(credits, (int, float))
            or not math.isfinite(credits)
            or credits < 0
        ):
            raise ValueError(f"credits must be a number >= 0, got {credits!r}")
        with self.lock:
            self.spent += credits
            self.log.append({"path": "/_sandbox/spend", "credits": credits, "by": str(by)})

    def current_balance(self) -> float:
        elapsed = self.clock() - self.started
        balance = self.balance
        for after, value in self.schedule:
            if elapsed >= after:
                balance = value
        burnt = self.burn_per_hour * (self.clock() - self.burn_started) / 3_600
        spent = math.floor(burnt + self.spent + 1e-9)
        return balance - spent if spent else balance

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "balance": self.current_balance(),
                "requests": self.requests,
                "statuses": list(self.statuses),
                "latency": self.latency,
                "body": self.body,
                "redirect_to": self.redirect_to,
            }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "predev-sandbox"
    sys_version = ""
    # Headers and body go out in separate writes; with Nagle's algorithm on, the body would
    # wait for the client's delayed ACK (~40 ms on Linux), a delay no real API server adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            # The request line only: never headers, so never the key.
            sys.stderr.write(
                f"sandbox: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n"
            )

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error_body(self, status: int, headers: dict[str, str] | None = None) -> None:
        error, message = ERROR_BODIES.get(status, ("Error", f"Sandbox status {status}"))
        self._send(status, json.dumps({"error": error, "message": message}).encode(), headers)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path  # absolute-form too, as a client sends to a proxy
        if path == "/_sandbox/state":
            self._send(200, json.dumps(self.server.state.snapshot()).encode())
        elif path == "/credits-balance":
            self._credits()
        else:
            self._send_error_body(404)

    def do_POST(self) -> None:
        if self.path not in ("/_sandbox/state", "/_sandbox/spend"):
            self._send_error_body(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            fields = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/_sandbox/spend":
                self.server.state.spend(fields)
            else:
                self.server.state.update(fields)
        except (ValueError, TypeError) as exc:
            self._send(
                400, json.dumps({"error": "Bad sandbox update", "message": str(exc)}).encode()
            )
            return
        self._send(200, json.dumps(self.server.state.snapshot()).encode())

    def _credits(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests += 1
            state.log.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "user_agent": self.headers.get("User-Agent"),
                    "accept": self.headers.get("Accept"),
                }
            )
            status = state.statuses.pop(0) if state.statuses else None
            latency, body, redirect_to = state.latency, state.body, state.redirect_to
            retry_after, key = state.retry_after, state.key
            balance = state.current_balance()
        if latency:
            time.sleep(latency)
        if status is not None and status != 200:
            headers = {"Retry-After": retry_after} if retry_after and status in (429, 503) else {}
            if 300 <= status < 400:
                headers["Location"] = redirect_to or "https://example.invalid/credits-balance"
            self._send_error_body(status, headers)
        elif redirect_to:
            self._send(302, b"", {"Location": redirect_to})
        elif self.headers.get("Authorization") != f"Bearer {key}":
            self._send_error_body(401)
        elif body in ("huge", "huge-chunked"):
            self._huge(announce=body == "huge")
        elif body is not None:
            self._send(200, BODIES[body])
        else:
            self._send(200, json.dumps({"success": True, "creditsRemaining": balance}).encode())
            with state.lock:
                state.spent += state.spend_per_request

    def _huge(self, *, announce: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if announce:
            self.send_header("Content-Length", str(HUGE_BYTES))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b'{"success": true, "pad": "' + b"x" * (64 * 1024)
        try:
            sent = 0
            while sent < HUGE_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the client stopped reading, as it should


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        verbose: bool,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0].strip("[]"):
            self.address_family = socket.AF_INET6
            address = (address[0].strip("[]"), address[1])
        super().__init__(address, _Handler)
        self.state = state
        self.verbose = verbose
        self.tls = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        """With TLS, the handshake runs here, in the connection's own thread, not in accept()."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us, or hangs up mid-handshake
        with conn:
            super().finish_request(conn, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (a cancelled poll, a timeout) is normal here, not news."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class Sandbox:
    """The sandbox as a context manager running in a background thread.

    >>> with Sandbox(balance=12) as sb:
    ...     sb.url  # http://127.0.0.1:<port>
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        verbose: bool = False,
        tls: ssl.SSLContext | None = None,
        **state: Any,
    ) -> None:
        self.state = SandboxState(**state)
        self._server = _Server((host, port), self.state, verbose, tls)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        scheme = "http" if self._server.tls is None else "https"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

    @property
    def requests(self) -> int:
        return self.state.requests

    @property
    def log(self) -> list[dict[str, Any]]:
        return self.state.log

    def configure(self, **fields: Any) -> None:
        self.state.update(fields)

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context from PEM files: the certificate (chain) and its private key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _schedule_item(text: str) -> tuple[float, float]:
    try:
        after, value = text.split(":", 1)
        return float(after), float(value) if "." in value else int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not SECONDS:BALANCE") from None


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number >= 0")
    return value


def _statuses(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="predev-sandbox",
        description="A local stand-in for https://api.pre.dev/credits-balance, on loopback.",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument(
        "--key",
        default=DEFAULT_KEY,
        help=f"the fake API key it accepts (default {DEFAULT_KEY}); never a real key",
    )
    p.add_argument("--balance", type=float, default=450, help="creditsRemaining (default 450)")
    p.add_argument(
        "--statuses",
        type=_statuses,
        default=[],
        metavar="S,S,...",
        help="answer the first requests with these statuses, e.g. 500,500",
    )
    p.add_argument("--retry-after", help="Retry-After header sent with 429/503 statuses")
    p.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    p.add_argument(
        "--body",
        choices=[*sorted(BODIES), "huge", "huge-chunked"],
        help="serve this malformed 200 body",
    )
    p.add_argument("--redirect-to", metavar="URL", help="answer 302 to this URL")
    p.add_argument(
        "--balance-at",
        type=_schedule_item,
        action="append",
        default=[],
        metavar="SECONDS:BALANCE",
        help="change the balance after SECONDS (repeatable)",
    )
    p.add_argument(
        "--burn-per-hour",
        type=_non_negative,
        default=0.0,
        metavar="N",
        help="spend N credits per hour of uptime, in whole credits (for a runway forecast)",
    )
    p.add_argument(
        "--spend-per-request",
        type=_non_negative,
        default=0.0,
        metavar="N",
        help="spend N credits after each balance served",
    )
    p.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate chain")
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    p.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    args = p.parse_args(argv)
    from ._core.urls import is_loopback_host

    if not is_loopback_host(args.host):
        p.error("the sandbox binds to loopback only (127.0.0.0/8, ::1, localhost)")
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    tls = None
    if args.tls_cert is not None:
        try:
            tls = tls_context(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            p.error(f"cannot load --tls-cert/--tls-key: {exc}")
    balance = int(args.balance) if float(args.balance).is_integer() else args.balance
    sandbox = Sandbox(
        args.host,
        args.port,
        verbose=not args.quiet,
        tls=tls,
        key=args.key,
        balance=balance,
        statuses=args.statuses,
        retry_after=args.retry_after,
        latency=args.latency,
        body=args.body,
        redirect_to=args.redirect_to,
        schedule=args.balance_at,
        burn_per_hour=args.burn_per_hour,
        spend_per_request=args.spend_per_request,
    )
    print(sandbox.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sandbox.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
