"""Issue 20, classes 5 and 7 (numbers): every input is validated before any use of it.

A byte that is not UTF-8 in the base URL (Python hands it over surrogate-escaped) used to
reach the cache's file naming before the URL was checked: "internal error", exit 3. Fullwidth
digits (U+FF15 U+FF10, "50") used to be taken as numbers, because `int()` accepts any Unicode digit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest

from .conftest import ACTION_STEP, CLI, RawServer, Run, http_response, replying

OK = http_response(200, json.dumps({"success": True, "creditsRemaining": 450}).encode())
#: Every entry point, as (module, arguments before the case's own).
ENTRIES = {
    "text": (CLI, ["--format", "text"]),
    "json": (CLI, ["--format", "json"]),
    "github": (CLI, ["--format", "github"]),
    "pre-commit": (CLI, ["--preset", "pre-commit"]),
    "action-step": (ACTION_STEP, []),
}


def _one_line_usage_error(result: Run, entry: str) -> None:
    """Exit 2 and one line: on stderr, or as the one ::error annotation of the github format."""
    assert result.code == 2, (result.stdout, result.stderr)
    if entry in ("github", "action-step"):
        errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
        assert len(errors) == 1, result.stdout
        assert "status=error" in result.files["GITHUB_OUTPUT"]
    else:
        assert len(result.stderr.splitlines()) == 1, result.stderr


BAD_URLS = {
    "non-utf8-byte": os.fsdecode(b"https://api.pre.dev/\xff"),
    "non-utf8-host": os.fsdecode(b"https://api\xfe.pre.dev"),
    "control-char": "https://api.pre.dev/\x1b[31m",
}


@pytest.mark.parametrize("url", sorted(BAD_URLS))
@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_bad_byte_in_the_base_url_is_a_usage_error_before_any_use(
    entry: str, how: str, url: str, run_cli: Callable[..., Run]
) -> None:
    module, args = ENTRIES[entry]
    value = BAD_URLS[url]
    env: dict[str, str | None] = {}
    if how == "env":
        env["PREDEV_BASE_URL"] = value
    elif module == ACTION_STEP:
        env["INPUT_BASE_URL"] = value
    else:
        args = [*args, "--base-url", value]
    result = run_cli(*args, "--cache-ttl", "300", env=env, module=module, bound=30)
    _one_line_usage_error(result, entry)


#: Digits other than ASCII that `int()` and `float()` accept.
NOT_ASCII = {
    "fullwidth": "\uff15\uff10",
    "arabic-indic": "\u0665\u0660",
    "devanagari": "\u096b\u0966",
    "mixed": "5\uff10",
}
FLAGS = {
    "--min-credits": "INPUT_MIN_CREDITS",
    "--warn-below": "INPUT_WARN_BELOW",
    "--timeout": "INPUT_TIMEOUT",
    "--retries": "INPUT_RETRIES",
    "--deadline": None,
    "--cache-ttl": None,
}


#: Every flag through every entry point; through the Action's step only those it has inputs for.
NUMBER_CASES = [
    (entry, flag)
    for entry in sorted(ENTRIES)
    for flag in sorted(FLAGS)
    if FLAGS[flag] is not None or ENTRIES[entry][0] != ACTION_STEP
]


@pytest.mark.parametrize("digits", sorted(NOT_ASCII))
@pytest.mark.parametrize(("entry", "flag"), NUMBER_CASES)
def test_numbers_are_ascii_digits_only(
    entry: str,
    flag: str,
    digits: str,
    serve: Callable[..., RawServer],
    run_cli: Callable[..., Run],
) -> None:
    module, args = ENTRIES[entry]
    env: dict[str, str | None] = {"PREDEV_BASE_URL": serve(replying(OK)).url}
    input_name = FLAGS[flag]
    if module == ACTION_STEP and input_name is not None:
        env[input_name] = NOT_ASCII[digits]
    else:
        args = [*args, f"{flag}={NOT_ASCII[digits]}"]
    result = run_cli(*args, env=env, module=module, bound=30)
    _one_line_usage_error(result, entry)


def test_ascii_digits_still_work(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    url = serve(replying(OK)).url
    result = run_cli("--base-url", url, "--min-credits", " 50 ", "--timeout", "2.5", bound=30)
    assert result.code == 0, result.stderr
