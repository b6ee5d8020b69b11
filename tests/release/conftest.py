"""The release's distributions, built once per session by `devtools.release_check` (build,
twine check, the PyPI page's links, the wheel installed and run), offline from the wheelhouse."""

from __future__ import annotations

import os
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from devtools import release_check
from predev_integrations import __version__

REPO = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
NAME = "predev_integrations"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(WHEELHOUSE.glob("setuptools-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE}; run `make install` first")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _build(tmp_path_factory.mktemp("dist"))
    # Under pytest-xdist (`make pytest`) the workers of one run share one build (about 40 s):
    # the first to take the lock builds into the run's temp root, the others wait and reuse it.
    import fcntl

    root = tmp_path_factory.getbasetemp().parent  # one per run, shared by its workers
    target = root / "dist"
    with open(root / "dist.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "dist.built").exists():
            target.mkdir(exist_ok=True)  # a worker whose build failed may have left it
            _build(target)
            (root / "dist.built").touch()
    return target


def _build(target: Path) -> Path:
    """The sdist and wheel of this checkout in `target`, checked by `release_check`."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith(("PIP_", "PREDEV_"))]:
            patch.delenv(name)
        patch.setenv("PIP_NO_INDEX", "1")
        patch.setenv("PIP_FIND_LINKS", str(WHEELHOUSE))
        patch.setenv("PIP_CONFIG_FILE", os.devnull)
        # The checkout on the path, as in a worktree's test run: the fresh venv must not see it.
        patch.setenv("PYTHONPATH", str(REPO))
        assert release_check.main(["--dist", str(target)]) == 0
    return target


@pytest.fixture(scope="session")
def wheel(dist: Path) -> zipfile.ZipFile:
    [path] = dist.glob("*.whl")
    assert path.name == f"{NAME}-{__version__}-py3-none-any.whl"
    return zipfile.ZipFile(path)


@pytest.fixture(scope="session")
def sdist(dist: Path) -> tarfile.TarFile:
    [path] = dist.glob("*.tar.gz")
    assert path.name == f"{NAME}-{__version__}.tar.gz"
    return tarfile.open(path)
