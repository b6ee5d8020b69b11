"""The one sanitizer: redaction before cutting, inert single lines, Markdown that stays text."""

from __future__ import annotations

import pytest

from predev_integrations._core.sanitize import (
    brief,
    clean,
    duration,
    quote,
    redact,
    safe_text,
)
from predev_integrations._github.commands import workflow_data, workflow_property
from predev_integrations._github.summary import markdown

KEY = "pdk_0123456789abcdefXYZ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {KEY} leaked", "key *** leaked"),
        (f"tail {KEY[5:]}!", "tail ***!"),  # a fragment without the prefix
        (f"head {KEY[:8]}|", "head ***|"),  # exactly 8 characters
        (f"short {KEY[:7]}|", f"short {KEY[:7]}|"),  # 7 is not a leak
        (f"{KEY[:10]} and {KEY[9:]}", "*** and ***"),
        ("nothing here", "nothing here"),
    ],
)
def test_redact_masks_the_key_and_every_fragment_of_8_or_more(text: str, expected: str) -> None:
    assert redact(text, KEY) == expected


def test_the_mask_cannot_complete_a_fragment_of_a_key_that_contains_stars() -> None:
    """Found by Hypothesis: masking "...01*" left "0000001" + "***", itself a fragment."""
    key = "0000000000000001*"
    shown = redact("0000001" + key, key)
    assert not any(key[i : i + 8] in shown for i in range(len(key) - 7))


def test_redaction_happens_before_the_cut() -> None:
    """The old order (cut to 200, then redact) printed 35 of 36 characters of the key."""
    text = "x" * (200 - len(KEY) + 1) + KEY
    assert KEY[:8] not in safe_text(text, KEY, 200)
    assert KEY[-9:-1] not in safe_text(text, KEY, 200)


def test_an_escape_that_spells_the_key_is_redacted_too() -> None:
    key = "pdk_\\x1b[31mABCDEFGH"
    assert "\\x1b[31mAB" not in safe_text("\x1b[31mABCDEFGH", key)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[32mb", "a\\x1b[32mb"),
        ("bell\x07 back\x08", "bell\\x07 back\\x08"),
        ("rtl\u202eevil\u202c", "rtl\\u202eevil\\u202c"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("two\nlines\r\n\tand\u2028more", "two lines and more"),
        ("  spaced   out  ", "spaced out"),
        ("naïve ☃ ok", "naïve ☃ ok"),
    ],
)
def test_clean_escapes_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_clean_caps_the_length() -> None:
    assert clean("y" * 500, 10) == "y" * 10 + "…"


def test_markdown_renders_as_text() -> None:
    text = markdown("<img src=x> [a](b) ![i](j) <!-- `c` *d* _e_ | & # ~")
    for markup in ("<img", "](", "<!--", "`c`", "*d*", "_e_", " | "):
        assert markup not in text
    assert "&lt;img" in text
    assert "&amp;" in text


def test_workflow_command_escaping() -> None:
    assert workflow_data("50%\r\nx") == "50%25%0D%0Ax"
    assert workflow_property("a:b,c%") == "a%3Ab%2Cc%25"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10**400, "an integer of about 401 digits"),
        (None, "null"),
        (True, "true"),
        (1.5, "1.5"),
        ("x" * 100, "'" + "x" * 40 + "…'"),
        ({"a": [1] * 10**4}, "a dict"),
    ],
)
def test_brief_names_values_in_a_few_characters(value: object, shown: str) -> None:
    assert brief(value) == shown


def test_quote_is_short_and_inert() -> None:
    assert quote("\x1b" * 100, limit=8) == "'\\x1b\\x1b…'"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(1.86202, "1.9"), (2.0, "2"), (0.05, "0.05"), (30.0, "30"), (12.6, "13")]
)
def test_durations_print_as_people_write_them(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
