"""The one gate for text we did not write: redact, then make it one short, inert line.

Everything a server (or a file, or a flag) controls passes through here before it reaches a
terminal, a log, an exception, a GitHub annotation or the step summary. The order matters:
the key, and every fragment of it 8 characters or longer, is removed *before* the text is
shortened or escaped, so neither a cut nor an escape can leave part of it behind; `safe_text`
redacts once more at the end in case escaping itself spelled a fragment.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Redactor(Protocol):
        """A `Secret` or `Secrets`: something that removes a key it holds from text."""

        def redact(self, text: str) -> str: ...

    #: The key to remove: its raw text, or the wrapper that holds it.
    Key = str | Redactor | None

#: Shortest run of key characters that counts as a leak (a random 8-char run is unguessable).
MIN_FRAGMENT = 8
#: What a redacted run is replaced with.
MASK = "***"
#: Default length of a quoted piece of server text.
DEFAULT_LIMIT = 200
#: Unicode categories that must never reach a terminal raw: controls (ESC, BEL, backspace),
#: format characters (bidi overrides, zero-width), surrogates, private use, unassigned, and
#: line/paragraph separators.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def redact(text: str, key: str | None) -> str:
    """`text` with the key and any run of 8+ of its consecutive characters replaced by ***.

    Every position covered by some 8-character window of the key is masked, so any fragment
    of length >= 8 (which contains such windows end to end) disappears whole. Keys shorter than
    8 characters are masked when they appear whole.
    """
    if not key or not text:
        return text
    if len(key) < MIN_FRAGMENT:
        return text.replace(key, MASK) if len(key) >= 4 else text
    windows = {key[i : i + MIN_FRAGMENT] for i in range(len(key) - MIN_FRAGMENT + 1)}
    # A key with `*` in it can form a new fragment with the mask itself ("0000001" + "***");
    # each pass that masks anything makes the text shorter, so this ends.
    while (masked := _mask_windows(text, windows)) != text:
        text = masked
    return text


def _redact_key(text: str, key: Key) -> str:
    if key is None or isinstance(key, str):
        return redact(text, key)
    return key.redact(text)


def _mask_windows(text: str, windows: set[str]) -> str:
    """One pass: every character inside an 8-character window of the key becomes part of ***."""
    masked = bytearray(len(text))
    hit = False
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i : i + MIN_FRAGMENT] in windows:
            masked[i : i + MIN_FRAGMENT] = b"\1" * MIN_FRAGMENT
            hit = True
    if not hit:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if masked[i]:
            while i < len(text) and masked[i]:
                i += 1
            out.append(MASK)
        else:
            start = i
            while i < len(text) and not masked[i]:
                i += 1
            out.append(text[start:i])
    return "".join(out)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean(text: str, limit: int = DEFAULT_LIMIT) -> str:
    """One printable line of at most `limit` characters (plus an ellipsis when cut).

    Whitespace runs (newlines included) become one space; control, format (bidi), private-use,
    unassigned and separator characters are shown escaped (`\\x1b`, `\\u202e`), never raw.
    """
    words = " ".join(text.split())
    if not (words.isascii() and words.isprintable()):
        import unicodedata  # only for text that needs it; most lines are plain ASCII

        words = "".join(
            _escape_char(ch) if unicodedata.category(ch) in _UNSAFE else ch for ch in words
        )
    if len(words) > limit:
        return words[:limit].rstrip() + "…"
    return words


def safe_text(text: str, key: Key = None, limit: int = DEFAULT_LIMIT) -> str:
    """Redact, then clean and shorten, then redact again: the form any foreign text is shown in.

    `key` is the raw key, or a `Secret`/`Secrets` that redacts it.
    """
    return _redact_key(clean(_redact_key(text, key), limit), key)


def quote(text: str, key: Key = None, limit: int = 40) -> str:
    """A short quoted rendering, for naming a bad value in an error message."""
    return f"'{safe_text(text, key, limit)}'"


def brief(value: object, limit: int = 40) -> str:
    """Name a parsed value (from YAML, JSON or a flag) in a few characters, never its repr.

    A repr of a nested or aliased structure can be huge or slow to build; a huge integer
    cannot even be turned into a string beyond 4300 digits.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 64:
            return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return quote(value, limit=limit)
    return f"a {type(value).__name__}"


def duration(seconds: float) -> str:
    """Seconds as people write them: 0.05, 1.9, 30 (never 1.86202)."""
    if seconds < 1:
        return f"{seconds:.2g}"
    if seconds < 10:
        return f"{seconds:.1f}".removesuffix(".0")
    return f"{seconds:.0f}"
