"""The stage every part runs on: a sandbox API on loopback, a throwaway key and directories."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from predev_integrations.sandbox import Sandbox

from .harness import clean_env

#: The interpreter running the bench is the project's .venv one; every part uses it.
PYTHON = sys.executable
BIN = Path(PYTHON).parent
CLI = str(BIN / "predev-credits-check")
ROOT = Path(__file__).resolve().parent.parent
BALANCE = 450
CACHE_TTL = "3600"


def compile_packages() -> None:
    """Write .pyc files for our packages, as `pip install` does, so runs measure loading them."""
    import compileall

    for package in ("predev_integrations", "airflow_provider"):
        compileall.compile_dir(ROOT / package, quiet=1)


class Stage:
    """Context manager: sandbox + random key + temp dir with a pre-filled cache."""

    def __init__(self) -> None:
        self.key = f"pdk_bench_{secrets.token_hex(16)}"
        self.sandbox = Sandbox(key=self.key, balance=BALANCE)
        self.tmp = Path(tempfile.mkdtemp(prefix="predev-bench-"))
        self.cache_dir = self.tmp / "cache"
        self.work = self.tmp / "work"  # cwd without a .predev-credits.yml
        self.work.mkdir()
        self.header_file = self.tmp / "auth-header"  # for curl: the key never on a command line
        self.header_file.write_text(f"Authorization: Bearer {self.key}\n")
        self.header_file.chmod(0o600)

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def endpoint(self) -> str:
        return self.sandbox.url + "/credits-balance"

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(
            PREDEV_API_KEY=self.key,
            PREDEV_BASE_URL=self.url,
            PREDEV_CACHE_DIR=str(self.cache_dir),
            BENCH_URL=self.endpoint,
            **extra,
        )

    def fill_cache(self) -> None:
        """One live run with a TTL, so later runs with the same TTL are cache hits."""
        proc = subprocess.run(
            [CLI, "--cache-ttl", CACHE_TTL],
            env=self.env(),
            cwd=self.work,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"could not fill the cache: {proc.stderr.decode().strip()}")

    def __enter__(self) -> Stage:
        compile_packages()
        self.sandbox.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.sandbox.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
