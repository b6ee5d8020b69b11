"""Run a composite action's `run:` steps as the GitHub runner does, on this machine.

Used by the Action's tests (`tests/action/`) and its benchmark (`bench/action.py`). It reads
`action.yml`, runs each step with `bash --noprofile --norc -eo pipefail` (GitHub's
`shell: bash`), applies the input defaults, expands `${{ }}` (inputs, github.*, runner.*,
steps.*.outputs, `||`) and gives every step fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY /
GITHUB_ENV / GITHUB_PATH files, parsed afterwards (`k=v` and heredoc forms) like the runner
does. Step conditions (`if:`) are `&&` of `always()`, `success()`, `failure()` and
`path == 'literal'` / `!=`; after a failed step, only steps whose condition holds still run.

Two `uses:` steps are emulated, each against a directory standing in for the repository's
Actions cache (`cache_store`): actions/cache/restore (the exact key, else the newest entry
whose key starts with a restore key, copied back to the paths it was saved from, symlinks as
symlinks, as tar does) and actions/cache/save (the files a glob `path` matches, under a key
that must be new; a second save of a key is a warning, as on GitHub). Without a store, every
restore misses and every save is dropped. Any other `uses:` is an
error. An expression it does not understand is an error, never silently empty. Development
tooling: not part of the installed package.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RUNNER_OS = {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}.get(sys.platform, "Linux")

_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_OPERAND = re.compile(r"^(?:'(?P<literal>(?:[^']|'')*)'|(?P<path>[A-Za-z_][\w-]*(?:\.[\w-]+)*))$")


class UnsupportedExpression(ValueError):
    """The action uses an expression the harness cannot evaluate faithfully."""


def evaluate(expression: str, context: Mapping[str, Any]) -> str:
    """`a || b || 'c'` over context paths and string literals: the first non-empty value."""
    value = ""
    for part in expression.split("||"):
        match = _OPERAND.match(part.strip())
        if match is None:
            raise UnsupportedExpression(f"cannot evaluate {expression.strip()!r}")
        if match["literal"] is not None:
            value = match["literal"].replace("''", "'")
        else:
            root, *rest = match["path"].split(".")
            if root not in context:
                raise UnsupportedExpression(f"unknown context {root!r} in {expression.strip()!r}")
            node: Any = context[root]
            for name in rest:
                node = node.get(name) if isinstance(node, Mapping) else None
            value = "" if node is None else str(node)
        if value:
            return value
    return value


def condition(expression: str, context: Mapping[str, Any], *, failed: bool) -> bool:
    """A step's `if:`: `&&` of always(), success(), failure(), `a == 'b'`, `a != 'b'`.

    As on GitHub, a condition without a status function means `success() && ...`.
    """
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    status_given = False
    result = True
    for term in (part.strip() for part in text.split("&&")):
        if term in ("always()", "success()", "failure()"):
            status_given = True
            result = result and {"always()": True, "success()": not failed}.get(term, failed)
            continue
        match = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", term)
        if match is None:
            raise UnsupportedExpression(f"cannot evaluate condition {expression!r}")
        left, op, right = (evaluate(match[1], context), match[2], evaluate(match[3], context))
        result = result and ((left == right) if op == "==" else (left != right))
    return result and (status_given or not failed)


def expand(text: str, context: Mapping[str, Any]) -> str:
    return _EXPRESSION.sub(lambda m: evaluate(m.group(1), context), text)


def unescape_data(text: str) -> str:
    """A workflow command's data as the runner reads it: %0D, %0A, then %25 (GitHub's order)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_command_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            else:
                raise ValueError(f"{name}: delimiter {delimiter!r} never closes")
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"not a command-file line: {line!r}")
    return values


@dataclass
class StepRun:
    id: str
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    files: dict[str, str]


@dataclass
class ActionRun:
    code: int
    outputs: dict[str, str]
    steps: list[StepRun] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "".join(step.stdout + step.stderr for step in self.steps)

    @property
    def summary(self) -> str:
        return "".join(step.summary for step in self.steps)

    def annotations(self, level: str) -> list[str]:
        """The `::error title=...::message` (or warning) lines, as printed."""
        return [line for line in self.log.splitlines() if line.startswith(f"::{level} ")]

    @property
    def masks(self) -> list[str]:
        """The values `::add-mask::` registered, unescaped as the runner does."""
        prefix = "::add-mask::"
        lines = (step.stdout for step in self.steps)
        return [
            unescape_data(line[len(prefix) :])
            for text in lines
            for line in text.splitlines()
            if line.startswith(prefix)
        ]

    def step(self, step_id: str) -> StepRun:
        return next(step for step in self.steps if step.id == step_id)


