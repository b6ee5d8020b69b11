"""How the runway model's tuned constants were chosen, and what each choice does to a family it
was not chosen on.

The model has three constants that no data of one team can set: the growth prior
(`spending.GROWTH_SHARE`, the share of teams whose use grows or shrinks at all, and
`spending.GROWTH_SD`, how fast they do), and how many days of the vendor's spec costs the
dispersion's prior weighs (`spending.PRIOR_DAYS`).
Each is chosen on the evidence that speaks to it. The dispersion's prior is about the noise
of a stream of specs, which a steady Poisson stream tests exactly: for each growth prior, its
weight is the one at which the band holds the truth closest to 80 % of the time over
STATIONARY_DRAWS such teams (`runway_traces.stationary_team`, `stationary_coverage`; a
lighter prior plugs in a dispersion read from a few days and under-covers, a heavier one
over-covers). The growth prior is about which teams grow, which only the families test: it is
chosen on the tuning seeds (TUNING_SEEDS, every STRIDE-th reading) by one loss per
family: how far the band's coverage is from 80 % and the share of floors before the shown
runway from 50 %, the median and p90 errors over the family's targets, and false and missed
alarms over their bounds. Then, for each family, the same choice is made again without that family
(leave one family out): its row in the table is what it would score with constants chosen on
the others only. A constant that helps only where it was chosen shows up there.

`python -m bench.runway_tune` prints the grid and the leave-one-family-out table. The held-out
seeds (`runway_eval.HELD_OUT_SEEDS`) are never used here.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from predev_integrations._core import spending
from predev_integrations._core.forecast import forecast

from . import runway_eval
from .runway_traces import FAMILIES, stationary_team

TUNING_SEEDS = range(0, 10)
STRIDE = 8
#: The families scored (an idle key has no runway: its alarms are checked by the evaluation).
SCORED = tuple(f for f in FAMILIES if f != "idle")
GRID = {
    "GROWTH_SHARE": (0.3, 0.5, 0.7),
    "GROWTH_SD": (0.035, 0.05, 0.07),
    "PRIOR_DAYS": (0.03, 0.1, 0.5, 1.0, 2.0, 4.0),
}
#: Teams of the stationary stream a setting's calibration is checked on (`stationary_coverage`).
STATIONARY_DRAWS = 3_600
STATIONARY_NOW = 1_796_018_400.0  # 30 Nov 2026 06:00 UTC, as tests/core's NOW

Metrics = dict[str, float]


def _run(setting: tuple[tuple[str, float], ...], family: str, seeds: Sequence[int]) -> Metrics:
    """One family's metrics with the constants set to `setting` (in a worker process)."""
    for name, value in setting:
        setattr(spending, name, value)
    results = runway_eval.evaluate([family], seeds, ("ours",), stride=STRIDE)
    row = runway_eval.rows(results)[0]
    return {k: float(str(v)) for k, v in row.items() if isinstance(v, (int, float))}


def stationary_coverage(setting: tuple[tuple[str, float], ...]) -> float:
    """The share of STATIONARY_DRAWS stationary teams whose floor the band holds, with the
    constants set to `setting` (in a worker process)."""
    for name, value in setting:
        setattr(spending, name, value)
    rng, inside = random.Random(0), 0
    for _ in range(STATIONARY_DRAWS):
        readings, floor, truth = stationary_team(rng, STATIONARY_NOW)
        result = forecast(readings, floor, now=readings[-1][0])
        low = result.seconds_to_floor_p10 or 0.0
        high = result.seconds_to_floor_p90 or math.inf
        inside += low <= truth <= high
    return inside / STATIONARY_DRAWS


def calibrated(
    coverage: dict[tuple[tuple[str, float], ...], float],
) -> set[tuple[tuple[str, float], ...]]:
    """For each growth prior, the setting whose dispersion prior holds the stationary band
    closest to 80 %."""
    best: dict[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]] = {}
    for setting, share in coverage.items():
        growth = tuple(item for item in setting if item[0] != "PRIOR_DAYS")
        if growth not in best or abs(share - 0.8) < abs(coverage[best[growth]] - 0.8):
            best[growth] = setting
    return set(best.values())


