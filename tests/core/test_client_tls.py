"""The clients skip loading the CA bundle only where TLS can never happen (http to loopback)."""

from __future__ import annotations

import ssl

import pytest

from predev_integrations.client import _tls_settings


def test_https_base_urls_keep_httpx_default_verification() -> None:
    assert _tls_settings("https://api.pre.dev") is True


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]"])
def test_http_loopback_gets_an_empty_context_that_fails_closed(base_url: str) -> None:
    ctx = _tls_settings(base_url)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0  # trusts nothing: any TLS handshake fails
