"""Class 3: a server that echoes the key, padded so that a cut or an escape would leave part
of it, gets neither the key nor any 8-character fragment of it printed anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from .conftest import (
    RawServer,
    Run,
    assert_no_fragment,
    authorization,
    bounded,
    http_response,
    replying,
)

#: Where the old code cut each form: 200 (error/message fields), 100 (Location), 80 (excerpts).
CUT = {
    "error-field": 200,
    "plain-body": 80,
    "invalid-200": 80,
    "not-json-200": 80,
    "location": 100,
    "escaped-json": 200,
}


def _echo(form: str, pad: int) -> Callable[[bytes], bytes]:
    def answer(request: bytes) -> bytes:
        key = authorization(request).removeprefix("Bearer ")
        text = "x" * pad + key + " tail"
        if form == "error-field":
            return http_response(401, json.dumps({"error": text, "message": text}).encode())
        if form == "plain-body":
            return http_response(500, text.encode())
        if form == "invalid-200":
            return http_response(200, json.dumps({"success": False, "echo": text}).encode())
        if form == "not-json-200":
            return http_response(200, text.encode())
        if form == "location":
            return http_response(302, b"", {"Location": "https://evil.example/" + text})
        if form == "escaped-json":
            escaped = "".join(f"\\u{ord(c):04x}" for c in key)  # JSON escapes decode to the key
            body = '{"error": "' + "x" * pad + escaped + '"}'
            return http_response(403, body.encode())
        raise AssertionError(form)

    return answer


FORMS = ["error-field", "plain-body", "invalid-200", "not-json-200", "location", "escaped-json"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_an_echoed_key_never_shows_whole_or_in_part(
    form: str,
    fmt: str,
    hostile_key: str,
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
) -> None:
    pad = CUT[form] - len(hostile_key) + 1  # the old cut kept all of the key but its last char
    server = serve(replying(_echo(form, pad)))
    result = run_cli("--base-url", server.url, "--format", fmt, "--retries", "0", bound=30)
    assert result.code == 3  # run_cli has checked every output for every fragment


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_an_alert_and_its_state_carry_no_key(
    fmt: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    """A low balance fires the alert, records it in the history and recovers: run_cli checks
    every output, the step files and the cache directory (history and alert state)."""
    balances = [150, 150, 900]

    def answer(request: bytes) -> bytes:
        body = {"success": True, "creditsRemaining": balances.pop(0)}
        return http_response(200, json.dumps(body).encode())

    server = serve(replying(answer))
    flags = ["--alert-below", "200", "--alert-runway", "3d", "--topup-url", "https://pre.dev/t"]
    seen = []
    for _ in range(3):
        result = run_cli("--base-url", server.url, "--format", fmt, *flags, bound=30)
        assert result.code == 0
        seen.append(result.stdout + "".join(result.files.values()))
    if fmt != "github":  # the Action's outputs for an alert are the Action's to add
        assert ["ALERT" in s or '"fired": true' in s for s in seen] == [True, False, False]


@pytest.mark.parametrize("form", FORMS)
def test_no_padding_leaves_a_fragment(form: str, hostile_key: str) -> None:
    """Every offset of the key against every cut, through the same parsing and rendering."""
    import io

    from predev_integrations._cli.report import render
    from predev_integrations._core.outcome import Outcome
    from predev_integrations._core.protocol import parse_response
    from predev_integrations._core.sanitize import safe_text
    from predev_integrations._core.secret import Secret
    from predev_integrations.errors import ApiError

    request = f"GET / HTTP/1.1\r\nAuthorization: Bearer {hostile_key}\r\n\r\n".encode()
    for pad in range(0, 260, 3):
        raw = _echo(form, pad)(request)
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:])
        with pytest.raises(ApiError) as info:
            parse_response(status, headers, body, secret=Secret(hostile_key))
        error = safe_text(info.value.describe(), None, 1000)  # the CLI's own last redaction off
        assert_no_fragment(hostile_key, error)
        for fmt in ("text", "github"):
            out, err = io.StringIO(), io.StringIO()
            render(Outcome("error", error=error), fmt, "prog", out, err)
            assert_no_fragment(hostile_key, out.getvalue(), err.getvalue())


@pytest.mark.parametrize(
    "key",
    [
        "pdk_" + "a1b2c3d4e5" * 3 + "\\'\"%25%0A%0D::,",  # the characters escaping changes
        "pdk_\\x1b[31m\\u202e_0123456789abcdef",  # spells the escapes the sanitizer writes
    ],
)
def test_keys_made_of_escape_sequences_are_still_redacted(
    key: str, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    """A server sends the raw characters whose escaped form spells the key."""

    def answer(request: bytes) -> bytes:
        raw = "\x1b[31m\u202e_0123456789abcdef" + "\n\r" + "pdk_" + "a1b2c3d4e5" * 3
        return http_response(401, json.dumps({"error": raw, "message": "%\n%\r::,"}).encode())

    server = serve(replying(answer))
    for fmt in ("text", "github"):
        result = run_cli("--base-url", server.url, "--format", fmt, key=key, bound=30)
        assert result.code == 3


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_http_libraries_logs_carry_no_key_and_no_raw_server_text(
    mode: str,
    hostile_key: str,
    serve: Callable[..., RawServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """httpx logs the reason phrase (INFO) and httpcore the headers (DEBUG): both reach
    Airflow task logs, and both are the server's to choose."""
    import asyncio

    from predev_integrations._core.retry import RetryPolicy
    from predev_integrations._http.client import AsyncCreditsClient, CreditsClient
    from predev_integrations.errors import ApiError

    def answer(request: bytes) -> bytes:
        key = authorization(request).removeprefix("Bearer ").encode()
        head = b"HTTP/1.1 401 Nope " + key + b" \x9b31m\r\nX-Echo: " + key + b"\r\n"
        return head + b"Content-Length: 0\r\nConnection: close\r\n\r\n"

    server = serve(replying(answer))
    policy = RetryPolicy(retries=0)

    def fetch() -> None:
        if mode == "sync":
            with CreditsClient(hostile_key, base_url=server.url, policy=policy) as client:
                client.get_balance()
            return

        async def go() -> None:
            async with AsyncCreditsClient(hostile_key, base_url=server.url, policy=policy) as c:
                await c.get_balance()

        asyncio.run(go())

    with caplog.at_level(logging.DEBUG):
        raised = bounded(fetch, 20)
    assert isinstance(raised, ApiError)
    messages = [record.getMessage() for record in caplog.records]
    assert any("401" in message for message in messages)  # the logs are still there
    for message in messages:
        assert_no_fragment(hostile_key, message)
        assert "\x9b" not in message
