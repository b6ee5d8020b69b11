"""The shared `.predev-credits.yml`: one floor for a repo's Action, hook and local runs.

yaml is imported only when a file is actually read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_FILENAME = ".predev-credits.yml"
ON_ERROR_CHOICES = ("fail", "warn")

#: key -> (kind, description) of what the file may hold.
CONFIG_KEYS = {
    "min_credits": "a number >= 0",
    "warn_below": "a number >= 0, or null",
    "on_error": "fail or warn",
    "cache_ttl": "a number of seconds >= 0",
}


def non_negative_number(value: object, what: str) -> float | int:
    """Accept an int/float (not bool) that is finite and >= 0; `what` names it in the error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number >= 0, got {value!r}.")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{what} must be a finite number >= 0, got {value!r}.")
    return value


def find_config(explicit: str | None, cwd: Path | None = None) -> Path | None:
    """`--config PATH` (must exist), else `.predev-credits.yml` in the working directory."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"Config file {explicit} does not exist; fix --config or remove it.")
        return path
    candidate = (cwd or Path.cwd()) / CONFIG_FILENAME
    return candidate if candidate.is_file() else None


def load_config(path: Path) -> dict[str, Any]:
    """Read and validate a config file; every problem names the file and the key."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"Config file {path} is not valid YAML{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"Config file {path} must be a mapping of keys ({', '.join(CONFIG_KEYS)})."
        )
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in CONFIG_KEYS:
            raise ConfigError(
                f"Config file {path}: unknown key {key!r}; allowed keys are "
                f"{', '.join(CONFIG_KEYS)}."
            )
        result[key] = _check(path, key, value)
    return result


def _check(path: Path, key: str, value: object) -> object:
    what = f"Config file {path}: {key}"
    if key == "warn_below" and value is None:
        return None
    if key == "on_error":
        if value not in ON_ERROR_CHOICES:
            raise ConfigError(f"{what} must be fail or warn, got {value!r}.")
        return value
    return non_negative_number(value, what)
