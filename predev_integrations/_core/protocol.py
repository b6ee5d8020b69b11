"""Sans-IO heart of the client: build the request, read the answer, classify failures.

Nothing here touches the network or the clock (the time of day comes in as `now`), so the
sync and async clients (and the tests) share every rule about what the API's answers mean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..__version__ import __version__
from ..errors import (
    ApiError,
    HttpStatusError,
    InvalidResponseError,
    MissingContextError,
    NotFoundError,
    RateLimitedError,
    RedirectError,
    ServerError,
    UnauthorizedError,
)
from .ranges import BALANCE, range_problem
from .sanitize import DEFAULT_LIMIT, safe_text
from .secret import Secret
from .urls import endpoint_url
from .verdict import Balance

#: Bodies larger than this are not read: a balance fits in a few dozen bytes.
MAX_BODY_BYTES = 64 * 1024
EXCERPT_CHARS = 80

__all__ = ["Balance", "Request", "build_request", "parse_response"]


@dataclass(frozen=True)
class Request:
    """What to send. `headers` holds the key, so the repr leaves headers out."""

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)


def user_agent(integration: str) -> str:
    return f"predev-integrations/{__version__} ({integration})"


def build_request(base_url: str, api_key: Secret, integration: str = "cli") -> Request:
    """The one GET the API needs. `base_url` must already be validated by `normalize_base_url`."""
    return Request(
        method="GET",
        url=endpoint_url(base_url),
        headers={
            "Authorization": f"Bearer {api_key.reveal()}",
            "Accept": "application/json",
            # Compressed answers are decoded with a cap (see decoding), but none is the safest.
            "Accept-Encoding": "identity",
            "User-Agent": user_agent(integration),
        },
    )


def excerpt(body: bytes, limit: int = EXCERPT_CHARS, *, secret: Secret | None = None) -> str:
    """A short single-line, printable, key-free rendering of a body, for an error message.

    The whole body is decoded and redacted before it is shortened: a cut must never leave
    part of the key behind.
    """
    text = safe_text(body.decode("utf-8", errors="replace"), secret, limit)
    if not text:
        return "(empty body)"
    return f"'{text}'"


def _load_json(body: bytes) -> object:
    """json.loads that treats absurd nesting like any other invalid JSON (ValueError)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _error_fields(body: bytes, secret: Secret | None) -> tuple[str | None, str | None]:
    """`error` and `message` of a documented error body, redacted and cleaned; None if absent."""
    try:
        data = _load_json(body)
    except ValueError:
        return None, excerpt(body, secret=secret) if body.strip() else None
    if not isinstance(data, dict):
        return None, None

    def field_text(name: str) -> str | None:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            return None
        return safe_text(value, secret, DEFAULT_LIMIT) or None

    return field_text("error"), field_text("message")


def _retry_after(headers: Mapping[str, str], now: float | None) -> float | None:
    """Seconds the Retry-After header asks for; a date needs `now`, else it is ignored."""
    from .retry import parse_retry_after

    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return parse_retry_after(value, now=now)


def parse_balance(body: bytes, *, truncated: bool = False, secret: Secret | None = None) -> Balance:
    """Validate a 2xx body: `{"success": true, "creditsRemaining": <number in range>}`."""

    if truncated:
        raise InvalidResponseError(
            f"The API answer is larger than {MAX_BODY_BYTES // 1024} KiB and was not read; "
            "check that --base-url points at the pre.dev API."
        )
    try:
        data = _load_json(body)
    except ValueError:
        raise InvalidResponseError(
            f"The API answer is not JSON: {excerpt(body, secret=secret)}; "
            "check that --base-url points at the pre.dev API."
        ) from None
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"The API answer is not a JSON object: {excerpt(body, secret=secret)}; expected "
            '{"success": true, "creditsRemaining": <number>}.'
        )
    if data.get("success") is not True:
        raise InvalidResponseError(
            f"The API answer does not say success: true: {excerpt(body, secret=secret)}."
        )
    if "creditsRemaining" not in data:
        raise InvalidResponseError(
            f"The API answer has no creditsRemaining field: {excerpt(body, secret=secret)}."
        )
    value = data["creditsRemaining"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidResponseError(
            f"creditsRemaining is {type(value).__name__ if value is not None else 'null'}, "
            f"not a number: {excerpt(body, secret=secret)}."
        )
    problem = range_problem(value, BALANCE)
    if problem is not None:
        raise InvalidResponseError(f"creditsRemaining {problem}; the answer cannot be right.")
    return value


def classify_status(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    secret: Secret | None = None,
) -> ApiError:
    """Turn a non-2xx answer into the exception that says what it means and what to do.

    `now` (Unix seconds) turns a Retry-After date into a wait; without it only the
    delta-seconds form is honoured, and a date leaves the wait to the backoff.
    """
    if status == 304:
        return HttpStatusError(
            status,
            hint="Not Modified: no balance in it, and not a redirect; "
            "check that --base-url points at the pre.dev API.",
        )
    if 300 <= status < 400:
        location = next((v for k, v in headers.items() if k.lower() == "location"), "")
        shown = safe_text(location.split("?")[0], secret, 100) if location else ""
        target = f" to {shown}" if shown else ""
        return RedirectError(
            f"The API answered HTTP {status} (redirect{target}); redirects are not followed so the "
            "key never leaves the configured host. Set --base-url to the final address."
        )
    error, message = _error_fields(body, secret)
    if status == 400:
        return MissingContextError(
            status,
            error,
            message,
            hint="The key is not linked to a user or organisation; create a new key on pre.dev.",
        )
    if status in (401, 403):
        return UnauthorizedError(
            status,
            error,
            message,
            hint="The API key was rejected; check that it is valid and active.",
        )
    if status == 404:
        return NotFoundError(
            status, error, message, hint="Check that --base-url points at the pre.dev API."
        )
    if status == 429:
        retry_after = _retry_after(headers, now)
        return RateLimitedError(
            status, error, message, retry_after=retry_after, hint="Rate limited; try again later."
        )
    if 500 <= status < 600:
        retry_after = _retry_after(headers, now)
        return ServerError(
            status,
            error,
            message,
            retry_after=retry_after,
            hint="The pre.dev API failed; try again later or contact support.",
        )
    return HttpStatusError(status, error, message, hint="Unexpected answer from the API.")


def parse_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    truncated: bool = False,
    now: float | None = None,
    secret: Secret | None = None,
) -> Balance:
    """The balance from a complete answer, or the typed exception describing it.

    Any text quoted from the answer is redacted of `secret` (whole or in part) and cleaned.
    """
    if 200 <= status < 300:
        return parse_balance(body, truncated=truncated, secret=secret)
    raise classify_status(status, headers, body, now=now, secret=secret)


def content_length_exceeds_cap(headers: Mapping[str, str]) -> bool:
    """True when the server announces a body too big to read: skip reading it at all."""
    for name, value in headers.items():
        if name.lower() == "content-length":
            digits = value.strip()
            return digits.isdigit() and (len(digits) > 12 or int(digits) > MAX_BODY_BYTES)
    return False
