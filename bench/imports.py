"""Part 3: what each CLI path imports (`-X importtime`), and what it must never import."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from .env import CACHE_TTL, CLI, PYTHON, Stage
from .harness import median
from .table import Row

#: Top-level packages that a path may pull in only when it truly needs them.
FORBIDDEN = {
    "cache hit": ("httpx", "httpcore", "ssl", "yaml", "airflow"),
    "live, no config file": ("yaml", "airflow"),
}
HEAVY_MS = 1.0


def importtime(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> dict[str, float]:
    """Module name -> self import time in ms, from one `python -X importtime` run."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", *argv],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} exited {proc.returncode}: {proc.stderr.decode()[-300:]}")
    modules: dict[str, float] = {}
    for line in proc.stderr.decode().splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        modules[name.strip()] = int(self_us) / 1000
    return modules


def path_cost(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, baseline: set[str], repeats: int
) -> tuple[float, dict[str, float]]:
    """(median ms spent importing modules beyond interpreter start, ms per top-level package)."""
    totals: list[float] = []
    per_package: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        extra = {m: t for m, t in importtime(argv, env, cwd).items() if m not in baseline}
        totals.append(sum(extra.values()))
        sums: dict[str, float] = defaultdict(float)
        for module, took in extra.items():
            sums[module.split(".")[0]] += took
        for package, took in sums.items():
            per_package[package].append(took)
    return median(totals), {p: median(v) for p, v in per_package.items()}


def heavy(per_package: Mapping[str, float], limit: int = 8) -> str:
    ranked = sorted(per_package.items(), key=lambda item: -item[1])
    shown = [f"{name} {took:.1f}" for name, took in ranked if took >= HEAVY_MS][:limit]
    return ", ".join(shown) or "none ≥ 1 ms"


def rows(stage: Stage, repeats: int) -> list[Row]:
    stage.fill_cache()
    env = stage.env()
    baseline = set(importtime(["-c", "pass"], env, stage.work))
    config_dir = stage.tmp / "with-config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / ".predev-credits.yml").write_text("min_credits: 1\n")
    paths = (
        ("cache hit", [CLI, "--cache-ttl", CACHE_TTL], stage.work),
        ("live, no config file", [CLI], stage.work),
        ("live, with config file", [CLI], config_dir),
    )
    result = []
    for name, argv, cwd in paths:
        total, per_package = path_cost(argv, env, cwd, baseline, repeats)
        banned = FORBIDDEN.get(name, ())
        loaded = sorted(p for p in banned if p in per_package)
        if banned:
            target = "no " + ", ".join(banned)
            met: bool | None = not loaded
        else:
            target, met = "— (yaml expected)", None
        note = f"heavy (ms): {heavy(per_package)}"
        if loaded:
            note += f"; LOADED: {', '.join(loaded)}"
        result.append(
            Row(
                "3",
                f"Imports beyond `python -c pass`: {name}",
                f"{total:.1f} ms, {len(per_package)} pkgs",
                f"{len(baseline)} modules at start",
                "",
                target,
                met,
                note,
            )
        )
    return result
