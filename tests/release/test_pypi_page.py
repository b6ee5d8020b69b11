"""The PyPI page: the distributions' long description is README.md with every link absolute,
into this repository at the release's tag (devtools/build_backend.py writes it before each
build hook), and `devtools.release_check` refuses a page with a link that would 404.

The rewriting is checked against markdown-it-py, a CommonMark parser, not against the
backend's own regular expressions; the built files come from the session's one build.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from devtools import build_backend, release_check
from devtools.build_backend import ReadmeError
from predev_integrations import __version__
from tests.release.test_docs import anchors

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
TAG = f"v{__version__}"
URL = "https://github.com/predev/credits-check"
BLOB = f"{URL}/blob/{TAG}"
RAW = f"https://raw.githubusercontent.com/predev/credits-check/{TAG}"


def page(markdown: str) -> str:
    """`markdown` as the backend rewrites README.md for this checkout's release."""
    return build_backend.rewrite(
        markdown, lambda target: build_backend.absolute(target, root=REPO, repository=URL, tag=TAG)
    )


def tokens(markdown: str) -> Iterator[Token]:
    stack = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    while stack:
        token = stack.pop(0)
        stack[:0] = token.children or []
        yield token


# --- the rewriting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("[a](docs/cli.md)", f"[a]({BLOB}/docs/cli.md)"),
        ("[a](docs/cli.md#exit-codes)", f"[a]({BLOB}/docs/cli.md#exit-codes)"),
        ("[a](docs/cli.md?plain=1#L3)", f"[a]({BLOB}/docs/cli.md?plain=1#L3)"),
        ("[a](#quick-start)", f"[a]({BLOB}/README.md#quick-start)"),
        ("[a](./docs/../LICENSE)", f"[a]({BLOB}/LICENSE)"),
        ("[a](/docs/cli.md)", f"[a]({BLOB}/docs/cli.md)"),
        ("[a](docs/airflow)", f"[a]({URL}/tree/{TAG}/docs/airflow)"),
        ("[a](docs/airflow/)", f"[a]({URL}/tree/{TAG}/docs/airflow)"),
        ("[a](.)", f"[a]({URL}/tree/{TAG})"),
        ('[a](docs/cli.md "The CLI")', f'[a]({BLOB}/docs/cli.md "The CLI")'),
        ("[a](<docs/a file.md>)", f"[a](<{BLOB}/docs/a%20file.md>)"),
        ("[a\nb](\ndocs/cli.md)", f"[a\nb](\n{BLOB}/docs/cli.md)"),
        ("![d](docs/d.PNG)", f"![d]({RAW}/docs/d.PNG)"),
        ("[![b](b.svg)](docs/cli.md)", f"[![b]({RAW}/b.svg)]({BLOB}/docs/cli.md)"),
        ("[cli]\n\n[cli]: docs/cli.md\n", f"[cli]\n\n[cli]: {BLOB}/docs/cli.md\n"),
        ("[cli][x]\n\n [x]: <LICENSE> 'L'\n", f"[cli][x]\n\n [x]: <{BLOB}/LICENSE> 'L'\n"),
        (
            "<a href=\"docs/cli.md\"><img src='d.gif'></a>",
            f"<a href=\"{BLOB}/docs/cli.md\"><img src='{RAW}/d.gif'></a>",
        ),
    ],
)
def test_a_relative_link_becomes_absolute_at_the_tag(markdown: str, expected: str) -> None:
    assert page(markdown) == expected


@pytest.mark.parametrize(
    "markdown",
    [
        "[a](https://pre.dev) [b](https://github.com/predev/credits-check/issues) <https://x.y>",
        "[m](mailto:a@example.com) [e]() [n](//example.com/x)",
        "`[a](docs/cli.md)` and `` `[b](docs/cli.md)` ``",
        "```md\n[a](docs/cli.md)\n```\n",
        "  ~~~~\n```\n[a](docs/cli.md)\n~~~~\n",
        "- item\n\n  ```yaml\n  see: [a](docs/cli.md)\n  ```\n",
    ],
)
def test_absolute_links_and_code_are_left_alone(markdown: str) -> None:
    assert page(markdown) == markdown


