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


def normalize_topup_url(raw: object, name: str = "topup_url") -> str:
    """A top-up link as given, checked: `https://` with a host, printable, within MAX_URL_TEXT.

    It is printed in LOW lines, alerts, mails and summaries, so it must be a link a person can
    safely follow (never `javascript:` or plain `http://`). ConfigError names `name`.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{name} must be an https:// link, e.g. {ENTERPRISE_TOP_UP_URL}.")
    value = raw.strip()
    shown = quote(value, limit=100)
    problem = url_text_problem(value)
    if problem is None and any(ch.isspace() for ch in value):
        problem = "contains spaces"
    if problem is not None:
        raise ConfigError(f"{name} {shown} {problem}.")
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        host = ""
    if parts.scheme.lower() != "https" or not host or host_problem(host) is not None:
        raise ConfigError(f"{name} {shown} must be an https:// link, e.g. {ENTERPRISE_TOP_UP_URL}.")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{name} must not contain credentials.")
    return value
