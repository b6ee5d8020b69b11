"""A real pre-commit in a throwaway git repo whose config points at this checkout.

pre-commit clones the checkout at HEAD and pip-installs it into its own venv, offline, from
the wheelhouse `make install` builds. One PRE_COMMIT_HOME per module, so that venv is built
once. Every run is checked for the key (output, cache, repo) and for tracebacks.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from predev_integrations.sandbox import Sandbox

CHECKOUT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
HOOK = "predev-credits-check"
PUSH_HOOK = "predev-credits-check-push"
_DURATION = re.compile(r"- duration: ([0-9.]+)s")


def _git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@dataclass
class Run:
    code: int
    output: str
    seconds: float

    def hook_seconds(self) -> float:
        """The hook's own time as pre-commit reports it (`verbose: true` in the manifest)."""
        found = _DURATION.findall(self.output)
        assert len(found) == 1, self.output
        return float(found[0])


@pytest.fixture(scope="module")
def hook_rev() -> str:
    """The committed state of this checkout is what pre-commit installs."""
    rev = _git("rev-parse", "HEAD", cwd=CHECKOUT)
    _git("cat-file", "-e", f"{rev}:.pre-commit-hooks.yaml", cwd=CHECKOUT)
    return rev


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(WHEELHOUSE.glob("httpx-*.whl")):
        pytest.fail(f"no offline wheels in {WHEELHOUSE}; run `make install` first.")
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def hook_env(
    api_key: str, sandbox: Sandbox, pre_commit_home: Path, tmp_path: Path
) -> dict[str, str]:
    """Only loopback traffic: pip offline from the wheelhouse, the API at the sandbox."""
    drop = ("PREDEV_", "GITHUB_", "PIP_", "PRE_COMMIT", "GIT_", "SKIP", "VIRTUALENV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        PREDEV_API_KEY=api_key,
        PREDEV_BASE_URL=sandbox.url,
        PREDEV_CACHE_DIR=str(tmp_path / "cache"),
        PRE_COMMIT_HOME=str(pre_commit_home),
        PRE_COMMIT_COLOR="never",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # virtualenv seeds pip from its bundled wheels; keep it from checking PyPI for newer ones.
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        VIRTUALENV_OVERRIDE_APP_DATA=str(pre_commit_home / "virtualenv-app-data"),
        NO_PROXY="127.0.0.1,localhost,::1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


@pytest.fixture
def make_repo(tmp_path: Path, hook_rev: str, hook_env: dict[str, str]) -> Callable[..., Path]:
    """A git repo with one commit whose `.pre-commit-config.yaml` uses both hooks (same args)."""

    def make(args: list[str] | None = None, config_file: str | None = None) -> Path:
        repo = tmp_path / "repo"
        repo.mkdir()
        hooks: list[dict[str, object]] = [{"id": HOOK}, {"id": PUSH_HOOK}]
        if args is not None:
            for hook in hooks:
                hook["args"] = args
        config = {"repos": [{"repo": str(CHECKOUT), "rev": hook_rev, "hooks": hooks}]}
        (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        if config_file is not None:
            (repo / ".predev-credits.yml").write_text(config_file)
        _git("init", "-q", "-b", "main", cwd=repo, env=hook_env)
        _git("add", ".", cwd=repo, env=hook_env)
        _git("commit", "-q", "--no-verify", "-m", "initial", cwd=repo, env=hook_env)
        return repo

    return make


@pytest.fixture
def run(api_key: str, hook_env: dict[str, str], tmp_path: Path) -> Callable[..., Run]:
    """Run a command in the repo; the key must show in no output, cache file or repo file."""

    def run_(*cmd: str, env: Mapping[str, str] | None = None, timeout: float = 300) -> Run:
        started = time.monotonic()
        proc = subprocess.run(
            cmd,
            cwd=tmp_path / "repo",
            env={**hook_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        seconds = time.monotonic() - started
        output = proc.stdout.decode()
        assert api_key not in output, "the API key leaked into the hook's output"
        assert "Traceback" not in output, output
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert api_key.encode() not in path.read_bytes(), f"the key leaked into {path}"
        return Run(proc.returncode, output, seconds)

    return run_


@pytest.fixture
def closed_port_url() -> str:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_server_url() -> Iterator[str]:
    """Accepts TCP connections (the kernel does) but never answers: like a dead proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
