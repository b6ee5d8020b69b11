"""The GitHub Action's check step: its inputs become `predev-credits-check` flags.

`action.yml` runs `python -m predev_integrations.github_action`; `_github.inputs` reads the
`INPUT_<NAME>` variables. The key travels as PREDEV_API_KEY, never as a flag.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check with the step's inputs; `argv` adds CLI arguments after them.

    Called through `entry.action_main`, which has already made Ctrl-C exit 130 with one line.
    """
    from .._github.commands import annotation
    from .._github.inputs import translate
    from .main import main as run

    flags, warnings = translate(os.environ)
    for warning in warnings:
        print(annotation("warning", "pre.dev credits check", warning), flush=True)
    try:
        return run([*flags, *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:  # argparse's usage errors and --version end this way
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
