"""Where plain http:// may go: the loopback rule, identical on Python 3.10 to 3.13.

The matrix runs this file on every supported interpreter; 3.13's `ipaddress` changed its answer
for IPv4-mapped addresses, and the project's rule must not follow it.
"""

from __future__ import annotations

import pytest

from predev_integrations._core.urls import is_loopback_host, normalize_base_url
from predev_integrations.errors import ConfigError

LOOPBACK = ["localhost", "LOCALHOST", "127.0.0.1", "127.255.255.254", "::1", "[::1]"]
NOT_LOOPBACK = [
    "::ffff:127.0.0.1",  # IPv4-mapped: loopback to Python 3.13, not to 3.10-3.12
    "[::ffff:127.0.0.1]",
    "::ffff:7f00:1",  # the same address, written in hex
    "::127.0.0.1",  # IPv4-compatible (deprecated form)
    "0:0:0:0:0:ffff:127.0.0.1",
    "api.localhost",  # a resolver may send *.localhost anywhere
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "example.com",
    "",
]


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_everything_else_is_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize("host", ["[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
def test_plain_http_to_an_ipv4_mapped_address_is_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="Refusing plain http://"):
        normalize_base_url(f"http://{host}:8080")


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost"])
def test_plain_http_to_loopback_is_allowed(host: str) -> None:
    assert normalize_base_url(f"http://{host}:8080/") == f"http://{host}:8080"
