"""Build the sdist and wheel once and check them as the release workflow does.

`make release-check` and `.github/workflows/release.yml` run this: build (the wheel from the
sdist, so the sdist is known to be complete), `twine check --strict`, the PyPI page's links
(absolute, into the repository at the tag, naming files that exist), then install the wheel
into a fresh venv (the Action's lock with hashes first, the wheel with --no-deps, `pip check`)
and run its console scripts: the sandbox, and the CLI against it. `--tag vX.Y.Z` also requires
the version to match. Offline when pip is told so (PIP_NO_INDEX, PIP_FIND_LINKS).
Development tooling: not part of the installed package.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from devtools import build_backend

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


def long_descriptions(sdist: Path, wheel: Path) -> tuple[str, str]:
    """The bodies of the sdist's PKG-INFO and the wheel's METADATA: the PyPI page, twice."""
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert member is not None
        pkg_info = member.read()
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name)
    return body(pkg_info), body(metadata)


def body(metadata: bytes) -> str:
    """The long description: core metadata's body, after the headers' blank line."""
    return metadata.decode("utf-8").partition("\n\n")[2]


HTML_URL = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


def page_links(markdown: str) -> Iterator[str]:
    """Every link and image URL of `markdown` as a CommonMark parser sees it (markdown-it-py,
    which twine brings; not the backend's own regular expressions), and HTML's href and src."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    while tokens:
        token = tokens.pop(0)
        tokens[:0] = token.children or []
        if token.type in ("link_open", "image"):
            yield str(token.attrs["href" if token.type == "link_open" else "src"])
        elif token.type in ("html_inline", "html_block"):
            yield from HTML_URL.findall(token.content)


def page_problems(markdown: str, version: str, root: Path = ROOT) -> list[str]:
    """What is wrong with the links of a PyPI page: one line each, none when all are well.

    Every link is absolute https; one into the repository's files (blob/, tree/, raw) is at
    tag v`version` and names a path that exists under `root`."""
    repository = build_backend.repository(root)
    owner_repo = repository.removeprefix("https://github.com/")
    tag = f"v{version}"
    file_url = re.compile(
        rf"(?:{re.escape(repository)}/(?:blob|tree)|https://raw\.githubusercontent\.com/"
        rf"{re.escape(owner_repo)})/(?P<ref>[^/#?]+)(?:/(?P<path>[^#?]*))?"
    )
    problems = []
    for url in page_links(markdown):
        if not url.startswith("https://"):
            problems.append(f"{url}: not an absolute https link")
        elif match := file_url.match(url):
            path = unquote(match["path"] or "")
            if match["ref"] != tag:
                problems.append(f"{url}: at {match['ref']}, not the release's tag {tag}")
            elif not (root / path).exists() or ".." in path.split("/"):
                problems.append(f"{url}: no {path} in the repository")
    return problems


def check_pypi_page(sdist: Path, wheel: Path, version: str) -> None:
    """The page PyPI will show: the same in both files, and every link works from PyPI."""
    pkg_info, metadata = long_descriptions(sdist, wheel)
    if not metadata.strip():
        raise CheckFailed("the wheel's METADATA carries no long description")
    if pkg_info != metadata:
        raise CheckFailed("the sdist's long description (PKG-INFO) is not the wheel's (METADATA)")
    problems = page_problems(metadata, version)
    if problems:
        raise CheckFailed(
            f"the PyPI page has {len(problems)} broken link(s) (the build backend is "
            f"devtools/build_backend.py): " + "; ".join(problems[:5])
        )


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
    """The version the build will carry, read as setuptools reads it (the build backend's
    reading: the PyPI page's links point at its tag); it must match `tag`."""
    try:
        version = build_backend.project_version(ROOT)
    except build_backend.ReadmeError as exc:
        raise CheckFailed(str(exc)) from None
    if tag is not None and tag != f"v{version}":
        raise CheckFailed(f"tag {tag} does not match the version {version}")
    return version


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
        check_pypi_page(sdist, wheel, version)
        smoke(wheel, version)
    except CheckFailed as exc:
        print(f"release-check: FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"release-check: ok: {sdist.name}, {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
