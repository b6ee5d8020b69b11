"""Part 6: `pre-commit run` of the hook on a cache hit, next to an empty `language: system` hook.

A throwaway repo uses the hook from this checkout (`repo:` its path, `rev:` HEAD), as a user's
`.pre-commit-config.yaml` would; pre-commit installs it into its own venv once (timed apart),
from the wheelhouse when `make install` built one. Then both hooks run interleaved.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from .env import BIN, ROOT, Stage
from .harness import command, interleave, median
from .table import Row, failed, ms, not_built, ratio, times
from .venvs import WHEELHOUSE

HOOK_ID = "predev-credits-check"
EMPTY_ID = "empty-system-hook"


def _git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def make_repo(stage: Stage) -> Path:
    repo = stage.tmp / "precommit-repo"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    config = {
        "repos": [
            {
                "repo": str(ROOT),
                "rev": _git("rev-parse", "HEAD", cwd=ROOT),
                "hooks": [{"id": HOOK_ID}],
            },
            {
                "repo": "local",
                "hooks": [
                    {
                        "id": EMPTY_ID,
                        "name": "empty",
                        "entry": "true",
                        "language": "system",
                        "pass_filenames": False,
                        "always_run": True,
                    }
                ],
            },
        ]
    }
    # JSON is YAML: no yaml dump needed for a config this small.
    (repo / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2))
    (repo / "README").write_text("bench\n")
    _git("add", ".", cwd=repo)
    _git(
        "-c", "user.name=bench", "-c", "user.email=bench@localhost",
        "commit", "-q", "--no-verify", "-m", "init",
        cwd=repo,
    )  # fmt: skip
    return repo


def rows(stage: Stage, repeats: int) -> list[Row]:
    if not (ROOT / ".pre-commit-hooks.yaml").is_file():
        return [not_built("6", "Pre-commit hook", ".pre-commit-hooks.yaml")]
    try:
        repo = make_repo(stage)
        env = stage.env(PRE_COMMIT_HOME=str(stage.tmp / "pre-commit-home"))
        if any(WHEELHOUSE.glob("httpx-*.whl")):
            env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(WHEELHOUSE))
        pre_commit = str(BIN / "pre-commit")
        start = time.perf_counter()
        command([pre_commit, "install-hooks"], env, repo)()
        install = time.perf_counter() - start
        hook = command([pre_commit, "run", HOOK_ID], env, repo, expect="Passed")
        hook()  # a live check fills the cache; every timed run below is a cache hit
        samples = interleave(
            {
                "hook": hook,
                "empty": command([pre_commit, "run", EMPTY_ID], env, repo, expect="Passed"),
            },
            repeats,
        )
    except Exception as exc:
        return [failed("6", "Pre-commit hook", exc)]
    ours, empty = median(samples["hook"]), median(samples["empty"])
    return [
        Row(
            "6",
            "`pre-commit run` of the hook (cache hit) vs an empty `language: system` hook",
            ms(ours),
            ms(empty),
            times(ratio(ours, empty)),
            "— (reference)",
            None,
            f"median of {repeats} interleaved runs; the hook's share includes pre-commit's own "
            f"`python -S` health check of the hook venv; hook install (once): {ms(install)}",
        )
    ]
