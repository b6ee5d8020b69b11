"""Where the key and base URL come from: environment or a file, never a command-line value."""

from __future__ import annotations

import os
import re

from .._core.defaults import API_KEY_ENV, BASE_URL, BASE_URL_ENV
from .._core.sanitize import safe_text
from .._core.secret import MAX_KEY_LENGTH, Secret, key_problem
from ..errors import ConfigError
from .files import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _checked_key(raw: str, source: str, how_to_fix: str) -> Secret:
    value = raw.strip()
    problem = key_problem(value)
    if problem == "is empty":
        raise ConfigError(f"{source} is empty. {how_to_fix}")
    if problem is not None:
        raise ConfigError(f"{source} does not look like an API key: it {problem}. {how_to_fix}")
    return Secret(value)


def load_api_key(
    env: Mapping[str, str] | None = None,
    *,
    api_key_env: str | None = None,
    api_key_file: str | None = None,
) -> Secret:
    """The key from `--api-key-file`, else the env var `api_key_env` (default PREDEV_API_KEY)."""
    env = os.environ if env is None else env
    if api_key_file is not None:
        fix = f"Put the pre.dev API key alone in that file, or use {API_KEY_ENV}."
        shown = safe_text(api_key_file, limit=200)
        try:
            # Non-blocking and regular files only: a FIFO with no writer must not hang the run.
            data, _ = read_regular(api_key_file, MAX_KEY_LENGTH + 2)
            raw = data.decode("utf-8")
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the API key file {shown}: {exc.strerror or exc}. {fix}"
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(f"The API key file {shown} is not UTF-8 text. {fix}") from None
        return _checked_key(raw, f"The API key file {shown}", fix)
    name = api_key_env or API_KEY_ENV
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(
            f"--api-key-env {safe_text(repr(name), limit=60)} is not a valid environment "
            "variable name."
        )
    fix = (
        f"Set it to your pre.dev API key (export {name}=... locally, or pass it from a "
        "secret in CI)."
    )
    if name not in env:
        raise ConfigError(f"The environment variable {name} is not set. {fix}")
    return _checked_key(env[name], f"The environment variable {name}", fix)


def base_url_setting(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    """`--base-url`, else `$PREDEV_BASE_URL`, else https://api.pre.dev; as written, stripped.

    Not validated yet: `normalize_base_url` does that before any request (a cache hit makes
    none, and keys its entry by this text).
    """
    env = os.environ if env is None else env
    raw = flag if flag is not None else (env.get(BASE_URL_ENV) or BASE_URL)
    return raw.strip()
