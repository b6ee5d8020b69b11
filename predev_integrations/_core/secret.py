"""A wrapper that keeps the API key out of reprs, f-strings, logs and pickles."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class Secret:
    """Holds the API key; only `reveal()` gives it back, and only the request builder calls it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values are not picklable; pass the connection or env var name")


#: Longest key accepted; anything longer is not a pre.dev key and would bloat every request.
MAX_KEY_LENGTH = 4096


def key_problem(value: str) -> str | None:
    """Why `value` cannot be sent as a Bearer token, or None; never quotes the value.

    Only visible ASCII is allowed: anything else would make httpx or h11 raise an error that
    quotes (an escaped form of) the header, and so the key.
    """
    if not value:
        return "is empty"
    if len(value) > MAX_KEY_LENGTH:
        return f"is longer than {MAX_KEY_LENGTH} characters"
    if not all("!" <= ch <= "~" for ch in value):
        return "contains spaces, control or non-ASCII characters"
    return None


def redact(text: str, secret: Secret | str | None) -> str:
    """Replace the key, and any run of 8 or more of its characters, with ***.

    Call it before shortening or escaping text, never after (see `sanitize`).
    """
    from .sanitize import redact as redact_text

    value = secret.reveal() if isinstance(secret, Secret) else secret
    return redact_text(text, value)
