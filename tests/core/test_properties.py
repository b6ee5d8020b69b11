"""Property tests: the functions that read untrusted input return their result or one of the
project's own errors, whatever they are given, and what they return is safe to print."""

from __future__ import annotations

import math
import string
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import predev_integrations
from predev_integrations._cli.config import parse_config
from predev_integrations._core.protocol import parse_response
from predev_integrations._core.ranges import (
    CREDITS,
    SECONDS,
    TTL,
    number_from_text,
    number_value,
    range_problem,
)
from predev_integrations._core.retry import parse_retry_after
from predev_integrations._core.sanitize import MIN_FRAGMENT, clean, redact, safe_text
from predev_integrations._core.secret import Secret
from predev_integrations._http.decoding import BoundedDecoder
from predev_integrations.errors import ApiError, ConfigError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
#: Our own words: a key that holds a run of them (Hypothesis once tried "--base-url...") cannot
#: be told apart from the message that names the flag, so such keys are not drawn.
OUR_TEXT = "".join(
    path.read_text() for path in sorted(Path(predev_integrations.__file__).parent.rglob("*.py"))
)
KEYS = st.text(KEY_CHARS, min_size=MIN_FRAGMENT, max_size=60).filter(
    lambda key: (
        not any(key[i : i + MIN_FRAGMENT] in OUR_TEXT for i in range(len(key) - MIN_FRAGMENT + 1))
    )
)
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def assert_printable_line(text: str) -> None:
    assert all(unicodedata.category(ch) not in UNSAFE for ch in text), repr(text)


def assert_no_fragment(key: str, text: str) -> None:
    for i in range(len(key) - MIN_FRAGMENT + 1):
        assert key[i : i + MIN_FRAGMENT] not in text


def _bodies(key: str) -> st.SearchStrategy[bytes]:
    """Bytes, JSON-ish documents, and documents that quote the key at any offset."""
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text()
        | st.sampled_from([10**400, -(10**400), 1e308, 2**53 + 1]),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=10,
    )
    import json

    documents = st.fixed_dictionaries(
        {},
        optional={
            "success": json_values,
            "creditsRemaining": json_values,
            "error": st.text() | json_values,
            "message": st.text(),
        },
    ).map(lambda d: json.dumps(d, allow_nan=True).encode())
    echoes = st.tuples(st.text(max_size=250), st.text(max_size=20)).map(
        lambda pad: json.dumps({"error": pad[0] + key + pad[1], "message": key}).encode()
    )
    return st.binary(max_size=300) | documents | echoes


@FAST
@given(
    key=KEYS,
    status=st.integers(min_value=100, max_value=999),
    headers=st.dictionaries(
        st.sampled_from(["Retry-After", "Location", "Content-Type", "X-Other"]),
        st.text(max_size=60),
        max_size=3,
    ),
    data=st.data(),
    truncated=st.booleans(),
)
def test_parse_response_returns_a_balance_or_a_safe_api_error(
    key: str,
    status: int,
    headers: dict[str, str],
    data: st.DataObject,
    truncated: bool,
) -> None:
    body = data.draw(_bodies(key))
    if "Location" in headers:
        headers["Location"] += key
    try:
        balance = parse_response(
            status, headers, body, truncated=truncated, now=0.0, secret=Secret(key)
        )
    except ApiError as exc:
        text = exc.describe()
        assert_printable_line(text)
        assert_no_fragment(key, text)
        assert len(text) < 1200
    else:
        assert 200 <= status < 300
        assert isinstance(balance, (int, float))
        assert not isinstance(balance, bool)
        assert math.isfinite(balance)
        assert abs(balance) <= 1e15


YAML_PIECES = st.sampled_from(
    [
        "min_credits", "warn_below", "on_error", "cache_ttl", ": ", "\n", "  ", "- ", "&a ",
        "*a", "[", "]", "{", "}", ",", "'", '"', "!!binary ", "!!python/name:os.system ",
        "1e400", "1" + "0" * 40, "-5", ".inf", ".nan", "null", "~", "fail", "warn", "? ",
        "2001-01-01", "0x1F", "0o17", "%YAML 1.1\n", "---\n", "...\n", "\t", "#", "<<: ",
    ]
)  # fmt: skip