def test_code_closes_where_commonmark_closes_it() -> None:
    markdown = "```\n[a](x.md)\n```\n[b](docs/cli.md) `c` [d](LICENSE)\n"
    assert page(markdown) == (
        f"```\n[a](x.md)\n```\n[b]({BLOB}/docs/cli.md) `c` [d]({BLOB}/LICENSE)\n"
    )


def test_a_link_out_of_the_repository_stops_the_build_with_one_line() -> None:
    with pytest.raises(ReadmeError) as refused:
        page("[a](docs/../../x.md)")
    assert str(refused.value) == (
        "README.md links to 'docs/../../x.md', outside the repository: give its https URL"
    )


def test_the_readme_page_has_every_link_the_readme_has_and_no_other_change() -> None:
    """Same text, same links in the same order; the relative ones now absolute; and written
    again, nothing changes."""
    before, after = list(tokens(README)), list(tokens(page(README)))
    assert [t.content for t in before if t.type == "text"] == [
        t.content for t in after if t.type == "text"
    ]
    hrefs = [[t.attrs["href"] for t in ts if t.type == "link_open"] for ts in (before, after)]
    assert len(hrefs[0]) == len(hrefs[1]) > 0
    changed = [(old, new) for old, new in zip(*hrefs, strict=True) if old != new]
    assert changed
    assert all(not old.startswith("https://") and new.startswith(BLOB) for old, new in changed)
    assert page(page(README)) == page(README)


