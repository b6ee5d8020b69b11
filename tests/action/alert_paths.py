"""The worst top-up link the core accepts, the Action's check step run as `action.yml` runs it,
and GitHub's `${{ steps.credits.outputs.NAME }}` substitution, for the alert recipe tests."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from hypothesis import strategies as st

#: Accepted (https, a host, no backslash or control character), and everything in it that
#: could end a quoted string, open an expression or a template, or break a line or a word.
WORST_LINK = (
    "https://pre.dev/x\"y}'`$(touch pwned)`${{ github.token }}<b>{{ var }}|[]é"
    "?q=\"a b\"&r=$HOME#'end'"
)
#: ... and the one form every message, output and summary carries it in.
WORST_ENCODED = (
    "https://pre.dev/x%22y%7D%27%60%24(touch%20pwned)%60%24%7B%7B%20github.token%20%7D%7D"
    "%3Cb%3E%7B%7B%20var%20%7D%7D%7C%5B%5D%C3%A9?q=%22a%20b%22&r=%24HOME#%27end%27"
)
#: A link's tail: of the characters that matter and a few others, or any text.
LINK_TAILS = st.text(st.sampled_from("\"'`{}$<> |[]%#?&=@:/\\\téa9-_.~✓"), max_size=30) | st.text(
    max_size=30
)
_EXPRESSION = re.compile(r"\$\{\{\s*steps\.credits\.outputs\.([a-z-]+)\s*\}\}")


def substitute(text: str, outputs: Mapping[str, str]) -> str:
    """`text` as GitHub hands it to a step: each `${{ steps.credits.outputs.NAME }}` replaced by
    the output's value, verbatim (expressions are evaluated in the parsed workflow's strings)."""
    return _EXPRESSION.sub(lambda match: outputs[match[1]], text)


def run_action(env: Mapping[str, str], tmp_path: Path, **inputs: str) -> tuple[dict[str, str], str]:
    """The Action's check step on a saving run (`python -m predev_integrations.github_action`
    with `INPUT_*` variables, a history directory of its own): its outputs and job summary."""
    outputs, summary, history = (tmp_path / name for name in ("output", "summary", "history"))
    history.mkdir(mode=0o700, exist_ok=True)
    step_env = {
        **env,
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
        "PREDEV_CACHE_DIR": str(history),
        "PREDEV_HISTORY_SAVE": "true",
        "PREDEV_HISTORY_ENABLED": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "predev_integrations.github_action"],
        env=step_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    written = outputs.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in written), summary.read_text(encoding="utf-8")
