"""Shared fixtures: a real sandbox on loopback, a unique fake key, and a CLI runner that
checks every byte it prints (and every cache file) for the key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from predev_integrations.sandbox import Sandbox

# Hypothesis fails an example that takes over 200 ms by default: a wall-clock limit, which a
# busy machine breaks without anything being wrong (an example of test_watch_low.py took
# 272 ms beside two CPU hogs). Speed is measured by the bench, never asserted in a test.
settings.register_profile("predev", deadline=None)
settings.load_profile("predev")


@pytest.fixture
def api_key() -> str:
    """A fresh key per test, long and random, so a leak is unmistakable in any output."""
    return f"pdk_test_{secrets.token_hex(16)}"


@pytest.fixture
def sandbox(api_key: str) -> Iterator[Sandbox]:
    with Sandbox(key=api_key, balance=450) as server:
        yield server


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def assert_no_key(key: str, *blobs: str | bytes) -> None:
    for blob in blobs:
        data = blob.encode() if isinstance(blob, str) else blob
        assert key.encode() not in data, "the API key leaked into output"


def assert_no_key_in_tree(key: str, root: Path) -> None:
    if not root.exists():
        return
    for path in root.rglob("*"):
        if path.is_file():
            assert_no_key(key, path.read_bytes())
            assert key not in path.name


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(api_key: str, sandbox: Sandbox, cache_dir: Path) -> dict[str, str]:
    """A clean environment pointing the CLI at the sandbox (no real network, temp cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREDEV_", "GITHUB_"))}
    env.update(
        PREDEV_API_KEY=api_key,
        PREDEV_BASE_URL=sandbox.url,
        PREDEV_CACHE_DIR=str(cache_dir),
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    return env


@pytest.fixture
def run_cli(
    api_key: str, cli_env: dict[str, str], cache_dir: Path, tmp_path: Path
) -> Callable[..., CliResult]:
    """Run `python -m predev_integrations ARGS` as a subprocess; asserts the key never shows."""

    def run(*args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-m", "predev_integrations", *args],
            env={**cli_env, **(env or {})},
            cwd=tmp_path,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        assert_no_key(api_key, proc.stdout, proc.stderr)
        assert_no_key_in_tree(api_key, cache_dir)
        assert b"Traceback" not in proc.stderr
        return CliResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    return run
