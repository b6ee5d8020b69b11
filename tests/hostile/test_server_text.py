"""Class 4: server text reaches no terminal, annotation or summary raw."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .conftest import RawServer, Run, http_response, replying

FAKE_OK = "\x1b[2K\r\x1b[32mpre.dev credits: 999 remaining (floor 1): ok.\x1b[0m\x07\x08\x08"
BIDI = "\u202eko .gninrae\u202c\u2066\u200b"
MARKUP = "<img src=x onerror=alert(1)> [click](https://evil.example) <!-- ![i](x) | *b* `c`"
CONTROL = ["\x1b", "\x07", "\x08", "\r", "\u202e", "\u202c", "\u2066", "\u200b", "\x00"]


@pytest.fixture
def painter(serve: Callable[..., RawServer]) -> RawServer:
    body = json.dumps({"error": FAKE_OK + BIDI, "message": MARKUP + "\nline two\u2028three"})
    return serve(replying(http_response(401, body.encode())))


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_control_and_bidi_characters_are_never_printed_raw(
    fmt: str, painter: RawServer, run_cli: Callable[..., Run]
) -> None:
    result = run_cli("--base-url", painter.url, "--format", fmt, bound=30)
    assert result.code == 3
    printed = result.stdout + result.stderr + "".join(result.files.values())
    for char in CONTROL:
        assert char not in printed, repr(char)
    assert "\\x1b" in printed  # shown escaped, so the reader sees something is off
    assert len(result.stderr.splitlines()) <= 1
    for line in result.stdout.splitlines():  # nothing forges a second workflow command
        assert not line.startswith("::") or line.startswith(("::error ", "::warning "))


def test_the_step_summary_gets_no_html_links_images_or_comments(
    painter: RawServer, run_cli: Callable[..., Run]
) -> None:
    result = run_cli("--base-url", painter.url, "--format", "github", bound=30)
    summary = result.files["GITHUB_STEP_SUMMARY"]
    for markup in ("<img", "<!--", "](", "![", "`c`", "*b*"):
        assert markup not in summary
    assert "&lt;img" in summary
    assert "| Balance |" in summary  # our own table is intact