def loss(family: str, m: Metrics) -> float:
    """Lower is better: calibration's distance from its aim (80 % in the band, half the floors
    before the shown runway), the errors over the family's targets, and a false alarm rate over
    3 % or a missed one over its bound (`runway_eval.MISSED`; any alarm for a key that must
    raise none) as a penalty that no error outweighs."""
    parts = [abs(m["band"] - 0.8) / 0.1, abs(m["before_median"] - 0.5) / 0.15]
    if family in runway_eval.TARGETS:
        median, p90 = runway_eval.TARGETS[family]
        parts += [m["median"] / median, m["p90"] / p90]
    parts += [max(0.0, m[f"false_{d}"] - 0.03) * 100 for d in ("3d", "7d")]
    missed = runway_eval.MISSED.get(family, runway_eval.MISSED_DEFAULT)
    parts += [max(0.0, m[f"missed_{d}"] - missed) * 100 for d in ("3d", "7d")]
    if family in runway_eval.NO_ALARM:
        parts.append(min(m["alarms"], 100.0) / 10)
    return math.fsum(0.0 if math.isnan(p) else p for p in parts)


def grid(
    seeds: Sequence[int], workers: int
) -> dict[tuple[tuple[str, float], ...], dict[str, Metrics]]:
    settings = [
        tuple(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())
    ]
    jobs = [(s, f) for s in settings for f in SCORED]
    with ProcessPoolExecutor(workers) as pool:
        done = pool.map(_run, *zip(*jobs, strict=True), itertools.repeat(seeds))
        out: dict[tuple[tuple[str, float], ...], dict[str, Metrics]] = {}
        for (setting, family), metrics in zip(jobs, done, strict=True):
            out.setdefault(setting, {})[family] = metrics
    return out


def _text(setting: tuple[tuple[str, float], ...]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in setting)


def report(
    results: dict[tuple[tuple[str, float], ...], dict[str, Metrics]],
    coverage: dict[tuple[tuple[str, float], ...], float],
) -> str:
    total = {s: math.fsum(loss(f, m) for f, m in by.items()) for s, by in results.items()}
    allowed = calibrated(coverage)
    chosen = min(allowed, key=total.__getitem__)
    lines = ["| setting | loss, all families | stationary band holds |", "|---|---|---|"]
    lines += [
        f"| {_text(s)}{' (chosen)' if s == chosen else ''} | {v:.2f} "
        f"| {coverage[s]:.1%}{' (closest to 80 %)' if s in allowed else ''} |"
        for s, v in sorted(total.items())
    ]
    lines += [
        "",
        "| family | chosen without it | its median / p90 error | band holds | floor before shown "
        "| with the constants chosen on all |",
        "|---|---|---|---|---|---|",
    ]
    p = runway_eval._p
    for family in SCORED:
        without = min(
            allowed,
            key=lambda s: math.fsum(loss(f, m) for f, m in results[s].items() if f != family),
        )
        m, a = results[without][family], results[chosen][family]
        lines.append(
            f"| {family} | {_text(without)} | {p(m['median'])} / {p(m['p90'])} | {p(m['band'])} "
            f"| {p(m['before_median'])} | {p(a['median'])} / {p(a['p90'])}, band {p(a['band'])}, "
            f"before {p(a['before_median'])} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runway_tune", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--save", help="also write every family's metrics per setting (JSON)")
    parser.add_argument("--load", help="report on metrics saved by --save instead of running")
    args = parser.parse_args(argv)
    if args.load:
        with open(args.load, encoding="utf-8") as handle:
            saved = json.load(handle)
        results: dict[tuple[tuple[str, float], ...], dict[str, Metrics]] = {}
        for row in saved:
            setting = tuple((name, float(row["setting"][name])) for name in GRID)
            metrics = {k: v for k, v in row.items() if k not in ("setting", "family")}
            results.setdefault(setting, {})[row["family"]] = metrics
    else:
        results = grid(TUNING_SEEDS, args.workers)
    with ProcessPoolExecutor(args.workers) as pool:
        coverage = dict(zip(results, pool.map(stationary_coverage, results), strict=True))
    if args.save and not args.load:
        rows = [
            {"setting": dict(s), "family": f, **m}
            for s, by in results.items()
            for f, m in by.items()
        ]
        with open(args.save, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)
    print(report(results, coverage))
    return 0


if __name__ == "__main__":
    sys.exit(main())
