"""Part 5: the composite Action's install step, cold and warm, and the whole action run.

The steps of `action.yml` run as the runner runs them (`bash --noprofile --norc -eo pipefail`,
fresh GITHUB_OUTPUT files, `${{ }}` expanded) from a clean `git archive` of HEAD, the way a
workflow checks the action out. pip installs from `.venv/wheelhouse` when `make install`
built one (offline, like a runner behind a mirror), else from PyPI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .env import ROOT, Stage
from .harness import median
from .table import Row, failed, ms, not_built, ratio, times

WARM_TARGET_S = 1.0
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
_EXPR = re.compile(r"\$\{\{(.*?)\}\}")


def _lookup(expression: str, context: Mapping[str, Any]) -> str:
    """`a.b.c || d.e`: the first non-empty path; anything else is an error, not ''."""
    for part in expression.split("||"):
        node: Any = context
        for name in part.strip().split("."):
            if not isinstance(node, Mapping):
                raise TypeError(f"cannot evaluate ${{{{ {expression.strip()} }}}}")
            node = node.get(name, "")
        if node:
            return str(node)
    return ""


def expand(text: str, context: Mapping[str, Any]) -> str:
    return _EXPR.sub(lambda m: _lookup(m.group(1), context), text)


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and "<<" not in line)


class ActionRunner:
    """Runs the action's steps; `runner_temp` decides cold (fresh) or warm (reused)."""

    def __init__(self, stage: Stage, action_path: Path, env: Mapping[str, str]) -> None:
        self.stage = stage
        self.action_path = action_path
        self.action = yaml.safe_load((action_path / "action.yml").read_text(encoding="utf-8"))
        self.env = dict(env)

    def run(self, runner_temp: Path, only: str | None = None) -> None:
        """All steps (or just the one with id `only`); raises if a step fails."""
        runner_temp.mkdir(parents=True, exist_ok=True)
        inputs = {
            name: str(spec.get("default", "")) for name, spec in self.action["inputs"].items()
        }
        inputs.update({"api-key": self.stage.key, "base-url": self.stage.url})
        context: dict[str, Any] = {
            "inputs": inputs,
            "github": {"action_path": str(self.action_path), "workspace": str(self.stage.work)},
            "runner": {"temp": str(runner_temp), "os": "Linux"},
            "steps": {},
        }
        for index, step in enumerate(self.action["runs"]["steps"]):
            step_id = str(step.get("id", f"step{index}"))
            if only is not None and step_id != only:
                continue
            files = {
                n: runner_temp / f"{n.lower()}-{index}"
                for n in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
            }
            for path in files.values():
                path.write_text("", encoding="utf-8")
            env = {
                **self.env,
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_ACTION_PATH": str(self.action_path),
                "GITHUB_WORKSPACE": str(self.stage.work),
                "RUNNER_OS": "Linux",
                "RUNNER_TEMP": str(runner_temp),
                **{k: expand(str(v), context) for k, v in (step.get("env") or {}).items()},
                **{name: str(path) for name, path in files.items()},
            }
            script = runner_temp / f"step-{index}.sh"
            script.write_text(expand(step["run"], context), encoding="utf-8")
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                env=env,
                cwd=self.stage.work,
                capture_output=True,
                check=False,
                timeout=600,
            )
            if proc.returncode != 0:
                out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
                raise RuntimeError(f"step {step_id} exited {proc.returncode}: {out[-300:]}")
            context["steps"][step_id] = {"outputs": _outputs(files["GITHUB_OUTPUT"])}


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
