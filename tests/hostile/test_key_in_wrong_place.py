"""Issue 20, class 1: the key pasted where a setting belongs is redacted from every byte we
write, even when the error is raised while the configuration is read, before the key loads.

The key is redacted against every configured source: `$PREDEV_API_KEY`, the variable named by
`--api-key-env`, and the content of `--api-key-file`. `run_cli` checks stdout, stderr,
$GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and the cache directory (where the crash log goes) for
the key and for every 8-character fragment of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ACTION_STEP, Run

#: Where the key is pasted by mistake -> (CLI flags, Action inputs or None) for that mistake.
#: `{key}` is the key, `{config}` a config file whose text is CONFIG_TEXT[place].
PLACES: dict[str, tuple[list[str], dict[str, str] | None]] = {
    "config-value": (["--config", "{config}"], {"INPUT_CONFIG": "{config}"}),
    "config-key": (["--config", "{config}"], {"INPUT_CONFIG": "{config}"}),
    "config-path": (["--config", "{key}"], {"INPUT_CONFIG": "{key}"}),
    "base-url": (["--base-url", "{key}"], {"INPUT_BASE_URL": "{key}"}),
    "min-credits": (["--min-credits", "{key}"], {"INPUT_MIN_CREDITS": "{key}"}),
    "alert-below": (["--alert-below", "{key}"], None),
    "alert-rearm-above": (["--alert-below", "5", "--alert-rearm-above", "{key}"], None),
    "alert-runway": (["--alert-runway", "{key}"], None),
    "topup-url": (["--topup-url", "{key}"], None),
    "topup-url-host": (["--topup-url", "https://{key}/"], None),
    "config-topup-url": (["--config", "{config}"], None),
    "config-alert-below": (["--config", "{config}"], None),
    "api-key-env": (["--api-key-env", "{key}"], None),  # not an Action input
    "api-key-file": (["--api-key-file", "{key}"], None),
}
CONFIG_TEXT = {
    "config-value": "min_credits: {quoted}\n",
    "config-key": "{quoted}: 5\n",
    "config-topup-url": "topup_url: {quoted}\n",
    "config-alert-below": "alert_below: {quoted}\n",
}
#: Where the real key is configured: (extra flags, extra environment).
SOURCES: dict[str, tuple[list[str], dict[str, str | None]]] = {
    "env": ([], {}),
    "named-env": (["--api-key-env", "MY_PREDEV_KEY"], {"MY_PREDEV_KEY": "{key}"}),
    "key-file": (["--api-key-file", "{keyfile}"], {}),
}


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _values(tmp_path: Path, key: str, place: str) -> dict[str, str]:
    config = tmp_path / "config.yml"
    config.write_text(CONFIG_TEXT.get(place, "").replace("{quoted}", json.dumps(key)))
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(key + "\n")
    return {"key": key, "config": str(config), "keyfile": str(keyfile)}


def _assert_one_clean_error(result: Run, fmt: str) -> None:
    assert result.code == 2, (result.stdout, result.stderr)
    if fmt == "text":
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
    if fmt == "github":
        assert "status=error" in result.files["GITHUB_OUTPUT"]


#: Every place with every source, except a key flag next to the other key flag: the two exclude
#: each other, a usage error that quotes neither.
CASES = [
    (place, source)
    for place in sorted(PLACES)
    for source in sorted(SOURCES)
    if source == "env" or not place.startswith("api-key-")
]


@pytest.mark.parametrize(("place", "source"), CASES)
@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_key_pasted_into_a_setting_never_shows(
    fmt: str,
    place: str,
    source: str,
    tmp_path: Path,
    hostile_key: str,
    run_cli: Callable[..., Run],
) -> None:
    flags, _ = PLACES[place]
    source_flags, source_env = SOURCES[source]
    values = _values(tmp_path, hostile_key, place)
    env: dict[str, str | None] = {k: _fill(v, values) for k, v in source_env.items() if v}
    if source != "env":
        env["PREDEV_API_KEY"] = None  # the key is known only through the chosen source
    args = [_fill(arg, values) for arg in [*flags, *source_flags]]
    result = run_cli(*args, "--format", fmt, env=env, bound=30)
    _assert_one_clean_error(result, fmt)


@pytest.mark.parametrize("place", sorted(p for p, (_, inputs) in PLACES.items() if inputs))
def test_a_key_pasted_into_an_action_input_never_shows(
    place: str, tmp_path: Path, hostile_key: str, run_cli: Callable[..., Run]
) -> None:
    """The Action's check step: the key arrives as PREDEV_API_KEY, the mistake as an input."""
    _, inputs = PLACES[place]
    assert inputs is not None
    values = _values(tmp_path, hostile_key, place)
    env: dict[str, str | None] = {name: _fill(value, values) for name, value in inputs.items()}
    result = run_cli(env=env, module=ACTION_STEP, bound=30)
    _assert_one_clean_error(result, "github")
    assert "::error" in result.stdout