def test_the_repository_is_the_one_the_readme_installs_the_hook_from() -> None:
    assert build_backend.repository(REPO) == URL
    hooks = [
        yaml.safe_load(block)
        for block in re.findall(r"^```yaml\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
        if "repos:" in block
    ]
    assert [repo["repo"] for hook in hooks for repo in hook["repos"]] == [URL]


@pytest.mark.parametrize(
    ("pyproject", "problem"),
    [
        ('[project]\nname = "x"\n', r"^\[project\.urls\] Repository is '': set it to https://"),
        (
            '[project.urls]\nRepository = "https://gitlab.com/a/b"\n',
            r"^\[project\.urls\] Repository is 'https://gitlab\.com/a/b'",
        ),
    ],
)
def test_a_repository_that_is_not_on_github_is_refused_with_one_line(
    tmp_path: Path, pyproject: str, problem: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    with pytest.raises(ReadmeError, match=problem):
        build_backend.repository(tmp_path)


def test_the_version_is_the_one_setuptools_reads() -> None:
    assert build_backend.project_version(REPO) == __version__
    assert release_check.project_version() == __version__


# --- the release check's link check -----------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "problem"),
    [
        (f"[a]({BLOB}/docs/cli.md#exit-codes) [b]({URL}/issues) ![c]({RAW}/LICENSE)", None),
        ("[a](docs/cli.md)", "docs/cli.md: not an absolute https link"),
        ("[a](#quick-start)", "#quick-start: not an absolute https link"),
        ("[a](http://pre.dev)", "http://pre.dev: not an absolute https link"),
        ('<a href="docs/cli.md">a</a>', "docs/cli.md: not an absolute https link"),
        ("See <img src='d.png'> here.", "d.png: not an absolute https link"),
        ("[a]\n\n[a]: LICENSE\n", "LICENSE: not an absolute https link"),
        (
            f"[a]({URL}/blob/main/docs/cli.md)",
            f"{URL}/blob/main/docs/cli.md: at main, not the release's tag {TAG}",
        ),
        (f"[a]({BLOB}/docs/gone.md)", f"{BLOB}/docs/gone.md: no docs/gone.md in the repository"),
        (f"![a]({RAW}/gone.png)", f"{RAW}/gone.png: no gone.png in the repository"),
        (f"[a]({BLOB}/docs/../../x)", f"{BLOB}/docs/../../x: no docs/../../x in the repository"),
    ],
)
def test_the_release_check_names_every_link_that_would_404(
    markdown: str, problem: str | None
) -> None:
    assert release_check.page_problems(markdown, __version__) == ([problem] if problem else [])


def fake_dists(tmp_path: Path, pkg_info: str, metadata: str) -> tuple[Path, Path]:
    sdist, wheel = tmp_path / "x-1.tar.gz", tmp_path / "x-1-py3-none-any.whl"
    (tmp_path / "PKG-INFO").write_text(pkg_info, encoding="utf-8")
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(tmp_path / "PKG-INFO", "x-1/PKG-INFO")
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("x-1.dist-info/METADATA", metadata)
    return sdist, wheel


@pytest.mark.parametrize(
    ("pkg_info", "metadata", "message"),
    [
        (
            "Name: x\n\n[a](docs/cli.md)\n",
            "Name: x\n\n[a](docs/cli.md)\n",
            "the PyPI page has 1 broken link(s) (the build backend is devtools/build_backend.py):"
            " docs/cli.md: not an absolute https link",
        ),
        ("Name: x\n", "Name: x\n", "the wheel's METADATA carries no long description"),
        (
            f"Name: x\n\n[a]({BLOB}/LICENSE)\n",
            "Name: x\n\nelse\n",
            "the sdist's long description (PKG-INFO) is not the wheel's (METADATA)",
        ),
    ],
)
def test_the_release_check_refuses_a_page_with_one_line(
    tmp_path: Path, pkg_info: str, metadata: str, message: str
) -> None:
    sdist, wheel = fake_dists(tmp_path, pkg_info, metadata)
    with pytest.raises(release_check.CheckFailed) as failed:
        release_check.check_pypi_page(sdist, wheel, __version__)
    assert str(failed.value) == message


# --- the built distributions -------------------------------------------------------------------


@pytest.mark.integration
def test_the_wheel_and_the_sdist_carry_the_page_with_absolute_links(
    wheel: zipfile.ZipFile, sdist: tarfile.TarFile
) -> None:
    info = f"predev_integrations-{__version__}"
    metadata = wheel.read(f"{info}.dist-info/METADATA")
    member = sdist.extractfile(f"{info}/PKG-INFO")
    assert member is not None
    pkg_info = member.read()
    body = release_check.body(metadata)
    assert body == release_check.body(pkg_info) == build_backend.pypi_readme(REPO) != README
    assert b"\nDescription-Content-Type: text/markdown\n" in metadata
    assert f"[Quick start]({BLOB}/README.md#quick-start)" in body
    assert release_check.page_problems(body, __version__) == []
    # README.md itself ships relative, as GitHub shows it; the PyPI copy stays out of the sdist.
    member = sdist.extractfile(f"{info}/README.md")
    assert member is not None
    assert member.read().decode("utf-8") == README
    assert f"{info}/build/pypi/README.md" not in sdist.getnames()


@pytest.mark.integration
def test_every_link_into_the_repository_names_a_file_and_anchor_of_the_tag(
    wheel: zipfile.ZipFile,
) -> None:
    body = release_check.body(wheel.read(f"predev_integrations-{__version__}.dist-info/METADATA"))
    into_repository = [url for url in release_check.page_links(body) if url.startswith(URL)]
    relative = [
        t for t in tokens(README) if t.type == "link_open" and "://" not in str(t.attrs["href"])
    ]
    assert len(into_repository) >= len(relative) > 0
    for url in into_repository:
        path, _, anchor = url.removeprefix(f"{BLOB}/").partition("#")
        assert (REPO / path).is_file(), url
        assert not anchor or anchor in anchors(REPO / path), url


@pytest.mark.integration
def test_the_sdist_builds_the_same_page_again(
    sdist: tarfile.TarFile, wheel: zipfile.ZipFile, tmp_path: Path
) -> None:
    """What a distributor does: unpack the sdist and build both from it (with this
    environment's setuptools, offline)."""
    sdist.extractall(tmp_path / "src", filter="data")
    [source] = (tmp_path / "src").iterdir()
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    info = f"predev_integrations-{__version__}"
    with tarfile.open(out / f"{info}.tar.gz") as again:
        member = again.extractfile(f"{info}/PKG-INFO")
        assert member is not None
        assert member.read() == (source / "PKG-INFO").read_bytes()
    with zipfile.ZipFile(out / f"{info}-py3-none-any.whl") as again_wheel:
        metadata = f"{info}.dist-info/METADATA"
        assert again_wheel.read(metadata) == wheel.read(metadata)
