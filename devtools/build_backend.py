"""The PEP 517 backend: setuptools, after writing the PyPI copy of README.md.

README.md links to docs/*.md relatively, which reads well on GitHub and 404s on PyPI. Every
hook first writes `[tool.setuptools.dynamic] readme`'s file (under build/, which git ignores
and setuptools leaves out of the sdist) from README.md with each relative link made absolute:
to `<repository>/blob/v<version>/<path>` (tree/ for a folder, raw.githubusercontent.com for an
image), an in-page `#anchor` to README.md's at that tag. The repository is `[project.urls]`'s
Repository, the version the one setuptools reads: an sdist rebuilt from the sdist gets the same
page. Standard library and setuptools only, imported lazily: the release check and the tests
import this module for `project_version` and `pypi_readme`.
"""

from __future__ import annotations

import ast
import os
import posixpath
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

SOURCE = "README.md"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif")
GITHUB = re.compile(r"https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)")

ConfigSettings = Mapping[str, Any] | None


class ReadmeError(ValueError):
    """One line saying what in pyproject.toml or README.md stops the PyPI copy."""


def pyproject(root: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # the tomli setuptools vendors
        from setuptools.compat.py310 import tomllib  # type: ignore[import-untyped]
    data: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return data


def project_version(root: Path) -> str:
    """The version setuptools will write: `[tool.setuptools.dynamic] version`'s attr, read
    statically as setuptools reads it (no import of the package)."""
    attr = pyproject(root)["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    module, _, name = str(attr).rpartition(".")
    base = root.joinpath(*module.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ReadmeError(f"no `{name} = '...'` in {path.relative_to(root).as_posix()}")


def repository(root: Path) -> str:
    """`[project.urls]`'s Repository: the GitHub repository the links point into."""
    url = str(pyproject(root)["project"].get("urls", {}).get("Repository", ""))
    if not GITHUB.fullmatch(url):
        raise ReadmeError(
            f"[project.urls] Repository is {url!r}: set it to https://github.com/OWNER/REPO"
        )
    return url


# Markdown: fenced blocks and code spans are left alone; outside them the destinations of
# inline links and images, of reference definitions and of HTML href/src attributes.
FENCE = re.compile(r"^[ \t]*(`{3,}(?=[^`]*$)|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)


def _destination(name: str) -> str:
    """A link destination: `<...>`, or a run without spaces (balanced parentheses inside)."""
    angle = rf"<(?P<{name}_angle>[^<>\n]*)>"
    return rf"(?:{angle}|(?P<{name}_bare>[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*))"


TARGETS = re.compile(
    rf"(?P<inline>\]\([ \t]*\n?[ \t]*){_destination('inline')}"
    rf"|(?P<definition>^ {{0,3}}\[[^\]\n]+\]:[ \t]*\n?[ \t]*){_destination('definition')}"
    r"|(?P<html>\b(?:href|src)[ \t]*=[ \t]*)(?P<quote>[\"'])(?P<value>[^\"'\n]*)(?P=quote)",
    re.MULTILINE | re.IGNORECASE,
)
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def absolute(target: str, *, root: Path, repository: str, tag: str) -> str:
    """`target`, a link in README.md, as an absolute URL at `tag`; absolute ones unchanged."""
    if not target or SCHEME.match(target) or target.startswith("//"):
        return target
    rest, hashmark, fragment = target.partition("#")
    path, question, query = rest.partition("?")
    path = unquote(path) or SOURCE
    normal = posixpath.normpath(path.lstrip("/") if path.startswith("/") else path)
    if normal == ".." or normal.startswith("../"):
        raise ReadmeError(
            f"{SOURCE} links to {target!r}, outside the repository: give its https URL"
        )
    match = GITHUB.fullmatch(repository)
    assert match is not None
    if normal == ".":
        url = f"{repository}/tree/{tag}"
    elif normal.lower().endswith(IMAGE_SUFFIXES):
        url = f"https://raw.githubusercontent.com/{match['owner']}/{match['repo']}/{tag}/"
        url += quote(normal)
    else:
        kind = "tree" if path.endswith("/") or (root / normal).is_dir() else "blob"
        url = f"{repository}/{kind}/{tag}/{quote(normal)}"
    return url + question + query + hashmark + fragment


def rewrite(text: str, convert: Callable[[str], str]) -> str:
    """`text` (Markdown) with every link destination outside code passed through `convert`."""

    def target(match: re.Match[str]) -> str:
        if match["html"] is not None:
            return f"{match['html']}{match['quote']}{convert(match['value'])}{match['quote']}"
        kind = "inline" if match["inline"] is not None else "definition"
        if match[f"{kind}_angle"] is not None:
            return f"{match[kind]}<{convert(match[f'{kind}_angle'])}>"
        return f"{match[kind]}{convert(match[f'{kind}_bare'])}"

    def prose(chunk: str) -> str:
        pieces = []
        start = 0
        for span in CODE_SPAN.finditer(chunk):
            pieces += [TARGETS.sub(target, chunk[start : span.start()]), span[0]]
            start = span.end()
        return "".join([*pieces, TARGETS.sub(target, chunk[start:])])

    out: list[str] = []
    chunk: list[str] = []
    fence = ""
    for line in text.splitlines(keepends=True):
        if fence:
            out.append(line)
            if re.match(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", line):
                fence = ""
        elif opening := FENCE.match(line):
            out += [prose("".join(chunk)), line]
            chunk, fence = [], opening[1]
        else:
            chunk.append(line)
    return "".join([*out, prose("".join(chunk))])


def pypi_readme(root: Path) -> str:
    """README.md as PyPI shows it: every relative link absolute, at the version's tag."""
    tag = f"v{project_version(root)}"
    url = repository(root)
    text = (root / SOURCE).read_text(encoding="utf-8")
    return rewrite(text, lambda target: absolute(target, root=root, repository=url, tag=tag))


def target_path(root: Path) -> Path:
    """`[tool.setuptools.dynamic] readme`'s one file, which the hooks write."""
    readme = pyproject(root)["tool"]["setuptools"]["dynamic"]["readme"]
    files = [readme["file"]] if isinstance(readme["file"], str) else readme["file"]
    if len(files) != 1:
        raise ReadmeError("[tool.setuptools.dynamic] readme must name one file")
    return root / files[0]


def write_pypi_readme(root: Path) -> Path:
    """Write the PyPI copy where setuptools reads it (atomically: builds may run side by side)."""
    path = target_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = pypi_readme(root)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".readme-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.replace(temporary, path)
    return path


# --- the PEP 517 hooks: write the copy, then setuptools (the cwd is the source tree) ----------


def _setuptools() -> Any:
    write_pypi_readme(Path.cwd())
    from setuptools import build_meta  # type: ignore[import-untyped]

    return build_meta


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> list[str]:
    result: list[str] = _setuptools().get_requires_for_build_sdist(config_settings)
    return result


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> list[str]:
    result: list[str] = _setuptools().get_requires_for_build_wheel(config_settings)
    return result


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> list[str]:
    result: list[str] = _setuptools().get_requires_for_build_editable(config_settings)
    return result


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    result: str = _setuptools().prepare_metadata_for_build_wheel(
        metadata_directory, config_settings
    )
    return result


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: ConfigSettings = None
) -> str:
    result: str = _setuptools().prepare_metadata_for_build_editable(
        metadata_directory, config_settings
    )
    return result


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    result: str = _setuptools().build_sdist(sdist_directory, config_settings)
    return result


def build_wheel(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    result: str = _setuptools().build_wheel(wheel_directory, config_settings, metadata_directory)
    return result


def build_editable(
    wheel_directory: str,
    config_settings: ConfigSettings = None,
    metadata_directory: str | None = None,
) -> str:
    result: str = _setuptools().build_editable(wheel_directory, config_settings, metadata_directory)
    return result
