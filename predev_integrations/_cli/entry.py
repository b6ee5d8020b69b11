"""The console entry point: Ctrl-C at any moment, imports included, is one line and exit 130.

A KeyboardInterrupt raised while the CLI and its modules import would escape as a traceback.
So the first thing the process runs (this tiny module, which imports nothing of ours)
replaces the SIGINT handler, once: the run stops at once with the documented exit code. Every
way of running the check goes through here: the console script and `python -m
predev_integrations` through `main`, the GitHub Action's step through `action_main`.

What is left is not ours (issue 20, measured with 200 runs per entry, SIGINT at random
0-40 ms): the interpreter's start-up, site and `.pth` imports (a development install's
editable-finder `.pth` alone costs ~24 ms) and `python -m`'s runpy run before any module of
ours, with Python's default handler, which raises KeyboardInterrupt. Our own window, from the
first line of `predev_integrations/__init__` to the handler, is the package's `__init__`
(lazy, two small imports), `_cli/__init__` and this module: about 2 ms.
"""

from __future__ import annotations

import os

# The C module the interpreter has loaded already: `signal` would first import enum (about
# 1.5 ms, a third of our time before the handler is in).
try:
    import _signal as signal  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - an interpreter without it
    import signal  # type: ignore[no-redef,unused-ignore]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType

#: Exit code of a run stopped by Ctrl-C (SIGINT), as shells report it (128 + 2).
EXIT_INTERRUPTED = 130
_MESSAGE = b"predev-credits-check: interrupted.\n"


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """Stop now: no traceback, no cleanup that could itself be interrupted.

    A cache write in progress leaves at most a private temporary file; the entry it replaces
    is only ever swapped in whole.
    """
    try:
        os.write(2, _MESSAGE)
    finally:
        os._exit(EXIT_INTERRUPTED)


def stop_on_interrupt() -> None:
    """From now on, Ctrl-C ends the process at once: one line on stderr, exit 130."""
    signal.signal(signal.SIGINT, _interrupted)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `predev-credits-check` with `argv` (default: the command line) under that handler."""
    stop_on_interrupt()
    from .main import main as run

    return run(argv)


def action_main(argv: Sequence[str] | None = None) -> int:
    """Run the GitHub Action's check step (its inputs become flags) under that handler."""
    stop_on_interrupt()
    from .action import main as run

    return run(argv)
