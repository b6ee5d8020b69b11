"""The stage every part runs on: the sandbox over TLS on loopback, a throwaway key and CA, the
venvs users run in, and temporary directories."""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import tempfile
import time
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
#: The commit the figures are compared with ("last turn"): `BENCH_BEFORE`, else where this
#: branch left main (main itself may have moved on with other work since).
BEFORE_REF = os.environ.get("BENCH_BEFORE") or ""


class Stage:
    """Context manager: TLS sandbox + random key + temp dir; venvs built on first use."""

    def __init__(self) -> None:
        self.key = f"pdk_bench_{secrets.token_hex(16)}"
        self.tmp = Path(tempfile.mkdtemp(prefix="predev-bench-"))
        self.cache_dir = self.tmp / "cache"
        #: A second cache directory whose history is full (the live check's worst case).
        self.full_dir = self.tmp / "cache-full"
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
    def before_commit(self) -> str | None:
        """The commit to compare with; None when there is none (a clone without main)."""
        try:
            return venvs.commit_of(BEFORE_REF) if BEFORE_REF else venvs.merge_base("HEAD", "main")
        except RuntimeError:
            return None

    @functools.cached_property
    def before(self) -> venvs.Venv:
        """The `before` commit installed the same way: last turn's figures, in this run."""
        assert self.before_commit is not None
        return venvs.before(self.tmp, self.before_commit)

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

    def fill_history(self) -> int:
        """A full history in `full_dir`: what a check every 10 seconds for five weeks leaves
        after the history's thinning (about 930 readings over 4 weeks), falling steadily to
        the sandbox's balance, so every live check there reads the most the forecast ever
        reads. Returns how many readings."""
        from predev_integrations._cli import history
        from predev_integrations._core.secret import Secret

        readings = largest_history(time.time(), BALANCE)
        count = len(readings)
        self.full_dir.mkdir(mode=0o700, exist_ok=True)
        path = history.history_path(str(self.full_dir), self.url, Secret(self.key))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(history.serialize(readings))
        os.chmod(path, 0o600)
        return count

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


def largest_history(now: float, balance: float) -> list[tuple[float, float]]:
    """The history a check every 10 seconds leaves after 35 days, as the CLI thins it: each
    reading a new balance (a credit less every 10 s, ending at `balance`), in whole credits as
    the API reports them."""
    from predev_integrations._cli import history

    count = int(35 * 86_400 / 10)
    raw: list[tuple[float, float]] = [
        (now - 10.0 * (count - i), round(balance) + (count - i) // 40) for i in range(count)
    ]
    return history.thin(raw, now)
