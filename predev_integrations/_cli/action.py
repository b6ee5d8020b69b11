"""The GitHub Action's check step: its inputs become `predev-credits-check` flags.

`action.yml` runs `python -m predev_integrations.github_action`; `_github.inputs` reads the
`INPUT_<NAME>` variables. The key travels as PREDEV_API_KEY, never as a flag.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: The argument of `action.yml`'s history step: plan the cache steps instead of checking.
HISTORY_PLAN = "--history-plan"


def history_plan(env: Mapping[str, str]) -> int:
    """Write the history step's outputs (see `_github.history.plan`) and make its directory
    0700 before a restore fills it. Never fails the job: a problem, even a bug of ours, turns
    the history off for the run with one line."""
    from .._github.commands import annotation
    from .._github.history import plan

    outputs, warnings = plan(env, posix=os.name == "posix", nonce=os.urandom(8).hex())
    for warning in warnings:
        print(annotation("warning", "pre.dev credits check", warning), flush=True)
    if outputs["enabled"] == "true":
        reason = _private_dir_problem(outputs["dir"])
        if reason is not None:
            print(f"pre.dev credits history is off for this run: {reason}", flush=True)
            outputs.update(enabled="false", save="false")
    text = "".join(f"{name}={value}\n" for name, value in outputs.items())
    path = env.get("GITHUB_OUTPUT")
    try:
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(text)
        else:
            print(text, end="")
    except OSError as exc:
        print(f"pre.dev credits history is off: cannot write GITHUB_OUTPUT ({exc.strerror}).")
    return 0


def _private_dir_problem(directory: str) -> str | None:
    """Why the history directory cannot be made ours (0700), or None when it is."""
    from . import cache

    try:
        if not cache.private_dir(directory, os.geteuid()):
            return "its directory belongs to another user"
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _say_if_the_alert_is_held(env: Mapping[str, str]) -> None:
    """One log line when an alert input is set but this run may not fire it (the summary says
    the same): a pull request's run is expected to stay quiet, and should say why."""
    from .._github.alert import configured, held

    reason = held(env)
    if reason is not None and configured(env):
        print(f"pre.dev credits alert: not checked on this run: {reason}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check with the step's inputs; `argv` adds CLI arguments after them.

    Called through `entry.action_main`, which has already made Ctrl-C exit 130 with one line.
    """
    from .._github.commands import annotation
    from .._github.inputs import translate
    from .main import main as run

    args = list(sys.argv[1:] if argv is None else argv)
    if args == [HISTORY_PLAN]:
        return history_plan(os.environ)
    flags, warnings = translate(os.environ)
    for warning in warnings:
        print(annotation("warning", "pre.dev credits check", warning), flush=True)
    _say_if_the_alert_is_held(os.environ)
    try:
        return run([*flags, *args])
    except SystemExit as exc:  # argparse's usage errors and --version end this way
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