@FAST
@given(st.lists(YAML_PIECES, max_size=30).map("".join) | st.text(max_size=200))
def test_the_config_loader_returns_valid_options_or_a_config_error(text: str) -> None:
    try:
        options = parse_config(text, "f.yml")
    except ConfigError as exc:
        message = str(exc)
    else:
        message = ""
        for name, value in options.items():
            if name == "on_error":
                assert value in ("fail", "warn")
            elif not (name == "warn_below" and value is None):
                assert range_problem(value, TTL if name == "cache_ttl" else CREDITS) is None
    assert_printable_line(message)
    assert len(message) < 400


DATES = st.builds(
    "{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(["Mon", "Fri", "Xyz"]),
    st.integers(0, 99),
    st.sampled_from(["Jan", "Dec", "Foo"]),
    st.integers(-10, 10**25),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["GMT", "+9999", "-0000", "UTC", ""]),
)


@FAST
@given(st.none() | st.text(max_size=80) | DATES | st.integers().map(str) | st.floats().map(str))
def test_retry_after_is_none_or_a_finite_non_negative_number(value: str | None) -> None:
    seconds = parse_retry_after(value, now=1_700_000_000.0)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@FAST
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_clean_gives_one_short_printable_line(text: str, limit: int) -> None:
    line = clean(text, limit)
    assert_printable_line(line)
    assert "\n" not in line
    assert "\r" not in line
    assert len(line) <= limit + 1


@FAST
@given(key=KEYS, parts=st.lists(st.text(max_size=30), max_size=6), data=st.data())
def test_redaction_leaves_no_fragment_of_the_key(
    key: str, parts: list[str], data: st.DataObject
) -> None:
    """Whole keys, fragments at any offset, and keys whose escaped form the sanitizer writes."""
    pieces: list[str] = []
    for part in parts:
        start = data.draw(st.integers(0, len(key) - 1))
        end = data.draw(st.integers(start, len(key)))
        pieces += [part, key[start:end]]
    text = "".join(pieces) + data.draw(st.sampled_from(["", key, key.upper()]))
    assert_no_fragment(key, redact(text, key))
    limit = data.draw(st.integers(1, 300))
    shown = safe_text(text, key, limit)
    assert_no_fragment(key, shown)
    assert_printable_line(shown)


@FAST
@given(raw=st.binary(max_size=400), encoding=st.sampled_from(["gzip", "deflate", "gzip, gzip"]))
def test_the_decoder_returns_capped_bytes_or_an_api_error(raw: bytes, encoding: str) -> None:
    decoder = BoundedDecoder({"Content-Encoding": encoding}, cap=1024)
    try:
        out = b"".join(decoder.feed(raw[i : i + 37]) for i in range(0, len(raw), 37))
    except ApiError:
        return
    assert len(out) <= 1025


@FAST
@given(st.text(string.digits + "eE+-.naifINF_x ", max_size=50) | st.text(max_size=50))
def test_flag_numbers_are_in_range_or_refused(text: str) -> None:
    try:
        value = number_from_text(text, SECONDS)
    except ValueError as exc:
        assert_printable_line(str(exc))
    else:
        assert range_problem(value, SECONDS) is None


@FAST
@given(
    value=st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(string.digits + "eE+-.naifINF_x ", max_size=50)
    | st.text(max_size=50)
    | st.lists(st.integers(), max_size=3),
    text_ok=st.booleans(),
)
def test_a_number_handed_to_any_door_is_in_range_or_refused_naming_it(
    value: object, text_ok: bool
) -> None:
    """The one rule every entry point asks (CLI config, Airflow operator, sensor, triggers,
    connections): a number within range comes back, anything else is one line naming it."""
    try:
        number = number_value(value, "min_credits", CREDITS, text_ok=text_ok)
    except ConfigError as exc:
        message = str(exc)
    else:
        assert range_problem(number, CREDITS) is None
        assert text_ok or not isinstance(value, str)  # text only where templates render
        return
    assert message.startswith("min_credits must be ")
    assert_printable_line(message)
