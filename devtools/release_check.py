"""Build the sdist and wheel once and check them as the release workflow does.

`make release-check` and `.github/workflows/release.yml` run this: build (the wheel from the
sdist, so the sdist is known to be complete), `twine check --strict`, then install the wheel
into a fresh venv (the Action's lock with hashes first, the wheel with --no-deps, `pip check`)
and run its console scripts: the sandbox, and the CLI against it. `--tag vX.Y.Z` also requires
the version to match. Offline when pip is told so (PIP_NO_INDEX, PIP_FIND_LINKS).
Development tooling: not part of the installed package.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "action-requirements.txt"
SANDBOX_KEY = "release-check-key"


def pyproject() -> dict[str, Any]:
    """pyproject.toml, parsed (tomllib: Python 3.11+, as in the dev venv)."""
    tomllib = importlib.import_module("tomllib")
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data


class CheckFailed(Exception):
    """One line saying which check failed."""


def run(
    *argv: str | Path,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    codes: tuple[int, ...] = (0,),
) -> str:
    """stdout of `argv`; CheckFailed with its output when it exits with another code."""
    proc = subprocess.run(
        [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    if proc.returncode not in codes:
        output = (proc.stdout + proc.stderr).strip()[-2000:]
        raise CheckFailed(f"{' '.join(map(str, argv[:4]))} ... exited {proc.returncode}\n{output}")
    return proc.stdout


def build(dist: Path, *, isolated: bool = True) -> tuple[Path, Path]:
    """(sdist, wheel), built into an emptied `dist`; not `isolated`: with this environment's
    (locked) setuptools instead of one pip fetches."""
    shutil.rmtree(dist, ignore_errors=True)
    options = [] if isolated else ["--no-isolation"]
    run(sys.executable, "-m", "build", *options, "--outdir", dist, ROOT)
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    return sdist, wheel


def venv_bin(venv: Path, name: str) -> Path:
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    return scripts / (f"{name}.exe" if os.name == "nt" else name)


def smoke(wheel: Path, version: str) -> None:
    """Install the wheel into a fresh venv and run the CLI against the sandbox it ships."""
    # Nothing of the caller's Python leaks in: with PYTHONPATH at a checkout, pip saw the
    # checkout's egg-info as the package already installed, and the CLI ran the checkout.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("PREDEV_")
    }
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        venv = Path(tmp) / "venv"
        run(sys.executable, "-m", "venv", venv, env=clean)
        pip = (venv_bin(venv, "python"), "-m", "pip", "--disable-pip-version-check")
        run(*pip, "install", "--quiet", "--require-hashes", "--no-deps", "--only-binary", ":all:",
            "-r", LOCK, env=clean)  # fmt: skip
        run(*pip, "install", "--quiet", "--no-deps", wheel, env=clean)
        run(*pip, "check", env=clean)
        check = venv_bin(venv, "predev-credits-check")
        shown = run(check, "--version", env=clean).split()
        if shown[-1:] != [version]:
            raise CheckFailed(f"predev-credits-check --version says {shown}, not {version}")
        env = {**clean, "PREDEV_API_KEY": SANDBOX_KEY, "NO_PROXY": "127.0.0.1,localhost,::1"}
        sandbox = subprocess.Popen(
            [venv_bin(venv, "predev-sandbox"), "--key", SANDBOX_KEY, "--balance", "450", "--quiet"],
            env=clean,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert sandbox.stdout is not None
            url = sandbox.stdout.readline().strip()
            for floor, expected in (("100", "ok"), ("1000", "low")):
                argv = (check, "--base-url", url, "--min-credits", floor, "--format", "json")
                said = run(*argv, env=env, cwd=tmp, codes=(0, 1))
                if f'"status": "{expected}"' not in said:
                    raise CheckFailed(f"the installed CLI said {said!r}, not {expected}")
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)


def project_version(tag: str | None = None) -> str:
    """The version the build will carry, read as setuptools reads it; it must match `tag`."""
    for line in (ROOT / "predev_integrations" / "__version__.py").read_text().splitlines():
        if line.startswith("__version__"):
            version = line.split("=", 1)[1].strip().strip("\"'")
            if tag is not None and tag != f"v{version}":
                raise CheckFailed(f"tag {tag} does not match the version {version}")
            return version
    raise CheckFailed("no __version__ in predev_integrations/__version__.py")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.release_check", description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument("--tag", help="the pushed tag (vX.Y.Z) the version must match")
    parser.add_argument(
        "--no-isolation", action="store_true", help="build with the installed setuptools"
    )
    args = parser.parse_args(argv)
    try:
        version = project_version(args.tag)
        sdist, wheel = build(args.dist, isolated=not args.no_isolation)
        run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)
        smoke(wheel, version)
    except CheckFailed as exc:
        print(f"release-check: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"release-check: ok: {sdist.name}, {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