def load_action(action_path: Path) -> dict[str, Any]:
    data = yaml.safe_load((action_path / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def run_action(
    action_path: Path,
    inputs: Mapping[str, str],
    *,
    env: Mapping[str, str],
    runner_temp: Path,
    workspace: Path,
    only: str | None = None,
    github: Mapping[str, Any] | None = None,
    cache_store: Path | None = None,
) -> ActionRun:
    """Run action.yml's composite steps as written; after a failing step, only the steps whose
    `if:` holds (always()) run. The run's code is the first failing step's.

    `only` runs just the step with that id (the bench times the install step alone). `github`
    adds to the `github` context (event_name, ref, event.repository.default_branch ...);
    `cache_store` is the emulated Actions cache (None: no cache service, nothing restored or saved).
    """
    action = load_action(action_path)
    assert action["runs"]["using"] == "composite"
    declared: dict[str, Any] = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {sorted(unknown)}"
    context: dict[str, Any] = {
        "inputs": {
            name: inputs.get(name, str(spec.get("default", ""))) for name, spec in declared.items()
        },
        "github": {
            "action_path": str(action_path),
            "workspace": str(workspace),
            **(github or {}),
        },
        "runner": {"temp": str(runner_temp), "os": RUNNER_OS},
        "steps": {},
    }
    step_env = {
        **env,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_OS": RUNNER_OS,
        "RUNNER_TEMP": str(runner_temp),
    }
    result = ActionRun(code=0, outputs={})
    files_dir = runner_temp / "_runner_file_commands"
    files_dir.mkdir(exist_ok=True)
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = str(step.get("id", f"__{index}"))
        if only is not None and step_id != only:
            continue
        failed = result.code != 0
        if not condition(str(step.get("if", "success()")), context, failed=failed):
            continue
        if "uses" in step:
            with_ = {k: expand(str(v), context) for k, v in (step.get("with") or {}).items()}
            run = _emulate(step_id, str(step["uses"]), with_, cache_store)
            context["steps"][step_id] = {"outputs": run.outputs}
            result.steps.append(run)
            continue
        assert step.get("shell") == "bash", "every step must say `shell: bash`"
        files = {name: files_dir / f"{name.lower()}_{index}" for name in _FILE_COMMANDS}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        script = files_dir / f"step_{index}.sh"
        script.write_text(expand(step["run"], context), encoding="utf-8")
        this_env = dict(step_env)
        this_env.update({k: expand(str(v), context) for k, v in (step.get("env") or {}).items()})
        this_env.update({name: str(path) for name, path in files.items()})
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=this_env,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        texts = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
        outputs = parse_command_file(texts["GITHUB_OUTPUT"])
        context["steps"][step_id] = {"outputs": outputs}
        step_env.update(parse_command_file(texts["GITHUB_ENV"]))
        for entry in texts["GITHUB_PATH"].splitlines():
            step_env["PATH"] = f"{entry}{os.pathsep}{step_env['PATH']}"
        run = StepRun(
            step_id,
            proc.returncode,
            proc.stdout,
            proc.stderr,
            outputs,
            texts["GITHUB_STEP_SUMMARY"],
            texts,
        )
        result.steps.append(run)
        if proc.returncode != 0 and not failed:
            result.code = proc.returncode
    result.outputs = {
        name: expand(str(spec["value"]), context) for name, spec in action["outputs"].items()
    }
    return result


_FILE_COMMANDS = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")
_CACHE_ACTIONS = ("actions/cache/restore@", "actions/cache/save@")


def _emulate(step_id: str, uses: str, with_: Mapping[str, str], store: Path | None) -> StepRun:
    """actions/cache/restore or actions/cache/save against `store` (see the module)."""
    if not uses.startswith(_CACHE_ACTIONS):
        raise UnsupportedExpression(f"the harness cannot run `uses: {uses}`")
    if store is None:  # no cache service: every restore misses, every save is dropped
        outputs = {"cache-hit": "false", "cache-primary-key": with_["key"], "cache-matched-key": ""}
        return StepRun(step_id, 0, "(no Actions cache emulated)\n", "", outputs, "", {})
    if uses.startswith("actions/cache/save@"):
        return cache_save(step_id, store, with_["path"], with_["key"])
    return cache_restore(step_id, store, with_["path"], with_["key"], with_.get("restore-keys", ""))


def _entries(store: Path) -> list[dict[str, Any]]:
    index = store / "index.json"
    return json.loads(index.read_text(encoding="utf-8")) if index.is_file() else []


def cache_save(step_id: str, store: Path, path: str, key: str) -> StepRun:
    """Save the files `path` (one glob per line) matches under `key`; keys are immutable."""
    entries = _entries(store)
    if any(entry["key"] == key for entry in entries):
        message = f"Failed to save: Unable to reserve cache with key {key}"
        return StepRun(step_id, 0, f"::warning::{message}\n", "", {}, "", {})
    files = [f for line in path.splitlines() if line.strip() for f in glob.glob(line.strip())]
    if not files:
        message = (
            "Path Validation Error: Path(s) specified in the action for caching do(es) not exist"
        )
        return StepRun(step_id, 0, f"::warning::{message}\n", "", {}, "", {})
    folder = store / f"entry-{len(entries)}"
    folder.mkdir(parents=True)
    saved = []
    for index, name in enumerate(files):
        target = folder / str(index)
        if os.path.islink(name):
            target.symlink_to(os.readlink(name))
        else:
            shutil.copy2(name, target)
        saved.append({"from": str(index), "to": os.path.abspath(name)})
    entries.append({"key": key, "folder": folder.name, "files": saved})
    (store / "index.json").write_text(json.dumps(entries), encoding="utf-8")
    return StepRun(step_id, 0, f"Cache saved with key: {key}\n", "", {}, "", {})


def cache_restore(step_id: str, store: Path, path: str, key: str, restore_keys: str) -> StepRun:
    """Restore the exact `key`, else the newest entry whose key starts with a restore key."""
    entries = _entries(store)
    match = next((e for e in reversed(entries) if e["key"] == key), None)
    for prefix in (line.strip() for line in restore_keys.splitlines() if line.strip()):
        if match is None:
            match = next((e for e in reversed(entries) if e["key"].startswith(prefix)), None)
    outputs = {"cache-hit": "false", "cache-primary-key": key, "cache-matched-key": ""}
    if match is None:
        return StepRun(step_id, 0, f"Cache not found for input keys: {key}\n", "", outputs, "", {})
    for item in match["files"]:
        source, target = store / match["folder"] / item["from"], Path(item["to"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    outputs.update(
        {"cache-hit": str(match["key"] == key).lower(), "cache-matched-key": match["key"]}
    )
    return StepRun(step_id, 0, f"Cache restored from key: {match['key']}\n", "", outputs, "", {})
