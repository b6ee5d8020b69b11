"""The key's wrapper: it keeps the key out of reprs, f-strings, logs and pickles.

The raw value leaves a `Secret` in one place only: `reveal()`, called by the request builder
(`protocol.build_request`) and nowhere else (tests/core/test_secret_paths.py checks). Everything
else that needs the key works through the wrapper: `redact(text)` for redactors (the one way a
redactor uses the raw value), `digest(...)` for file names and registry keys, `problem()` for
validation.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import NoReturn


class Secret:
    """Holds the API key; only `reveal()` gives it back, and only the request builder calls it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw key, for the Authorization header (`protocol.build_request`) only."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` without the key or any run of 8+ of its characters (see `sanitize.redact`)."""
        from .sanitize import redact as redact_text

        return redact_text(text, self._value)

    def digest(self, *context: str, salt: bytes | None = None) -> str:
        """A one-way hex digest of `context` and the key: SHA-256, or HMAC-SHA-256 with `salt`.

        Each part is followed by a NUL, so ("ab", "c") and ("a", "bc") differ.
        """
        data = b"".join(part.encode("utf-8") + b"\0" for part in (*context, self._value))
        if salt is None:
            import hashlib

            return hashlib.sha256(data).hexdigest()
        import hmac

        return hmac.new(salt, data, "sha256").hexdigest()

    def problem(self) -> str | None:
        """Why the key cannot be sent as a Bearer token, or None (see `key_problem`)."""
        return key_problem(self._value)

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


class Secrets:
    """Every value that may be the key (each configured source): redacts them all.

    The CLI builds one before it reads any configuration, so that an error raised while
    reading it is redacted of a key pasted in the wrong place.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        self._secrets: list[Secret] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Secret) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        """`text` without any of the keys or any 8-character run of one; repeated until stable,
        since masking one key can join the mask with another's characters."""
        while True:
            before = text
            for secret in self._secrets:
                text = secret.redact(text)
            if text == before:
                return text

    def __repr__(self) -> str:
        return f"Secrets({len(self._secrets)} x '***')"

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values are not picklable")


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


def redact(text: str, secret: Secret | Secrets | str | None) -> str:
    """Replace the key, and any run of 8 or more of its characters, with ***.

    Call it before shortening or escaping text, never after (see `sanitize`).
    """
    if isinstance(secret, str):
        from .sanitize import redact as redact_text

        return redact_text(text, secret)
    return text if secret is None else secret.redact(text)
