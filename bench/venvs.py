"""The venvs users run in: runtime dependencies only, regular (non-editable) installs.

The dev venv is no baseline: its editable install and Airflow add `.pth` start-up hooks that
slow down even `python -c pass`. So the bench builds, from the same base interpreter:
- `runtime`: this checkout as a wheel plus its dependencies, from the offline wheelhouse
  `make install` builds (what the Action and pre-commit install);
- `requests`: requests and its dependencies only, for the vendor's snippet.
pip installs them (it writes .pyc files and console scripts as users get them).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .harness import clean_env

DEV_PYTHON = sys.executable
#: The interpreter the dev venv was made from: every bench venv is made from it too.
BASE_PYTHON: str = getattr(sys, "_base_executable", sys.executable)
ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
#: requests' wheels, fetched once through pip's configured index and kept beside the above.
REQUESTS_WHEELHOUSE = Path(sys.prefix) / "wheelhouse-bench"


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def script(self, name: str) -> str:
        return str(self.path / "bin" / name)

    def site_file(self, code: str) -> Path:
        """A path computed inside the venv, e.g. certifi's bundle."""
        out = _run([self.python, "-c", f"print({code})"])
        return Path(out.strip())


def _run(argv: list[str]) -> str:
    proc = subprocess.run(
        argv, env=clean_env(), capture_output=True, text=True, check=False, timeout=600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def _pip(*args: str) -> str:
    return _run([DEV_PYTHON, "-m", "pip", "--disable-pip-version-check", "--quiet", *args])


def create(path: Path, *requirements: str, find_links: tuple[Path, ...]) -> Venv:
    """A fresh venv at `path` without pip, then pip (from the dev venv) installs into it offline."""
    _run([BASE_PYTHON, "-m", "venv", "--without-pip", str(path)])
    venv = Venv(path)
    links = [arg for link in find_links for arg in ("--find-links", str(link))]
    _pip("--python", venv.python, "install", "--no-index", *links, *requirements)
    return venv


def runtime(tmp: Path) -> Venv:
    """This checkout, built into a wheel and installed with its runtime dependencies only."""
    if not any(WHEELHOUSE.glob("httpx-*.whl")):
        raise RuntimeError(f"no wheelhouse at {WHEELHOUSE}: run `make install` first")
    dist = tmp / "dist"
    _pip(
        "wheel",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(WHEELHOUSE),
        "-w",
        str(dist),
        str(ROOT),
    )
    (wheel,) = dist.glob("predev_integrations-*.whl")
    return create(tmp / "venv-runtime", str(wheel), find_links=(WHEELHOUSE,))


def requests_wheels() -> Path:
    """requests' wheels, at the dev venv's version, fetched once with pip's configured index."""
    stamp = REQUESTS_WHEELHOUSE / ".stamp"
    if not stamp.is_file():
        _pip("wheel", "-w", str(REQUESTS_WHEELHOUSE), f"requests=={metadata.version('requests')}")
        stamp.touch()
    return REQUESTS_WHEELHOUSE


def requests_only(tmp: Path) -> Venv:
    return create(tmp / "venv-requests", "requests", find_links=(requests_wheels(),))
