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
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Protocol, TypeVar

    class _Redactor(Protocol):
        def redact(self, text: str) -> str: ...

    _E = TypeVar("_E", bound=BaseException)

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


def detach(error: _E, redactor: _Redactor | None = None) -> _E:
    """`error` on its own: no `__cause__` or `__context__`, its text redacted by `redactor`.

    `raise X from None` only hides the exception X was raised during: `__context__` still holds
    it, with its text and attributes (an httpx error quoting a header, a JSONDecodeError holding
    the whole body), and error trackers that walk the chain print it. Re-raise the result with
    a bare `raise` in its own handler (re-raising the exception being handled links nothing),
    or let `detached_errors` do it on the way out of a block.
    """
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    if redactor is not None:
        error.args = tuple(redactor.redact(a) if isinstance(a, str) else a for a in error.args)
    return error


class detached_errors:
    """Every `PreDevError` leaving the block is `detach`ed, redacted by `redactor` if given.

    The public entry points of the clients and the Airflow hook run inside one, so no error
    they raise links to the outside text it was raised during. `redactor` may be set later.
    """

    def __init__(self, redactor: _Redactor | None = None) -> None:
        self.redactor = redactor

    def __enter__(self) -> detached_errors:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """The error goes on as it is: nothing new is raised, so nothing is linked to it."""
        if isinstance(error, PreDevError):
            detach(error, self.redactor)
