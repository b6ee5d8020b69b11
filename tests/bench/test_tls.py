"""The sandbox over TLS with the bench's throwaway CA: what `make bench` measures against."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.tls import Certs, make_certs
from predev_integrations._http.client import CreditsClient
from predev_integrations.sandbox import Sandbox, main, tls_context


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"), None)


@pytest.fixture
def tls_sandbox(certs: Certs, api_key: str) -> Iterator[Sandbox]:
    with Sandbox(key=api_key, tls=tls_context(str(certs.cert), str(certs.key))) as server:
        yield server


def _get(server: Sandbox, context: ssl.SSLContext, key: str) -> tuple[int, bytes]:
    host, port = server.url.removeprefix("https://").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
    try:
        conn.request("GET", "/credits-balance", headers={"Authorization": f"Bearer {key}"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_the_sandbox_serves_https_that_the_throwaway_ca_verifies(
    tls_sandbox: Sandbox, certs: Certs, api_key: str
) -> None:
    assert tls_sandbox.url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(certs.ca))
    assert _get(tls_sandbox, context, api_key) == (
        200,
        b'{"success": true, "creditsRemaining": 450}',
    )


def test_a_client_that_does_not_trust_the_ca_fails_and_the_sandbox_keeps_serving(
    tls_sandbox: Sandbox, certs: Certs, api_key: str
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(tls_sandbox, ssl.create_default_context(cafile=None, cadata=None), api_key)
    context = ssl.create_default_context(cafile=str(certs.ca))
    assert _get(tls_sandbox, context, api_key)[0] == 200
    assert tls_sandbox.requests == 1  # the refused handshake never reached the handler


def test_the_bundle_holds_the_public_cas_and_the_throwaway_one(tmp_path: Path) -> None:
    public = tmp_path / "public.pem"
    public.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    made = make_certs(tmp_path, public)
    bundle = made.bundle.read_bytes()
    assert bundle.startswith(public.read_bytes())
    assert bundle.endswith(made.ca.read_bytes())
    assert made.key.stat().st_mode & 0o077 == 0


def test_our_client_trusts_the_ca_named_by_ssl_cert_file(
    tls_sandbox: Sandbox, certs: Certs, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.bundle))
    with CreditsClient(api_key, base_url=tls_sandbox.url) as client:
        assert client.get_balance() == 450


@pytest.mark.parametrize(
    "flags",
    [["--tls-cert", "cert.pem"], ["--tls-key", "key.pem"], ["--tls-cert", "x", "--tls-key", "y"]],
)
def test_the_command_line_wants_a_loadable_cert_and_key_together(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quiet", *flags])
    assert exit_info.value.code == 2
    assert "--tls-" in capsys.readouterr().err
