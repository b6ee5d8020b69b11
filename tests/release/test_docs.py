"""The user's manual (README.md and docs/) holds together: every relative link and anchor
resolves, every page is reachable from the README, the quick start runs as printed, the code
shows only public names, and the reference tables list every flag, config key and JSON field.

Offline: the files are parsed; the quick start and the JSON example run against the sandbox.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from predev_integrations import sandbox
from predev_integrations._cli.config import CONFIG_KEYS
from predev_integrations._cli.main import build_parser
from predev_integrations.sandbox import Sandbox
from tests.conftest import CliResult

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"
MANUAL = [README, *sorted(DOCS.rglob("*.md"))]
CHECKED = [*MANUAL, REPO / "CONTRIBUTING.md"]

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[(?:[^\]\n]|\][^(])*\]\(([^)\s]+)\)")
EXTERNAL = ("http://", "https://", "mailto:")


def prose(path: Path) -> str:
    """The text outside fenced blocks and inline code, where Markdown links live."""
    return CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def blocks(path: Path, language: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            base = slug(match[1])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[str]:
    for target in LINK.findall(prose(path)):
        if not target.startswith(EXTERNAL):
            yield target


def broken(path: Path) -> list[str]:
    """The relative links of `path` that name a missing file or a missing anchor."""
    problems = []
    for target in links(path):
        name, _, anchor = target.partition("#")
        dest = (path.parent / name).resolve() if name else path
        if not dest.is_relative_to(REPO) or not dest.exists():
            problems.append(f"{target}: no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            problems.append(f"{target}: no such anchor")
    return problems


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_names_an_existing_file_and_anchor(path: Path) -> None:
    assert broken(path) == []


def test_the_link_check_finds_a_broken_file_and_a_broken_anchor(tmp_path: Path) -> None:
    page = REPO / "docs" / "_probe.md"
    assert not page.exists()
    try:
        page.write_text(
            "# Probe\n\n[ok](cli.md#exit-codes) [self](#probe) [file](gone.md) "
            "[anchor](cli.md#gone) `[code](gone.md)`\n\n```\n[fenced](gone.md)\n```\n",
            encoding="utf-8",
        )
        assert broken(page) == ["gone.md: no such file", "cli.md#gone: no such anchor"]
    finally:
        page.unlink()


def test_every_page_of_the_manual_is_reachable_from_the_readme() -> None:
    reached, todo = {README}, [README]
    while todo:
        page = todo.pop()
        for target in links(page):
            name = target.partition("#")[0]
            dest = (page.parent / name).resolve() if name else page
            if dest.suffix == ".md" and dest.is_relative_to(DOCS) and dest not in reached:
                reached.add(dest)
                todo.append(dest)
    assert set(MANUAL) - reached == set()


def test_the_readme_keeps_the_homes_others_link_to() -> None:
    """Tests, code comments and other pages point at these README sections by name."""
    assert {"quick-start", "supported-versions", "known-issues", "security"} <= anchors(README)


# --- the quick start ---------------------------------------------------------------------------


def test_the_quick_start_check_against_the_sandbox_prints_what_the_readme_shows(
    run_cli: Callable[..., CliResult],
) -> None:
    [block] = [b for b in blocks(README, "bash") if "predev-sandbox" in b]
    balance = float(re.search(r"predev-sandbox .*--balance (\S+)", block)[1])  # type: ignore[index]
    command = re.search(r"predev-credits-check (.*)", block)[1]  # type: ignore[index]
    [expected] = re.findall(r"^# (.*)$", block, re.MULTILINE)
    assert "PREDEV_API_KEY=sandbox-key" in block
    with Sandbox(key="sandbox-key", balance=balance) as server:
        result = run_cli(
            *shlex.split(command),
            env={"PREDEV_BASE_URL": server.url, "PREDEV_API_KEY": "sandbox-key"},
        )
    assert (result.code, result.stdout.strip()) == (0, expected)


def hook_ids() -> set[str]:
    return {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}


def test_the_quick_start_action_step_and_hook_use_what_the_repository_declares() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    required = {name for name, spec in action["inputs"].items() if spec.get("required")}
    steps, hooks = [], []
    for text in blocks(README, "yaml"):
        data = yaml.safe_load(text)
        if isinstance(data, list):
            steps += [step for step in data if step.get("uses") == "predev/credits-check@v1"]
        else:
            hooks += [hook["id"] for repo in data["repos"] for hook in repo["hooks"]]
    assert steps, "no Action step in the README's quick start"
    assert hooks, "no pre-commit hook in the README's quick start"
    for step in steps:
        assert required <= set(step["with"]) <= set(action["inputs"])
    assert set(hooks) <= hook_ids()


# --- public names only -------------------------------------------------------------------------


def python_blocks() -> list[tuple[str, str]]:
    return [
        (f"{path.relative_to(REPO)}#{number}", text)
        for path in MANUAL
        for number, text in enumerate(blocks(path, "python"), 1)
    ]


@pytest.mark.parametrize(("where", "code"), python_blocks(), ids=[w for w, _ in python_blocks()])
def test_every_name_the_manual_imports_exists(where: str, code: str) -> None:
    names = [
        (node.module, alias.name)
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    ]
    assert names, where
    for module, name in names:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


@pytest.mark.parametrize("path", MANUAL, ids=lambda p: str(p.relative_to(REPO)))
def test_the_manual_names_no_private_module(path: Path) -> None:
    """Users get the public names; `_core`, `_http` and friends may change in any release."""
    private = re.findall(r"predev_(?:integrations|airflow)(?:\.\w+)*\._(?!_)\w+", path.read_text())
    assert private == []


# --- reference tables --------------------------------------------------------------------------


def flags(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text)) - {"--help"}


def table_flags(path: Path) -> set[str]:
    """The flags named in the first column of the page's tables."""
    lines = path.read_text(encoding="utf-8").splitlines()
    names = [line.split(" | ")[0] for line in lines if line.startswith("| `--")]
    return {flag for name in names for flag in re.findall(r"--[a-z][a-z-]*", name)}


@pytest.fixture
def wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse wraps help at the terminal's width, which could split a flag's name."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.mark.usefixtures("wide_help")
def test_every_cli_flag_is_in_the_flags_table() -> None:
    assert flags(build_parser().format_help()) == table_flags(DOCS / "cli.md")


@pytest.mark.usefixtures("wide_help")
def test_every_sandbox_flag_is_in_the_sandbox_table(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sandbox.main(["--help"])
    assert flags(capsys.readouterr().out) == table_flags(DOCS / "sandbox.md")


def test_the_config_example_shows_every_key() -> None:
    [example] = blocks(DOCS / "configuration.md", "yaml")
    assert list(yaml.safe_load(example)) == list(CONFIG_KEYS)


def test_the_json_example_has_the_keys_the_cli_prints(
    run_cli: Callable[..., CliResult],
) -> None:
    documented = re.search(r"`(\{\"status\".*?\})`", (DOCS / "cli.md").read_text())
    assert documented is not None
    result = run_cli("--format", "json", "--min-credits", "50")
    assert list(json.loads(result.stdout)) == list(json.loads(documented[1]))
