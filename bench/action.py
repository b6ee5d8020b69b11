"""Part 5: the composite Action's install step, cold and warm, and the whole action run.

The steps of `action.yml` run as the runner runs them (`bash --noprofile --norc -eo pipefail`,
fresh GITHUB_OUTPUT files, `${{ }}` expanded) from a clean `git archive` of HEAD, the way a
workflow checks the action out. The cold install is timed against what a Python Action without
a lock would do, in the same run and interleaved with it: `python -m venv` (with pip) plus
`pip install httpx pyyaml`. Both use the same interpreter and pip from the same wheelhouse
(`.venv/wheelhouse`, offline, like a runner behind a mirror), else PyPI.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from devtools.composite_action import run_action

from .env import PYTHON, ROOT, Stage
from .harness import interleave, median
from .table import Row, failed, ms, not_built, ratio, times

WARM_TARGET_S = 1.0
COLD_TARGET = 0.8  # at most this fraction of the baseline
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
            {"api-key": self.stage.key, "base-url": self.stage.url, "python": PYTHON},
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


def pip_env(stage: Stage) -> tuple[dict[str, str], str]:
    """The environment both installs run in, and where their wheels come from."""
    env = stage.env(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if any(WHEELHOUSE.glob("httpx-*.whl")):
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE))
        return env, "offline wheelhouse"
    return env, "PyPI (network)"


def baseline(env: Mapping[str, str], target: Path) -> None:
    """A venv with pip, then the two runtime dependencies, unpinned: the usual way."""
    subprocess.run([PYTHON, "-m", "venv", str(target)], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet", "httpx", "pyyaml"],
        env=env,
        check=True,
        capture_output=True,
    )


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def rows(stage: Stage, cold_repeats: int, warm_repeats: int) -> list[Row]:
    if not (ROOT / "action.yml").is_file():
        return [not_built("5", "Action setup", "action.yml")]
    try:
        env, source = pip_env(stage)
        runner = ActionRunner(stage, checkout(stage), env)
        fresh = (stage.tmp / f"fresh-{n}" for n in itertools.count())
        samples = interleave(
            {
                "cold": lambda: runner.run(next(fresh), "install"),
                "baseline": lambda: baseline(env, next(fresh) / "venv"),
            },
            cold_repeats,
        )
        warm_temp = stage.tmp / "runner-temp-warm"
        runner.run(warm_temp, "install")
        warm, whole_warm = [], []
        for _ in range(warm_repeats):  # interleave warm installs and warm whole runs
            warm.append(_timed(lambda: runner.run(warm_temp, "install")))
            whole_warm.append(_timed(lambda: runner.run(warm_temp)))
        whole_cold = _timed(lambda: runner.run(stage.tmp / "runner-temp-whole"))
        for path in stage.tmp.glob("fresh-*"):
            shutil.rmtree(path, ignore_errors=True)
    except Exception as exc:
        return [failed("5", "Action setup", exc)]
    c, b, w, ww = (
        median(samples["cold"]),
        median(samples["baseline"]),
        median(warm),
        median(whole_warm),
    )
    return [
        Row(
            "5",
            "Action install step, cold (fresh venv, locked wheels) vs venv + pip install",
            ms(c),
            ms(b),
            times(ratio(c, b)),
            f"≤ {COLD_TARGET:g}x",
            ratio(c, b) <= COLD_TARGET,
            f"median of {cold_repeats}, interleaved; baseline `python -m venv` + "
            f"`pip install httpx pyyaml`; both from {source}",
        ),
        Row(
            "5",
            "Action install step, warm (venv reused) vs cold",
            ms(w),
            ms(c),
            times(ratio(w, c)),
            f"warm < {WARM_TARGET_S:g} s",
            w < WARM_TARGET_S,
            f"warm: median of {warm_repeats}",
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
