"""The alert's one message and the top-up link rule behind it: every link that passes is
%-encoded into a form no JSON string, shell or YAML quote, template or Markdown can trip on,
and the message carries it (and our words) without any such character."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core.alert import BALANCE_RULE, RUNWAY_RULE, message
from predev_integrations._core.defaults import ENTERPRISE_TOP_UP_URL, TOP_UP_URL
from predev_integrations._core.urls import LINK_UNSAFE, normalize_topup_url
from predev_integrations.errors import ConfigError
from tests.action.alert_paths import LINK_TAILS, WORST_ENCODED, WORST_LINK

#: What no message holds: the link's unsafe characters, and `|`, `[`, `]` (Markdown tables
#: and links); whitespace is checked apart (single spaces between words only).
NEVER = (LINK_UNSAFE | frozenset("|[]")) - {" "}
RUNWAY = "burning ~240/day, floor in ~13 hours (Thu 3 Dec 14:00 UTC)"


def crossing(**changes: object) -> str:
    fields: dict[str, object] = {
        "fired": True,
        "rule": BALANCE_RULE,
        "balance": 180,
        "below": 200.0,
        "rearm_above": 220.0,
        "runway_below_seconds": None,
        "runway": RUNWAY,
        "link": TOP_UP_URL,
    }
    fields.update(changes)
    return message(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {},
            f"pre.dev credits low: 180 remaining, below the alert level 200; {RUNWAY}. "
            f"Top up at {TOP_UP_URL}",
        ),
        (
            {"rule": RUNWAY_RULE, "below": None, "runway_below_seconds": 5 * 3_600.0},
            f"pre.dev credits running out: 180 remaining; {RUNWAY}, within the alert runway 5h. "
            f"Top up at {TOP_UP_URL}",
        ),
        (
            {"fired": False, "rule": None, "balance": 240.0},
            f"pre.dev credits recovered: 240 remaining, at or above 220 again; {RUNWAY}.",
        ),
        (
            {"fired": False, "rearm_above": None, "runway": "not spending"},
            "pre.dev credits recovered: 180 remaining; not spending.",
        ),
        (
            {"balance": 12.3456, "below": None, "runway": "runway unknown", "link": "x"},
            "pre.dev credits low: 12.35 remaining; runway unknown. Top up at x",
        ),
        (
            {"balance": float("nan"), "rule": RUNWAY_RULE, "runway_below_seconds": "5h"},
            f"pre.dev credits low: balance unknown, below the alert level 200; {RUNWAY}. "
            f"Top up at {TOP_UP_URL}",
        ),
    ],
)
def test_the_message_of_each_kind_of_crossing(changes: dict[str, object], expected: str) -> None:
    assert crossing(**changes) == expected


@pytest.mark.parametrize(
    ("raw", "link"),
    [
        (TOP_UP_URL, TOP_UP_URL),
        (f"  {ENTERPRISE_TOP_UP_URL}\n", ENTERPRISE_TOP_UP_URL),
        ('https://pre.dev/x"y}', "https://pre.dev/x%22y%7D"),  # the link
        ("https://pre.dev/a b?c=d e", "https://pre.dev/a%20b?c=d%20e"),
        ("https://pre.dev/$x'y`z<w>", "https://pre.dev/%24x%27y%60z%3Cw%3E"),
        ("https://pre.dev/%7B already%20encoded", "https://pre.dev/%7B%20already%20encoded"),
        ("https://pre.dev/(a)!*+,;=:@&?#frag", "https://pre.dev/(a)!*+,;=:@&?#frag"),
        ("HTTPS://Bücher.example:8443/ü", "https://xn--bcher-kva.example:8443/%C3%BC"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
        (WORST_LINK, WORST_ENCODED),
    ],
)
def test_a_link_is_kept_or_percent_encoded(raw: str, link: str) -> None:
    assert normalize_topup_url(raw) == link
    assert normalize_topup_url(link) == link


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("https://pre.dev/a\\b", "contains a backslash (\\); write / or %5C instead"),
        ("https://pre.dev/a\nb", "contains a line break (\\x0a)"),
        ("https://pre.dev/a\u2028b", "contains a line break (\\u2028)"),
        ("https://pre.dev/a\tb", "contains a tab (\\x09)"),
        ("https://pre.dev/\x1b]0;x\x07", "contains a character that does not print (\\x1b)"),
        ("https://pre.dev/a\u00a0b", "contains a character that does not print (\\xa0)"),
        ("https://pre.dev/a\udcffb", "contains a byte that is not UTF-8 text (\\xff)"),
        ("https://[x", "must be an https:// link"),  # urlsplit refuses it
        ("http://pre.dev/", "must be an https:// link"),
        ("https://u:p@pre.dev/", "must not contain credentials"),
        ("https://pre.dev/" + "{" * 700, "is longer than 2048 characters once encoded"),
    ],
)
def test_a_link_no_encoding_can_save_is_refused_in_one_line_naming_why(raw: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        normalize_topup_url(raw, "--topup-url")
    line = str(error.value)
    assert line.startswith("--topup-url ")
    assert says in line
    assert line.isprintable()


links = LINK_TAILS.map(lambda tail: "https://pre.dev/" + tail) | st.text(max_size=40)


def accepted(raw: str) -> str | None:
    try:
        return normalize_topup_url(raw)
    except ConfigError:
        return None


@given(links)
def test_any_accepted_link_is_inert_ascii_and_means_what_was_given(raw: str) -> None:
    link = accepted(raw)
    if link is None:
        return
    assert link.isascii()
    assert not NEVER & set(link)
    assert not any(ch.isspace() for ch in link)
    assert normalize_topup_url(link) == link  # idempotent: every shell may check it again
    given_rest, rest = raw.strip()[len("https://pre.dev") :], link[len("https://pre.dev") :]
    if raw.strip().lower().startswith("https://pre.dev/"):
        assert unquote(rest) == unquote(given_rest)  # lossless: the same path, query, fragment


@given(
    raw=links,
    fired=st.booleans(),
    rule=st.none() | st.sampled_from([BALANCE_RULE, RUNWAY_RULE]) | st.text(max_size=8),
    balance=st.none() | st.floats() | st.integers(-(10**30), 10**30),
    below=st.none() | st.floats() | st.text(max_size=5),
    rearm=st.none() | st.floats(),
    seconds=st.none() | st.floats() | st.booleans(),
    runway=st.text(max_size=80),
)
def test_any_crossing_with_any_accepted_link_is_one_inert_line_carrying_the_link_whole(
    raw: str,
    fired: bool,
    rule: str | None,
    balance: object,
    below: object,
    rearm: object,
    seconds: object,
    runway: str,
) -> None:
    """Whatever the numbers and the runway phrase (the forecast's words are someone else's to
    change), the message holds no unsafe character, and the link ends it, whole."""
    link = accepted(raw) or TOP_UP_URL
    text = message(
        fired=fired,
        rule=rule,
        balance=balance,
        below=below,
        rearm_above=rearm,
        runway_below_seconds=seconds,
        runway=runway,
        link=link,
    )
    assert not NEVER & set(text), text
    assert "  " not in text
    assert all(ch == " " or not ch.isspace() for ch in text)
    assert text.isprintable()
    if fired:
        assert text.endswith(f". Top up at {link}")
    else:
        assert link not in text or link in runway


def test_the_words_lose_what_they_must_not_hold_and_the_link_is_encoded_even_unchecked() -> None:
    text = crossing(runway='runway unknown: "{x}" $y `z` <a|b> [c] \\d', link='https://a/"b c"')
    assert text == (
        "pre.dev credits low: 180 remaining, below the alert level 200; runway unknown: x y z "
        "ab c d. Top up at https://a/%22b%20c%22"
    )
