"""The shared `.predev-credits.yml`: one floor for a repo's Action, hook and local runs.

yaml is imported only when a file is actually read.
"""

from __future__ import annotations

import os

from .._core.defaults import POLICIES
from .._core.ranges import CREDITS, TTL, number_value, risk_value
from .._core.sanitize import brief, safe_text
from ..errors import ConfigError
from .files import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONFIG_FILENAME = ".predev-credits.yml"
#: A config file holds a few short keys; anything this big is not one.
MAX_CONFIG_BYTES = 64 * 1024
MAX_DEPTH = 4
MAX_EVENTS = 1000

#: key -> (kind, description) of what the file may hold.
CONFIG_KEYS = {
    "min_credits": "a number >= 0",
    "warn_below": "a number >= 0, or null",
    "on_error": "fail or warn",
    "cache_ttl": "a number of seconds >= 0",
    "min_runway": "a duration such as 90m, 36h or 7d, or null",
    "warn_runway": "a duration such as 90m, 36h or 7d, or null",
    "runway_risk": "a chance such as 1-in-10, 10% or 0.1",
    "alert_below": "a number >= 0, or null",
    "alert_runway": "a duration such as 90m, 36h or 7d, or null",
    "alert_rearm_above": "a number >= 0, or null",
    "topup_url": "an https:// link, or null",
    "need": 'credits (600) or specs by kind ("12 deep, 3 fast"), or null',
    "spec_cost": 'credits per spec by kind ("deep=40,fast=8"), or null',
}
#: Keys whose null means "none" (the default).
_NULLABLE = frozenset(k for k, kind in CONFIG_KEYS.items() if kind.endswith(", or null"))
#: Keys that hold a duration.
_DURATIONS = ("min_runway", "warn_runway", "alert_runway")


def find_config(explicit: str | None, cwd: str | os.PathLike[str] | None = None) -> str | None:
    """`--config PATH` (must exist), else `.predev-credits.yml` in the working directory."""
    if explicit is not None:
        shown = safe_text(explicit, limit=200)
        if os.path.isdir(explicit):
            raise ConfigError(f"Config path {shown} is a directory; name the file in it.")
        if not os.path.exists(explicit):
            raise ConfigError(f"Config file {shown} does not exist; fix --config or remove it.")
        return explicit
    candidate = os.path.join(os.getcwd() if cwd is None else cwd, CONFIG_FILENAME)
    return candidate if os.path.isfile(candidate) else None


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a config file; every problem names the file and the key.

    The file is read without blocking (a FIFO or device is refused) and at most
    MAX_CONFIG_BYTES of it; see `parse_config` for what its text may hold.
    """
    shown = safe_text(str(path), limit=200)
    try:
        raw, _ = read_regular(path, MAX_CONFIG_BYTES)
        text = raw.decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {shown}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {shown} is not UTF-8 text.") from None
    return parse_config(text, shown)


def _check_events(text: str, source: str, yaml: Any, loader: Any) -> None:
    """Refuse aliases (a 400-byte alias bomb expands to gigabytes) and deep nesting.

    Parsing events is linear in the text; only after this pass is anything constructed.
    """
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=loader)):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1
            raise ConfigError(
                f"Config file {source} uses a YAML anchor or alias at line {line}; "
                "write the values out."
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(f"Config file {source} is nested too deeply.")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        if count > MAX_EVENTS:
            raise ConfigError(f"Config file {source} has too many entries.")


def parse_config(text: str, source: str) -> dict[str, Any]:
    """Validate the text of a config file; `source` (already safe to print) names it.

    Raises ConfigError for anything but a mapping of the known keys to valid values.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_events(text, source, yaml, loader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"Config file {source} is not valid YAML{where}.") from None
    except (ValueError, OverflowError, RecursionError):  # e.g. a timestamp out of range
        raise ConfigError(f"Config file {source} holds a value YAML cannot represent.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"Config file {source} must be a mapping of keys ({', '.join(CONFIG_KEYS)})."
        )
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in CONFIG_KEYS:
            raise ConfigError(
                f"Config file {source}: unknown key {brief(key)}; allowed keys are "
                f"{', '.join(CONFIG_KEYS)}."
            )
        result[key] = _check(source, key, value)
    return result


def _check(source: str, key: str, value: object) -> object:
    what = f"Config file {source}: {key}"
    if key in _NULLABLE and value is None:
        return None
    if key in ("need", "spec_cost"):
        from .._core.need import need_value, spec_cost_value

        if key == "spec_cost":
            return spec_cost_value(value, what)
        need_value(value, what)
        return value  # checked; priced with the spec_cost the run settles on
    if key == "topup_url":
        from .._core.urls import normalize_topup_url

        return normalize_topup_url(value, what)
    if key in _DURATIONS:
        from .._core.forecast import parse_duration

        try:
            return parse_duration(value)  # type: ignore[arg-type]  # it refuses non-text itself
        except ValueError as exc:
            raise ConfigError(f"{what} is not a duration: {exc}.") from None
    if key == "runway_risk":
        return risk_value(value, what)
    if key == "on_error":
        if value not in POLICIES:
            raise ConfigError(f"{what} must be fail or warn, got {brief(value)}.")
        return value
    return number_value(value, what, TTL if key == "cache_ttl" else CREDITS)
