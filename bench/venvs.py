"""The venvs users run in: runtime dependencies only, regular (non-editable) installs.

The dev venv is no baseline: its editable install and Airflow add `.pth` start-up hooks that
slow down even `python -c pass`. So the bench builds, from the same base interpreter:
- `runtime`: this checkout as a wheel plus its dependencies, from the offline wheelhouse
  `make install` builds (what the Action and pre-commit install);
- `requests`: requests and its dependencies only, for the vendor's snippet;
- `before`: the same as `runtime`, from another commit (default `main`), so this checkout's
  figures stand next to the previous turn's in one interleaved run.
pip installs them (it writes .pyc files and console scripts as users get them).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
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
#: This checkout's wheel, kept by a digest of its sources: building it takes seconds.
BUILT = Path(sys.prefix) / "bench-build"
SOURCES = ("pyproject.toml", "README.md", "devtools", "predev_integrations", "predev_airflow")


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


def source_digest(root: Path = ROOT) -> str:
    """A digest of every file that goes into the wheel (names and bytes)."""
    digest = hashlib.sha256()
    for top in SOURCES:
        path = root / top
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def wheel() -> Path:
    """This checkout as a wheel, built once per change of its sources.

    It is built from a copy of just those sources: setuptools' `build/` in the checkout can
    hold modules deleted since, which would end up in the wheel.
    """
    dist = BUILT / source_digest()
    if not any(dist.glob("predev_integrations-*.whl")):
        for old in BUILT.glob("*") if BUILT.is_dir() else ():
            if not old.name.startswith("before-"):
                shutil.rmtree(old, ignore_errors=True)  # older builds of this checkout
        with tempfile.TemporaryDirectory(prefix="predev-bench-src-") as copy:
            for top in SOURCES:
                source, target = ROOT / top, Path(copy) / top
                if source.is_file():
                    shutil.copy2(source, target)
                else:
                    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            _build(Path(copy), dist)
    (built,) = dist.glob("predev_integrations-*.whl")
    return built


def _build(sources: Path, dist: Path) -> None:
    links = ("--no-index", "--find-links", str(WHEELHOUSE))
    _pip("wheel", "--no-deps", *links, "-w", str(dist), str(sources))


def commit_of(ref: str) -> str:
    """The full commit a ref names in this checkout."""
    return _run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"]).strip()


def merge_base(a: str, b: str) -> str:
    """Where two branches met last: the commit this branch started from."""
    return _run(["git", "-C", str(ROOT), "merge-base", a, b]).strip()


def wheel_at(commit: str) -> Path:
    """The wheel of another commit's sources (`git archive`), built once per commit."""
    dist = BUILT / f"before-{commit[:16]}"
    if not any(dist.glob("predev_integrations-*.whl")):
        with tempfile.TemporaryDirectory(prefix="predev-bench-before-") as copy:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", commit, *SOURCES],
                capture_output=True,
                check=True,
                timeout=120,
            ).stdout
            subprocess.run(["tar", "-x", "-C", copy], input=archive, check=True, timeout=120)
            _build(Path(copy), dist)
    (built,) = dist.glob("predev_integrations-*.whl")
    return built


def before(tmp: Path, commit: str) -> Venv:
    """Another commit of this package, as a wheel, with the same runtime dependencies."""
    return create(tmp / "venv-before", str(wheel_at(commit)), find_links=(WHEELHOUSE,))


def runtime(tmp: Path) -> Venv:
    """This checkout, as a wheel, installed with its runtime dependencies only."""
    if not any(WHEELHOUSE.glob("httpx-*.whl")):
        raise RuntimeError(f"no wheelhouse at {WHEELHOUSE}: run `make install` first")
    return create(tmp / "venv-runtime", str(wheel()), find_links=(WHEELHOUSE,))


def requests_wheels() -> Path:
    """requests' wheels, at the dev venv's version, fetched once with pip's configured index."""
    stamp = REQUESTS_WHEELHOUSE / ".stamp"
    if not stamp.is_file():
        _pip("wheel", "-w", str(REQUESTS_WHEELHOUSE), f"requests=={metadata.version('requests')}")
        stamp.touch()
    return REQUESTS_WHEELHOUSE


def requests_only(tmp: Path) -> Venv:
    return create(tmp / "venv-requests", "requests", find_links=(requests_wheels(),))
