"""The GitHub Action's check step: its inputs become `predev-credits-check` flags.

`action.yml` passes every input as an `INPUT_<NAME>` variable (`min-credits` ->
`INPUT_MIN_CREDITS`) and runs `python -m predev_integrations.github_action`. An empty input
means "not set": it adds no flag, so `.predev-credits.yml` and the CLI's defaults apply, and a
value written on purpose (even `min-credits: "1"`) always wins. The key travels as
PREDEV_API_KEY, never as a flag.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: Inputs passed through as they are written, with the flag each one sets.
FLAGS = {
    "min-credits": "--min-credits",
    "warn-below": "--warn-below",
    "base-url": "--base-url",
    "on-error": "--on-error",
    "timeout": "--timeout",
    "retries": "--retries",
    "config": "--config",
}

#: `fail-on-low` is a boolean input; it picks the CLI's --on-low.
ON_LOW = {"true": "fail", "false": "warn"}

FAIL_ON_LOW_TYPO = 'fail-on-low is neither "true" nor "false"; a low balance fails the step.'


def env_name(name: str) -> str:
    """`min-credits` -> `INPUT_MIN_CREDITS`, the variable the step sets."""
    return "INPUT_" + name.upper().replace("-", "_")


def translate(environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(CLI arguments, warnings) for the inputs in `environ`; empty or missing means not set.

    Values go in `--flag=value` form, so one that starts with `-` is read as a value, and a
    bad value is the CLI's usage error (exit 2, status=error) like any other.
    """
    argv = ["--format", "github"]
    warnings: list[str] = []
    for name, flag in FLAGS.items():
        value = environ.get(env_name(name), "").strip()
        if value:
            argv.append(f"{flag}={value}")
    fail_on_low = environ.get(env_name("fail-on-low"), "").strip().lower()
    if fail_on_low:
        if fail_on_low not in ON_LOW:
            warnings.append(FAIL_ON_LOW_TYPO)
        argv.append(f"--on-low={ON_LOW.get(fail_on_low, 'fail')}")
    return argv, warnings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check with the step's inputs; `argv` adds CLI arguments after them.

    It goes through `entry.main`, like the console script, so Ctrl-C is exit 130 and one line.
    """
    from .entry import main as run
    from .entry import stop_on_interrupt

    stop_on_interrupt()
    from .report import annotation

    flags, warnings = translate(os.environ)
    for warning in warnings:
        print(annotation("warning", "pre.dev credits check", warning), flush=True)
    try:
        return run([*flags, *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:  # argparse's usage errors and --version end this way
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)


if __name__ == "__main__":  # pragma: no cover - the Action's entry point
    sys.exit(main())
