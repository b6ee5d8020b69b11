"""Exceptions, each mapped to one documented CLI exit code.

Messages are one line, never contain the API key, and say what to do next.
"""

from __future__ import annotations

EXIT_OK = 0
#: The balance is below the floor (a verdict, not an error).
EXIT_LOW = 1
EXIT_CONFIG = 2
EXIT_API = 3
#: A bug of ours: like an unreadable API, the balance could not be checked.
EXIT_INTERNAL = EXIT_API
#: (Ctrl-C is exit 130: `_cli.entry.EXIT_INTERRUPTED`, kept there so that its handler is
#: installed before anything else of ours is imported.)


class PreDevError(Exception):
    """Base of everything this package raises on purpose; `exit_code` is the CLI's for it."""

    exit_code = EXIT_API
    #: How many attempts were made before giving up; set by the retry loop.
    attempts = 1

    def describe(self) -> str:
        """The one line to show: the message, plus the attempt count when retries were spent."""
        text = str(self) or type(self).__name__
        return f"{text} (gave up after {self.attempts} attempts)" if self.attempts > 1 else text


class ConfigError(PreDevError):
    """Bad input from the user: flags, environment, config file, URL. Exit 2."""

    exit_code = EXIT_CONFIG


class ApiError(PreDevError):
    """The balance could not be read. Exit 3.

    `retryable` tells the retry policy whether another attempt may help.
    """

    retryable = False


class TransportError(ApiError):
    """Connect/read failure or timeout: nothing usable came back."""

    retryable = True


class InvalidResponseError(ApiError):
    """A 200 (or other) answer whose body is not the documented shape."""


class RedirectError(ApiError):
    """A 3xx: never followed, because following could carry the key to another host."""


class HttpStatusError(ApiError):
    """A non-2xx answer, carrying the status and the body's `error`/`message` fields."""

    def __init__(
        self,
        status: int,
        error: str | None = None,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.retry_after = retry_after
        detail = ": ".join(part for part in (error, message) if part)
        text = f"HTTP {status}" + (f" ({detail})" if detail else "")
        super().__init__(f"{text}. {hint}".strip() if hint else text)


class MissingContextError(HttpStatusError):
    """400: the key is not attached to a user or organisation."""


class UnauthorizedError(HttpStatusError):
    """401/403: the key was rejected."""


class NotFoundError(HttpStatusError):
    """404: the base URL does not point at the pre.dev API."""


class RateLimitedError(HttpStatusError):
    """429: too many requests; retried, honouring Retry-After."""

    retryable = True


class ServerError(HttpStatusError):
    """5xx: the API failed; retried."""

    retryable = True
