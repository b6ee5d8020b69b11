"""Part 5: the composite Action's install step, cold and warm, and the whole action run.

The steps of `action.yml` run as the runner runs them (`bash --noprofile --norc -eo pipefail`,
fresh GITHUB_OUTPUT files, `${{ }}` expanded) from a clean `git archive` of HEAD, the way a
workflow checks the action out. pip installs from `.venv/wheelhouse` when `make install`
built one (offline, like a runner behind a mirror), else from PyPI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from devtools.composite_action import run_action

from .env import ROOT, Stage
from .harness import median
from .table import Row, failed, ms, not_built, ratio, times

WARM_TARGET_S = 1.0
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


class ActionRunner:
    """Runs the action's steps; `runner_temp` decides cold (fresh) or warm (reused)."""

    def __init__(self, stage: Stage, action_path: Path, env: Mapping[str, str]) -> None:
        self.stage = stage
        self.action_path = action_path
        self.env = dict(env)

    def run(self, runner_temp: Path, only: str | None = None) -> None:
        """All steps (or just the one with id `only`); raises if a step fails."""
        runner_temp.mkdir(parents=True, exist_ok=True)
        result = run_action(
            self.action_path,
            {"api-key": self.stage.key, "base-url": self.stage.url},
            env=self.env,
            runner_temp=runner_temp,
            workspace=self.stage.work,
            only=only,
        )
        if result.code != 0:
            step = result.steps[-1]
            raise RuntimeError(
                f"step {step.id} exited {step.code}: {(step.stdout + step.stderr)[-300:]}"
            )


def checkout(stage: Stage) -> Path:
    """HEAD as a clean tree, as `uses: owner/repo@ref` gets it."""
    target = stage.tmp / "action"
    target.mkdir(exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def _timed(runner: ActionRunner, runner_temp: Path, only: str | None = None) -> float:
    start = time.perf_counter()
    runner.run(runner_temp, only)
    return time.perf_counter() - start


def rows(stage: Stage, cold_repeats: int, warm_repeats: int) -> list[Row]:
    if not (ROOT / "action.yml").is_file():
        return [not_built("5", "Action setup", "action.yml")]
    try:
        offline = (WHEELHOUSE / ".stamp").is_file() or any(WHEELHOUSE.glob("httpx-*.whl"))
        env = stage.env()
        source = "offline wheelhouse" if offline else "PyPI (network)"
        if offline:
            env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE))
        runner = ActionRunner(stage, checkout(stage), env)
        cold: list[float] = []
        warm: list[float] = []
        whole_warm: list[float] = []
        for i in range(cold_repeats):
            temp = stage.tmp / f"runner-temp-{i}"
            cold.append(_timed(runner, temp, "install"))
            if i == 0:
                for _ in range(warm_repeats):  # interleave warm installs and warm whole runs
                    warm.append(_timed(runner, temp, "install"))
                    whole_warm.append(_timed(runner, temp))
            shutil.rmtree(temp, ignore_errors=True)
        whole_cold = _timed(runner, stage.tmp / "runner-temp-whole")
    except Exception as exc:
        return [failed("5", "Action setup", exc)]
    c, w, ww = median(cold), median(warm), median(whole_warm)
    return [
        Row(
            "5",
            "Action install step, warm (venv reused) vs cold (fresh venv)",
            ms(w),
            ms(c),
            times(ratio(w, c)),
            f"warm < {WARM_TARGET_S:g} s",
            w < WARM_TARGET_S,
            f"cold: median of {cold_repeats}, pip from {source}; warm: median of {warm_repeats}",
        ),
        Row(
            "5",
            "Whole action run (mask, install, check), warm vs cold",
            ms(ww),
            ms(whole_cold),
            times(ratio(ww, whole_cold)),
            "— (reference)",
            None,
            "live check against the sandbox, `--format github`",
        ),
    ]
