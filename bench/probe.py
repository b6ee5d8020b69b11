"""Part 3b, run inside a bench venv: the TLS costs every live check pays, timed in-process.

`python probe.py N` prints one JSON object of medians over N tries (ms): loading the CA
bundle `SSL_CERT_FILE` names, a TCP connect, and a TLS handshake to `BENCH_URL`.
Standard library only: it runs in venvs that hold nothing of ours.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit


def timed(action: Callable[[], object], tries: int) -> float:
    samples = []
    for _ in range(tries):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(tries: int) -> dict[str, object]:
    url = urlsplit(os.environ["BENCH_URL"])
    address = (url.hostname or "127.0.0.1", url.port or 443)
    bundle = os.environ["SSL_CERT_FILE"]
    context = ssl.create_default_context(cafile=bundle)

    def connect() -> None:
        socket.create_connection(address, timeout=10).close()

    def handshake() -> None:
        with socket.create_connection(address, timeout=10) as sock:
            start = time.perf_counter()
            with context.wrap_socket(sock, server_hostname=address[0]):
                handshakes.append((time.perf_counter() - start) * 1000)

    handshakes: list[float] = []
    with context.wrap_socket(socket.create_connection(address), server_hostname=address[0]) as s:
        version, cipher = s.version(), (s.cipher() or ("?",))[0]
    timed(handshake, tries)
    return {
        "ca_bundle_ms": timed(lambda: ssl.create_default_context(cafile=bundle), tries),
        "empty_context_ms": timed(lambda: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), tries),
        "ca_certs": context.cert_store_stats()["x509_ca"],
        "connect_ms": timed(connect, tries),
        "handshake_ms": statistics.median(handshakes),
        "tls": f"{version} {cipher}",
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
