"""Base-URL rules: HTTPS everywhere, plain HTTP only to loopback.

Parsing happens only before a request: the CLI imports this module on a cache hit too, so
urllib.parse and ipaddress load inside the functions that need them.
"""

from __future__ import annotations

from ..errors import ConfigError
from .defaults import BASE_URL, ENTERPRISE_TOP_UP_URL
from .sanitize import quote, safe_text

DEFAULT_BASE_URL = BASE_URL
ENDPOINT_PATH = "/credits-balance"


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1: the same answer on every Python.

    IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is not loopback here: Python 3.13's `ipaddress`
    says it is and 3.10-3.12 say it is not, and where the key may travel in clear text must
    not depend on the interpreter. Refusing it costs nothing: `127.0.0.1` reaches the same host.
    """
    host = host.strip("[]").lower()
    if host == "localhost":  # not *.localhost: a resolver may send those anywhere
        return True
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return False
    return address.is_loopback


def host_problem(host: str) -> str | None:
    """Why `host` cannot be connected to, or None: empty labels (`a..b`), over-long names, or
    characters IDNA refuses (`☃.net`). Checked here so httpx never raises on it later."""
    if host.startswith("[") or ":" in host:
        return None  # an IPv6 literal; urlsplit has already parsed it
    name = host.removesuffix(".")
    if not name.isascii():
        import idna  # httpx's own dependency, so the check matches what httpx will do

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return "not a valid internationalised domain name"
    labels = name.split(".")
    if len(name) > 253 or any(not 0 < len(label) <= 63 for label in labels):
        return "empty or over-long label"
    if not all(label.replace("-", "").replace("_", "").isalnum() for label in labels):
        return "characters not allowed in a host name"
    return None


#: Longer than any base URL anyone means; browsers cut URLs at about this length.
MAX_URL_TEXT = 2048


def url_text_problem(text: str) -> str | None:
    """Why `text` cannot even be a URL, or None; cheap, with no imports (a cache hit runs it).

    A byte that is not UTF-8 (Python hands it over surrogate-escaped), a control or other
    non-printable character, or an absurd length: such text must not reach a file name or a
    hash before `normalize_base_url` refuses it.
    """
    if len(text) > MAX_URL_TEXT:
        return f"is longer than {MAX_URL_TEXT} characters"
    if not text.isprintable():
        return "contains control characters or bytes that are not UTF-8 text"
    return None


def normalize_base_url(raw: str) -> str:
    """Validate a base URL and return it without a trailing slash.

    Refused: other schemes, credentials in the URL, query/fragment, and `http://` to anything
    but 127.0.0.0/8, ::1 or localhost (the key would cross the network in clear text).
    """
    value = raw.strip()
    if not value:
        raise ConfigError("The base URL is empty; omit it to use https://api.pre.dev.")
    shown = quote(value, limit=100)
    problem = url_text_problem(value)
    if problem is not None:
        raise ConfigError(f"The base URL {shown} {problem}.")
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(
            f"The base URL {shown} is not a valid URL ({safe_text(str(exc), limit=80)})."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ConfigError(
            f"The base URL {shown} must look like https://host[:port][/path] "
            "(e.g. https://api.pre.dev)."
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError("The base URL must not contain credentials; pass the key separately.")
    if parts.query or parts.fragment:
        raise ConfigError(f"The base URL {shown} must not have a query or fragment.")
    problem = host_problem(host)
    if problem is not None:
        raise ConfigError(f"The base URL {shown} has an invalid host name ({problem}).")
    if scheme == "http" and not is_loopback_host(host):
        raise ConfigError(
            f"Refusing plain http:// to {host}: the API key would travel unencrypted. "
            "Use https://, or http:// only to 127.0.0.1, ::1 or localhost."
        )
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def endpoint_url(base_url: str) -> str:
    return base_url + ENDPOINT_PATH


#: Characters no top-up link holds raw, wherever it is printed: each can end a quoted string
#: (`"`, `'`, backtick), open an expression or a template (`$`, `{`, `}`), escape (`\\`), open
#: a tag (`<`, `>`) or split a line or an argument (whitespace). `normalize_topup_url`
#: %-encodes them, but refuses a backslash and any whitespace other than a space (neither has
#: one encoding a browser would agree with), so every message, output and summary that
#: carries the link is safe inside a JSON string, a YAML or shell double-quoted string, a
#: Jinja template or Markdown.
LINK_UNSAFE = frozenset("\"'`{}$\\<>") | frozenset(" \t\n\r\v\f")
#: What a link keeps raw after its host: RFC 3986's unreserved and reserved characters and `%`,
#: less `$` and `'` (reserved, but see LINK_UNSAFE) and `[`, `]` (valid only around an IPv6
#: host). Everything else is %-encoded as UTF-8, as a browser sends it.
_LINK_KEEPS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#@!&()*+,;=%"
)


def encode_link(text: str) -> str:
    """`text` with every character outside `_LINK_KEEPS` %-encoded (UTF-8).

    Idempotent (`%` is kept, and nothing it writes is encoded again). Lossless for the part of
    a URL after its host: the characters a URL cannot hold raw there (space, `"`, `<`, `>`,
    backtick, `{`, `}`, `|`, `^`, `[`, `]`, non-ASCII) are the ones a browser encodes itself;
    `$` and `'` (%24, %27) are decoded to the same path or value by web servers.
    """
    if all(ch in _LINK_KEEPS for ch in text):
        return text
    return "".join(
        ch if ch in _LINK_KEEPS else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "replace"))
        for ch in text
    )


def _refused_character(value: str) -> str | None:
    """Why `value` cannot be a top-up link however it is encoded, naming the character: a
    backslash (browsers read it as `/`, servers as `%5C`: no one encoding means the link), or
    a character that does not print (a browser drops tabs and line breaks from a link; nobody
    means the rest)."""
    if "\\" in value:
        return "contains a backslash (\\); write / or %5C instead"
    for ch in value:
        if not ch.isprintable():
            if ch in "\n\r\v\f\x85\u2028\u2029":
                what = "a line break"
            elif ch == "\t":
                what = "a tab"
            elif "\udc80" <= ch <= "\udcff":
                what = "a byte that is not UTF-8 text"
            else:
                what = "a character that does not print"
            code = ord(ch) & 0xFF if "\udc80" <= ch <= "\udcff" else ord(ch)
            shown = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
            shown = shown if code < 0x10000 else f"\\U{code:08x}"
            return f"contains {what} ({shown})"
    return None


def normalize_topup_url(raw: object, name: str = "topup_url") -> str:
    """A top-up link, checked and made inert: `https://` with a host, no credentials, and every
    character of LINK_UNSAFE (and whatever else a URL cannot hold raw) %-encoded; an IDN host
    is written in its ASCII form. A backslash or a control character is refused.

    It is printed in LOW lines, alerts, mails, step outputs and summaries, pasted into JSON,
    YAML, shell strings and templates, so it must be a link a person can safely follow (never
    `javascript:` or plain `http://`) that no such paste can break. Every shell (the CLI's flag
    and config file, the Action's input, the Airflow connection's extra) reads it here, so all
    of them carry the same form. ConfigError names `name`; idempotent.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{name} must be an https:// link, e.g. {ENTERPRISE_TOP_UP_URL}.")
    value = raw.strip()
    shown = quote(value, limit=100)
    problem = _refused_character(value)
    if problem is None and len(value) > MAX_URL_TEXT:
        problem = f"is longer than {MAX_URL_TEXT} characters"
    if problem is not None:
        raise ConfigError(f"{name} {shown} {problem}.")
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        scheme, netloc, host = parts.scheme, parts.netloc, parts.hostname or ""
        _ = parts.port
    except ValueError:
        scheme, netloc, host = "", "", ""
    if scheme.lower() != "https" or not host or host_problem(host) is not None:
        raise ConfigError(f"{name} {shown} must be an https:// link, e.g. {ENTERPRISE_TOP_UP_URL}.")
    if "@" in netloc:
        raise ConfigError(f"{name} must not contain credentials.")
    rest = value[len(scheme) + 3 + len(netloc) :]  # after `https://` and the host
    if not netloc.isascii():  # host_problem has checked that IDNA takes it
        import idna

        port = netloc[len(netloc.rsplit(":", 1)[0]) :] if parts.port is not None else ""
        dot = "." if host.endswith(".") else ""
        netloc = idna.encode(host.removesuffix("."), uts46=True).decode("ascii") + dot + port
    link = f"https://{netloc}{encode_link(rest)}"
    if len(link) > MAX_URL_TEXT:
        raise ConfigError(f"{name} {shown} is longer than {MAX_URL_TEXT} characters once encoded.")
    return link
