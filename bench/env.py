"""The stage every part runs on: the sandbox over TLS on loopback, a throwaway key and CA, the
venvs users run in, and temporary directories."""

from __future__ import annotations

import functools
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from predev_integrations.sandbox import Sandbox, tls_context

from . import venvs
from .harness import clean_env
from .tls import Certs, make_certs

#: The dev venv's interpreter and scripts: for the parts that need Airflow or pre-commit.
PYTHON = venvs.DEV_PYTHON
BIN = Path(PYTHON).parent
ROOT = venvs.ROOT
BALANCE = 450
CACHE_TTL = "3600"
CLI_NAME = "predev-credits-check"


class Stage:
    """Context manager: TLS sandbox + random key + temp dir; venvs built on first use."""

    def __init__(self) -> None:
        self.key = f"pdk_bench_{secrets.token_hex(16)}"
        self.tmp = Path(tempfile.mkdtemp(prefix="predev-bench-"))
        self.cache_dir = self.tmp / "cache"
        self.work = self.tmp / "work"  # cwd without a .predev-credits.yml
        self.work.mkdir()
        self.certs: Certs | None = None
        self.sandbox: Sandbox | None = None
        self.medians: dict[str, float] = {}  # part 1's figures, for part 3's breakdown
        self.sections: list[str] = []  # markdown printed after the table (the import map)

    @functools.cached_property
    def runtime(self) -> venvs.Venv:
        """This checkout installed as users get it: a wheel and its runtime dependencies."""
        return venvs.runtime(self.tmp)

    @functools.cached_property
    def requests(self) -> venvs.Venv:
        return venvs.requests_only(self.tmp)

    @property
    def cli(self) -> str:
        return self.runtime.script(CLI_NAME)

    @property
    def url(self) -> str:
        assert self.sandbox is not None, "use Stage as a context manager"
        return self.sandbox.url

    @property
    def endpoint(self) -> str:
        return self.url + "/credits-balance"

    def env(self, **extra: str) -> dict[str, str]:
        assert self.certs is not None, "use Stage as a context manager"
        bundle = str(self.certs.bundle)
        return clean_env(
            PREDEV_API_KEY=self.key,
            PREDEV_BASE_URL=self.url,
            PREDEV_CACHE_DIR=str(self.cache_dir),
            BENCH_URL=self.endpoint,
            SSL_CERT_FILE=bundle,  # httpx, the standard library
            REQUESTS_CA_BUNDLE=bundle,  # requests reads only its own variable
            **extra,
        )

    def fill_cache(self) -> None:
        """One live run with a TTL, so later runs with the same TTL are cache hits."""
        proc = subprocess.run(
            [self.cli, "--cache-ttl", CACHE_TTL],
            env=self.env(),
            cwd=self.work,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"could not fill the cache: {proc.stderr.decode().strip()}")

    def __enter__(self) -> Stage:
        # certifi's public bundle (the dev venv's copy), which a user's httpx or requests loads.
        import certifi

        self.certs = make_certs(self.tmp, Path(certifi.where()))
        tls = tls_context(str(self.certs.cert), str(self.certs.key))
        self.sandbox = Sandbox(key=self.key, balance=BALANCE, tls=tls).start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
