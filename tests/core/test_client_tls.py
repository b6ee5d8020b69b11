"""How our own httpx clients are built: only http to loopback differs from httpx defaults."""

from __future__ import annotations

import asyncio

import pytest

from predev_integrations._http.client import AsyncCreditsClient, CreditsClient, _http_options
from predev_integrations.sandbox import Sandbox


def test_https_base_urls_keep_httpx_defaults() -> None:
    assert _http_options("https://api.pre.dev") == {"follow_redirects": False}


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]"])
def test_http_loopback_ignores_proxies_and_keeps_certificate_checks(base_url: str) -> None:
    assert _http_options(base_url) == {"follow_redirects": False, "trust_env": False}


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_an_environment_proxy_never_sees_a_loopback_request(
    sandbox: Sandbox, api_key: str, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    with Sandbox(key="proxy") as proxy:  # would receive the request, key and all, if proxied
        monkeypatch.setenv(variable, proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with CreditsClient(api_key, base_url=sandbox.url) as client:
            assert client.get_balance() == 450

        async def read() -> float:
            async with AsyncCreditsClient(api_key, base_url=sandbox.url) as client:
                return await client.get_balance()

        assert asyncio.run(read()) == 450
        assert proxy.requests == 0
        assert sandbox.requests == 2
