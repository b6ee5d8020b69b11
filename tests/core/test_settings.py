"""Where the key and base URL come from, and which URLs are refused."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from predev_integrations._cli.settings import base_url_setting, load_api_key
from predev_integrations._core.secret import Secret, redact
from predev_integrations._core.urls import normalize_base_url
from predev_integrations.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://api.pre.dev", "https://api.pre.dev"),
        ("https://api.pre.dev/", "https://api.pre.dev"),
        ("  https://proxy.corp:8443/predev/ ", "https://proxy.corp:8443/predev"),
        ("HTTPS://api.pre.dev", "https://api.pre.dev"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.9.9.9", "http://127.9.9.9"),
        ("http://localhost:1234", "http://localhost:1234"),
        ("http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_accepted_base_urls(raw: str, expected: str) -> None:
    assert normalize_base_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("http://api.pre.dev", "unencrypted"),
        ("http://10.0.0.5:8080", "unencrypted"),
        ("http://localhost.evil.com", "unencrypted"),
        ("http://api.localhost", "unencrypted"),
        ("http://[::ffff:127.0.0.1]", "unencrypted"),
        ("http://128.0.0.1", "unencrypted"),
        ("ftp://api.pre.dev", "must look like"),
        ("api.pre.dev", "must look like"),
        ("https://", "must look like"),
        ("", "empty"),
        ("https://user:pw@api.pre.dev", "credentials"),
        ("https://api.pre.dev?x=1", "query"),
        ("https://api.pre.dev:99999", "not a valid URL"),
    ],
)
def test_refused_base_urls(raw: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        normalize_base_url(raw)


def test_base_url_precedence_flag_then_env_then_default() -> None:
    env = {"PREDEV_BASE_URL": "http://127.0.0.1:1"}
    assert base_url_setting(" https://flag.example ", env) == "https://flag.example"
    assert base_url_setting(None, env) == "http://127.0.0.1:1"
    assert base_url_setting(None, {}) == "https://api.pre.dev"
    assert base_url_setting(None, {"PREDEV_BASE_URL": ""}) == "https://api.pre.dev"


def test_key_from_default_env_var_is_stripped() -> None:
    assert load_api_key({"PREDEV_API_KEY": " abc123\n"}).reveal() == "abc123"


def test_key_from_named_env_var() -> None:
    assert load_api_key({"MY_KEY": "abc"}, api_key_env="MY_KEY").reveal() == "abc"


def test_key_from_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("file-key\n")
    assert load_api_key({}, api_key_file=str(path)).reveal() == "file-key"


@pytest.mark.parametrize(
    ("env", "name", "message"),
    [
        ({}, None, "PREDEV_API_KEY is not set"),
        ({"PREDEV_API_KEY": ""}, None, "PREDEV_API_KEY is empty"),
        ({"PREDEV_API_KEY": "  "}, None, "PREDEV_API_KEY is empty"),
        ({}, "CI_PREDEV", "CI_PREDEV is not set"),
        ({"PREDEV_API_KEY": "two words"}, None, "does not look like an API key"),
        ({"PREDEV_API_KEY": "a\x00b"}, None, "does not look like an API key"),
        ({}, "1BAD-NAME", "not a valid environment variable name"),
    ],
)
def test_key_problems_name_the_variable_and_the_fix(
    env: dict[str, str], name: str | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_api_key(env, api_key_env=name)
    assert "two words" not in str(info.value)


def test_key_problems_suggest_how_to_set_it() -> None:
    with pytest.raises(ConfigError, match=r"export PREDEV_API_KEY=\.\.\."):
        load_api_key({})


@pytest.mark.parametrize("content", ["", "\n", "two words"])
def test_bad_key_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "key"
    path.write_text(content)
    with pytest.raises(ConfigError, match="API key file"):
        load_api_key({}, api_key_file=str(path))


def test_key_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_api_key({}, api_key_file=str(path))


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the API key file"):
        load_api_key({}, api_key_file=str(tmp_path / "absent"))


def test_secret_never_renders() -> None:
    secret = Secret("pdk_live_secret")
    rendered = [repr(secret), str(secret), f"{secret}", f"{secret!r}", "{}".format(secret)]  # noqa: UP032
    for text in rendered:
        assert "pdk_live_secret" not in text
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret == Secret("pdk_live_secret")
    assert hash(secret) == hash(Secret("pdk_live_secret"))
    assert secret
    assert not Secret("")
    assert secret != "pdk_live_secret"


def test_redact_replaces_only_real_keys() -> None:
    assert redact("key abcdef leaked", Secret("abcdef")) == "key *** leaked"
    assert redact("nothing here", Secret("abcdef")) == "nothing here"
    assert redact("a b c", "b") == "a b c"  # too short to be a key: no false positives
