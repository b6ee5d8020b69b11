"""The sans-IO core: what each possible answer of the API means."""

from __future__ import annotations

import json

import pytest

from predev_integrations import errors
from predev_integrations._core.protocol import (
    MAX_BODY_BYTES,
    build_request,
    content_length_exceeds_cap,
    excerpt,
    parse_response,
    user_agent,
)
from predev_integrations._core.secret import Secret


def test_request_carries_bearer_key_accept_and_user_agent() -> None:
    request = build_request("https://api.pre.dev", Secret("k-123"), "pre-commit")
    assert request.method == "GET"
    assert request.url == "https://api.pre.dev/credits-balance"
    assert request.headers["Authorization"] == "Bearer k-123"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("predev-integrations/")
    assert request.headers["User-Agent"].endswith("(pre-commit)")
    assert "k-123" not in repr(request)


def test_user_agent_names_version_and_integration() -> None:
    from predev_integrations import __version__

    assert user_agent("airflow") == f"predev-integrations/{__version__} (airflow)"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"success": true, "creditsRemaining": 450}', 450),
        (b'{"success": true, "creditsRemaining": 0}', 0),
        (b'{"success": true, "creditsRemaining": 12.5}', 12.5),
        (b'{"success": true, "creditsRemaining": -3}', -3),
        (b'{"creditsRemaining": 7, "success": true, "extra": [1]}', 7),
    ],
)
def test_valid_200_gives_the_balance(body: bytes, expected: float) -> None:
    value = parse_response(200, {}, body)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"success": true, "creditsRemaining": "450"}', "not a number"),
        (b'{"success": true, "creditsRemaining": true}', "not a number"),
        (b'{"success": true, "creditsRemaining": null}', "null"),
        (b'{"success": true, "creditsRemaining": [1]}', "not a number"),
        (b'{"success": true}', "no creditsRemaining"),
        (b'{"success": false, "creditsRemaining": 5}', "success: true"),
        (b'{"success": "true", "creditsRemaining": 5}', "success: true"),
        (b'{"creditsRemaining": 5}', "success: true"),
        (b"[450]", "not a JSON object"),
        (b'"450"', "not a JSON object"),
        (b"<!doctype html><html>Welcome</html>", "not JSON"),
        (b"", "not JSON"),
        (b'{"success": true, "creditsRemaining": NaN}', "finite"),
        (b'{"success": true, "creditsRemaining": 1e999}', "finite"),
        (b'{"success": true, "creditsRemaining": -Infinity}', "finite"),
        (b"\xff\xfe garbage", "not JSON"),
    ],
)
def test_malformed_answers_are_invalid_responses(body: bytes, reason: str) -> None:
    with pytest.raises(errors.InvalidResponseError) as info:
        parse_response(200, {}, body)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message
    assert info.value.retryable is False


def test_truncated_body_is_refused_without_parsing() -> None:
    with pytest.raises(errors.InvalidResponseError, match="larger than 64 KiB"):
        parse_response(200, {}, b'{"success": true, "creditsRemaining": 1}', truncated=True)


def test_excerpt_is_short_single_line_and_printable() -> None:
    text = excerpt(b"<html>\n\t\x00" + b"x" * 500)
    assert len(text) < 100
    assert "\n" not in text
    assert "\x00" not in text
    assert text.endswith("…'")
    assert excerpt(b"   ") == "(empty body)"


@pytest.mark.parametrize(
    ("status", "exc_type", "retryable"),
    [
        (400, errors.MissingContextError, False),
        (401, errors.UnauthorizedError, False),
        (403, errors.UnauthorizedError, False),
        (404, errors.NotFoundError, False),
        (409, errors.HttpStatusError, False),
        (429, errors.RateLimitedError, True),
        (500, errors.ServerError, True),
        (502, errors.ServerError, True),
        (503, errors.ServerError, True),
    ],
)
def test_error_statuses_map_to_typed_exceptions(
    status: int, exc_type: type[errors.HttpStatusError], retryable: bool
) -> None:
    body = json.dumps({"error": "Some error", "message": "Some detail"}).encode()
    with pytest.raises(exc_type) as info:
        parse_response(status, {}, body)
    exc = info.value
    assert type(exc) is exc_type
    assert exc.status == status
    assert exc.error == "Some error"
    assert exc.message == "Some detail"
    assert exc.retryable is retryable
    assert f"HTTP {status}" in str(exc)


def test_documented_missing_context_body_is_surfaced() -> None:
    body = (
        b'{"error": "Missing context", '
        b'"message": "Unable to determine user or organization from API key"}'
    )
    with pytest.raises(errors.MissingContextError) as info:
        parse_response(400, {}, body)
    assert "Missing context" in str(info.value)
    assert "create a new key" in str(info.value)


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad Gateway</html>", b"", b"[1, 2]", b'{"error": 5, "message": null}'],
)
def test_error_bodies_that_are_not_the_documented_shape_still_classify(body: bytes) -> None:
    with pytest.raises(errors.ServerError) as info:
        parse_response(502, {}, body)
    assert info.value.error is None
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_errors_naming_the_target_without_query(status: int) -> None:
    headers = {"Location": "https://elsewhere.example/credits-balance?token=abc"}
    with pytest.raises(errors.RedirectError) as info:
        parse_response(status, headers, b"")
    assert "elsewhere.example" in str(info.value)
    assert "token=abc" not in str(info.value)
    assert info.value.retryable is False


def test_retry_after_seconds_is_read_from_429() -> None:
    with pytest.raises(errors.RateLimitedError) as info:
        parse_response(429, {"retry-after": "7"}, b"{}")
    assert info.value.retry_after == 7.0


def test_retry_after_http_date_is_read_relative_to_now() -> None:
    with pytest.raises(errors.ServerError) as info:
        parse_response(503, {"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, b"", now=1445412480.0)
    assert info.value.retry_after == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Content-Length": str(MAX_BODY_BYTES + 1)}, True),
        ({"content-length": str(MAX_BODY_BYTES)}, False),
        ({"Content-Length": "nonsense"}, False),
        ({}, False),
    ],
)
def test_announced_oversize_bodies_are_detected(headers: dict[str, str], expected: bool) -> None:
    assert content_length_exceeds_cap(headers) is expected
