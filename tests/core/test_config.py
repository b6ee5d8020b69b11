"""`.predev-credits.yml`: validated, named errors, and its place between defaults and flags."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from predev_integrations._cli.config import find_config, load_config
from predev_integrations._cli.main import build_parser, resolve_options
from predev_integrations.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".predev-credits.yml"
    path.write_text(text)
    return path


def test_full_file_is_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, "min_credits: 50\nwarn_below: 120.5\non_error: warn\ncache_ttl: 300\n")
    assert load_config(path) == {
        "min_credits": 50,
        "warn_below": 120.5,
        "on_error": "warn",
        "cache_ttl": 300,
    }


@pytest.mark.parametrize("text", ["", "# only a comment\n", "warn_below: null\n"])
def test_empty_or_null_values_are_fine(tmp_path: Path, text: str) -> None:
    assert load_config(write(tmp_path, text)) in ({}, {"warn_below": None})


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("min_credit: 5\n", "unknown key 'min_credit'"),
        ("min_credits: '5'\n", "min_credits must be a number"),
        ("min_credits: -1\n", "min_credits must be a number >= 0"),
        ("min_credits: true\n", "min_credits must be a number"),
        ("cache_ttl: .inf\n", "cache_ttl must be a finite number"),
        ("warn_below: [1]\n", "warn_below must be a number"),
        ("on_error: ignore\n", "on_error must be fail or warn"),
        ("- min_credits\n", "must be a mapping"),
        ("min_credits: [\n", "not valid YAML at line"),
    ],
)
def test_bad_files_name_the_file_and_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=names.replace("[", r"\[")) as info:
        load_config(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"min_credits: \xff\n"), "not UTF-8 text"),
        (lambda p: p.mkdir(), "Cannot read config file"),
    ],
)
def test_unreadable_files_are_configuration_errors(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / ".predev-credits.yml"
    make(path)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_find_config_prefers_explicit_path(tmp_path: Path) -> None:
    other = tmp_path / "other.yml"
    other.write_text("min_credits: 1\n")
    write(tmp_path, "min_credits: 2\n")
    assert find_config(str(other), cwd=tmp_path) == str(other)
    assert find_config(None, cwd=tmp_path) == str(tmp_path / ".predev-credits.yml")
    assert find_config(None, cwd=tmp_path / "nowhere") is None
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(str(tmp_path / "absent.yml"))


def options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str) -> dict[str, object]:
    monkeypatch.chdir(tmp_path)
    return resolve_options(build_parser().parse_args(list(argv)))


def test_precedence_defaults_preset_file_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert options(tmp_path, monkeypatch)["cache_ttl"] == 0
    assert options(tmp_path, monkeypatch, "--preset", "pre-commit")["cache_ttl"] == 300
    write(tmp_path, "cache_ttl: 60\nmin_credits: 40\n")
    merged = options(tmp_path, monkeypatch, "--preset", "pre-commit")
    assert (merged["cache_ttl"], merged["min_credits"], merged["on_error"]) == (60, 40, "warn")
    merged = options(tmp_path, monkeypatch, "--preset", "pre-commit", "--cache-ttl", "5")
    assert merged["cache_ttl"] == 5


def test_warn_below_under_the_floor_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="would never warn"):
        options(tmp_path, monkeypatch, "--min-credits", "50", "--warn-below", "10")


@pytest.mark.parametrize(
    ("argv", "deadline"),
    [
        ([], 30.0),
        (["--timeout", "45"], 45.0),
        (["--timeout", "45", "--deadline", "20"], 20.0),
        (["--preset", "pre-commit", "--timeout", "8"], 8.0),
        (["--preset", "pre-commit"], 5.0),
    ],
)
def test_a_long_timeout_lifts_the_default_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], deadline: float
) -> None:
    assert options(tmp_path, monkeypatch, *argv)["deadline"] == deadline
