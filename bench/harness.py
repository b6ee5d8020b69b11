"""Timing primitives: interleaved runs and medians, so a noisy neighbour hits every case alike."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

Case = Callable[[], object]


def interleave(cases: Mapping[str, Case], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run every case once per round, rotating the order; return seconds per case.

    Rotation means no case always runs first (cold caches) or right after a given other one.
    The first `warmup` rounds are discarded.
    """
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(warmup + repeats):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            cases[name]()
            elapsed = time.perf_counter() - start
            if round_no >= warmup:
                samples[name].append(elapsed)
    return samples


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def command(
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path | None = None,
    expect: str | None = None,
    codes: Sequence[int] = (0,),
) -> Case:
    """A case that runs `argv` and fails loudly if it did not do the real work."""

    def run() -> None:
        proc = subprocess.run(
            list(argv), env=dict(env), cwd=cwd, capture_output=True, check=False, timeout=120
        )
        out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
        if proc.returncode not in codes or (expect is not None and expect not in out):
            raise RuntimeError(
                f"{argv[0]} exited {proc.returncode} (expected {list(codes)}"
                f"{f', output containing {expect!r}' if expect else ''}): {out.strip()[:300]}"
            )

    return run


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without PREDEV_/GITHUB_/PYTHON settings or proxies, plus `extra`.

    The bench picks every interpreter and venv itself: a PYTHONPATH would put the checkout
    beside the installed package (pip then thinks it installed), PYTHONDONTWRITEBYTECODE
    would compile modules from source on every run.
    """
    drop = ("PREDEV_", "GITHUB_", "RUNNER_", "PRE_COMMIT", "PYTHON")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(drop) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(NO_PROXY="127.0.0.1,localhost,::1", **extra)
    return env
