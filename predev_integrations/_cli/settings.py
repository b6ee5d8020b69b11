"""Where the key and base URL come from: environment or a file, never a command-line value."""

from __future__ import annotations

import os
import re

from .._core.defaults import API_KEY_ENV, BASE_URL, BASE_URL_ENV
from .._core.sanitize import quote, safe_text
from .._core.secret import MAX_KEY_LENGTH, Secret, Secrets, key_problem
from .._core.urls import url_text_problem
from ..errors import ConfigError
from .files import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _checked_key(raw: str, source: str, how_to_fix: str) -> Secret:
    value = raw.strip()
    problem = key_problem(value)
    if problem == "is empty":
        raise ConfigError(f"{source} is empty. {how_to_fix}")
    if problem is not None:
        raise ConfigError(f"{source} does not look like an API key: it {problem}. {how_to_fix}")
    return Secret(value)


def flag_values(argv: Sequence[str], flag: str) -> list[str]:
    """Every value given to `flag` (`--flag VALUE` or `--flag=VALUE`), before parsing."""
    values = []
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            values.append(argv[i + 1])
        elif arg.startswith(flag + "="):
            values.append(arg[len(flag) + 1 :])
    return values


class KeySources:
    """Every place this run may take the key from, read once, before any configuration is.

    `secrets` holds every value found there ($PREDEV_API_KEY, each variable `--api-key-env`
    names, each line of each `--api-key-file`): the CLI redacts them all from its output from
    the start, so a key pasted into a setting is redacted even in errors raised before it is
    loaded. `load` then takes the key from what was read here, never reading a file twice.
    """

    def __init__(self, argv: Sequence[str] = (), env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self.secrets = Secrets()
        self._files: dict[str, bytes | OSError] = {}
        for name in (API_KEY_ENV, *flag_values(argv, "--api-key-env")):
            self._remember(self.env.get(name) or "")
        for path in flag_values(argv, "--api-key-file"):
            self._read(path)

    def _remember(self, text: str) -> None:
        for line in (text, *text.splitlines()):
            if line.strip():
                self.secrets.add(Secret(line.strip()))

    def _read(self, path: str) -> bytes | OSError:
        if path not in self._files:
            try:
                # Non-blocking and regular files only: a FIFO with no writer must not hang.
                data: bytes | OSError = read_regular(path, MAX_KEY_LENGTH + 2)[0]
            except OSError as exc:
                data = exc
            except ValueError:  # a NUL or an unencodable character in the path
                data = OSError(0, "not a valid path")
            if isinstance(data, bytes):
                self._remember(data.decode("utf-8", "replace"))
            self._files[path] = data
        return self._files[path]

    def load(self, *, api_key_env: str | None = None, api_key_file: str | None = None) -> Secret:
        """The key from `api_key_file`, else the variable `api_key_env` (default
        PREDEV_API_KEY); ConfigError, never quoting the value, when it is missing or odd."""
        if api_key_file is not None:
            fix = f"Put the pre.dev API key alone in that file, or use {API_KEY_ENV}."
            shown = safe_text(api_key_file, limit=200)
            data = self._read(api_key_file)
            if isinstance(data, OSError):
                raise ConfigError(
                    f"Cannot read the API key file {shown}: {data.strerror or data}. {fix}"
                )
            try:
                raw = data.decode("utf-8")
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
        if name not in self.env:
            raise ConfigError(f"The environment variable {name} is not set. {fix}")
        self._remember(self.env[name])
        return _checked_key(self.env[name], f"The environment variable {name}", fix)


def load_api_key(
    env: Mapping[str, str] | None = None,
    *,
    api_key_env: str | None = None,
    api_key_file: str | None = None,
) -> Secret:
    """The key from `--api-key-file`, else the env var `api_key_env` (default PREDEV_API_KEY)."""
    return KeySources((), env).load(api_key_env=api_key_env, api_key_file=api_key_file)


def base_url_setting(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    """`--base-url`, else `$PREDEV_BASE_URL`, else https://api.pre.dev; as written, stripped.

    Its text is checked here, before any use (`url_text_problem`: a byte that is not UTF-8,
    a control character, an absurd length); the full URL rules (`normalize_base_url`) run
    before any request. A cache hit makes none: it keys its entry by this text, and an entry
    exists only for a text that passed those rules when the entry was written.
    """
    env = os.environ if env is None else env
    raw = (flag if flag is not None else (env.get(BASE_URL_ENV) or BASE_URL)).strip()
    problem = url_text_problem(raw)
    if problem is not None:
        raise ConfigError(f"The base URL {quote(raw, limit=100)} {problem}.")
    return raw
