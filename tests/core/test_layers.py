"""The tree shows the layers: every import, lazy ones included, points down, never in a circle.

Layers, lowest first (CONTRIBUTING.md, "Layout"):
0. `__version__` and `errors`: facts every layer may name; they import nothing of ours.
1. `_core`: the pure core (no I/O, no clock, no httpx).
2. `_http` (the HTTP shell) and `_github` (GitHub's formats), side by side, unaware of each other.
3. `_cli`: the command line and what only it uses.
4. the package's face: `__init__`, `sandbox` and the two `python -m` entries
   (`__main__`, `github_action`).
The Airflow provider (`predev_airflow`) is a shell over layers 0-2; it never reaches the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = "predev_integrations"

#: Layer of each part of the core package; a module may import its own layer or lower ones.
LAYERS = {
    "__version__": 0,
    "errors": 0,
    "_core": 1,
    "_http": 2,
    "_github": 2,
    "_cli": 3,
    "__init__": 4,
    "__main__": 4,
    "github_action": 4,
    "sandbox": 4,
}
#: Parts of one layer that must not know each other.
STRANGERS = {("_http", "_github"), ("_github", "_http")}
#: What the provider may use of the core.
PROVIDER_MAY_USE = {"__version__", "errors", "_core", "_http"}


def imports_of(path: Path) -> set[str]:
    """Every first-party module `path` imports, at any depth of the file (lazy imports too)."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = name.split(".")[:-1]  # a package's __init__ is inside it, like its modules
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            found.add(stem)
            # `from . import x` / `from .pkg import mod` may name a submodule
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    modules = {m.removesuffix(".__init__") for m in all_modules()}
    return {m for m in found if m in modules and m != name.removesuffix(".__init__")}


def all_modules() -> dict[str, Path]:
    found = {}
    for top in (CORE, "predev_airflow"):
        for path in sorted((ROOT / top).rglob("*.py")):
            found[".".join(path.relative_to(ROOT).with_suffix("").parts)] = path
    return found


def part(module: str) -> str:
    """`predev_integrations._core.retry` -> `_core`; `predev_integrations.errors` -> `errors`."""
    pieces = module.split(".")
    if pieces[0] != CORE:
        return pieces[0]
    return pieces[1] if len(pieces) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    return {
        name.removesuffix(".__init__"): imports_of(path) for name, path in all_modules().items()
    }


def arrows() -> list[tuple[str, str]]:
    return sorted((src, dst) for src, dsts in graph().items() for dst in dsts)


def test_the_graph_is_read_from_the_real_tree() -> None:
    """A checker that found no arrows would pass anything."""
    found = set(arrows())
    assert ("predev_integrations._cli.main", "predev_integrations._http.client") in found
    assert ("predev_airflow.hooks.predev", "predev_integrations._http.shared_poll") in found
    assert len(found) > 50


@pytest.mark.parametrize(("src", "dst"), arrows(), ids=lambda m: m.replace("predev_", ""))
def test_every_import_points_down_or_sideways(src: str, dst: str) -> None:
    if part(src) == "predev_airflow":
        assert part(dst) in PROVIDER_MAY_USE | {"predev_airflow"}, f"{src} reaches {dst}"
        return
    assert part(dst) != "predev_airflow", f"the core imports the provider: {src} -> {dst}"
    assert LAYERS[part(dst)] <= LAYERS[part(src)], f"upward import: {src} -> {dst}"
    assert (part(src), part(dst)) not in STRANGERS, f"{src} -> {dst}"


def test_no_import_circles() -> None:
    edges = graph()
    # A package's __init__ re-exporting its children is not a circle of behaviour.
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt.startswith(node + ".") and node == CORE:
                continue
            if seen.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(edges):
        if node not in seen:
            visit(node)


def test_every_part_of_the_core_has_a_layer() -> None:
    parts = {part(m) for m in graph() if m.startswith(CORE)}
    assert parts <= set(LAYERS), parts - set(LAYERS)
