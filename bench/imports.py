"""Part 3a: where import time goes (`-X importtime`) on the CLI's cache-hit and live paths.

Each path is compared with what it must at least load: the cache hit with `python -c pass`,
the live check with the bare httpx one-liner. The map lists the extra modules by top-level
package and, for each, which of our modules (or a run-time import) pulled it in first.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .harness import median

FIRST_PARTY = ("predev_integrations", "predev_airflow")
RUN_TIME = "(a function, at run time)"

#: What a cache hit needs beyond `python -c pass`: our modules, json (the cache file is JSON),
#: hashlib (its name is a SHA-256 of URL and key) and a few built-in modules. Every other
#: module on that path is a candidate for deferring.
CACHE_HIT_NEEDS = frozenset(
    {*FIRST_PARTY, "json", "_json", "hashlib", "_hashlib", "_blake2", "math", "errno", "gc"}
)
#: Never on a cache hit, never on a live check without a config file.
FORBIDDEN = {
    "cache hit": ("httpx", "httpcore", "ssl", "yaml", "airflow"),
    "live": ("yaml", "airflow"),
}


@dataclass(frozen=True)
class Import:
    name: str
    self_ms: float
    cumulative_ms: float
    parent: str | None  # whose import statement loaded it; None: the script or a function


def parse(stderr: str) -> list[Import]:
    """The `-X importtime` lines, each with the module that imported it.

    Lines come in post-order (children first) with two spaces of indent per level, so a
    line's parent is the next line one level up.
    """
    rows: list[tuple[str, float, float, int]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, field = line.removeprefix("import time:").split("|", 2)
        name = field.lstrip(" ")
        rows.append((name, int(self_us) / 1000, int(cumulative_us) / 1000, len(field) - len(name)))
    parents: dict[int, str] = {}
    waiting: dict[int, list[int]] = defaultdict(list)  # indent -> rows awaiting their parent
    for index, (name, _s, _c, indent) in enumerate(rows):
        for child in waiting.pop(indent + 2, []):
            parents[child] = name
        waiting[indent].append(index)
    return [Import(n, s, c, parents.get(i)) for i, (n, s, c, _) in enumerate(rows)]


def run(python: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> list[Import]:
    proc = subprocess.run(
        [python, "-X", "importtime", *argv],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:2]} exited {proc.returncode}: {proc.stderr[-300:]}")
    return parse(proc.stderr)


def top_level(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def _first_party_importer(imp: Import, by_name: Mapping[str, Import]) -> str:
    parent = imp.parent
    while parent is not None:
        if top_level(parent) in FIRST_PARTY:
            return parent
        parent = by_name[parent].parent if parent in by_name else None
    return RUN_TIME


@dataclass(frozen=True)
class PathCost:
    """Median import cost of one path beyond a baseline run's modules."""

    total_ms: float
    modules: int
    per_package: dict[str, float]  # top-level name -> ms (self times summed)
    pulled_by: dict[str, str]  # top-level name -> first importer of ours (or RUN_TIME)
    entry_points: dict[str, float]  # "ours -> theirs" import edges -> cumulative ms


def cost(runs: Sequence[list[Import]], baseline: set[str]) -> PathCost:
    totals: list[float] = []
    packages: dict[str, list[float]] = defaultdict(list)
    edges: dict[str, list[float]] = defaultdict(list)
    pulled_by: dict[str, str] = {}
    modules = 0
    for imports in runs:
        extra = [imp for imp in imports if imp.name not in baseline]
        by_name = {imp.name: imp for imp in imports}
        modules = len(extra)
        totals.append(sum(imp.self_ms for imp in extra))
        sums: dict[str, float] = defaultdict(float)
        for imp in extra:
            package = top_level(imp.name)
            sums[package] += imp.self_ms
            if package in FIRST_PARTY:
                continue
            # An edge: the first module of another package that one of ours (or a function,
            # at run time) imported directly; its cumulative time is what deferring it saves.
            if imp.parent is None or top_level(imp.parent) in FIRST_PARTY:
                edges[f"{imp.parent or RUN_TIME} → {imp.name}"].append(imp.cumulative_ms)
            pulled_by.setdefault(package, _first_party_importer(imp, by_name))
        for package, took in sums.items():
            packages[package].append(took)
    return PathCost(
        median(totals),
        modules,
        {p: median(v) for p, v in sorted(packages.items(), key=lambda kv: -median(kv[1]))},
        pulled_by,
        {e: median(v) for e, v in sorted(edges.items(), key=lambda kv: -median(kv[1]))},
    )


def loaded(path_cost: PathCost, banned: Sequence[str]) -> list[str]:
    return sorted(p for p in banned if p in path_cost.per_package)


def heavy(per_package: Mapping[str, float], limit: int = 6) -> str:
    shown = [f"{name} {took:.1f}" for name, took in per_package.items() if took >= 0.5]
    return ", ".join(shown[:limit]) or "none ≥ 0.5 ms"


def avoidable_on_cache_hit(path_cost: PathCost) -> dict[str, float]:
    return {p: t for p, t in path_cost.per_package.items() if p not in CACHE_HIT_NEEDS}


def render_map(title: str, path_cost: PathCost, mark_avoidable: bool, limit: int = 15) -> str:
    """A markdown section: the top packages by self time, and the import edges to defer."""
    lines = [
        f"#### {title}: {path_cost.total_ms:.1f} ms in {path_cost.modules} modules",
        "",
        "| Package | ms (self, summed) | First imported by | Needed? |",
        "|---|---|---|---|",
    ]
    for package, took in list(path_cost.per_package.items())[:limit]:
        if package in FIRST_PARTY:
            by, needed = "—", "ours"
        else:
            by = path_cost.pulled_by.get(package, RUN_TIME)
            needed = "" if not mark_avoidable else "yes" if package in CACHE_HIT_NEEDS else "no"
        lines.append(f"| {package} | {took:.2f} | {by} | {needed or '—'} |")
    lines += ["", "Import edges from our code (cumulative ms, what deferring each would save):", ""]
    lines += [
        f"- `{edge}`: {took:.2f}" for edge, took in list(path_cost.entry_points.items())[:limit]
    ]
    return "\n".join(lines)
