"""The Action's inputs: GitHub passes each as `INPUT_<NAME>`; we turn them into CLI flags.

An empty input means "not set": it adds no flag, so `.predev-credits.yml` and the CLI's
defaults apply, and a value written on purpose (even `min-credits: "1"`) always wins.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: Inputs passed through as they are written, with the flag each one sets.
FLAGS = {
    "min-credits": "--min-credits",
    "warn-below": "--warn-below",
    "base-url": "--base-url",
    "on-error": "--on-error",
    "timeout": "--timeout",
    "retries": "--retries",
    "config": "--config",
    "min-runway": "--min-runway",
    "warn-runway": "--warn-runway",
    "runway-risk": "--runway-risk",
    "topup-url": "--topup-url",
    "need": "--need",
    "spec-cost": "--spec-cost",
}

#: `fail-on-low` is a boolean input; it picks the CLI's --on-low.
ON_LOW = {"true": "fail", "false": "warn"}

ALERT_NEVER = "The low-credit alert can never fire here: "
FAIL_ON_LOW_TYPO = 'fail-on-low is neither "true" nor "false"; a low balance fails the step.'


def env_name(name: str) -> str:
    """`min-credits` -> `INPUT_MIN_CREDITS`, the variable the step sets."""
    return "INPUT_" + name.upper().replace("-", "_")


def translate(environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(CLI arguments, warnings) for the inputs in `environ`; empty or missing means not set.

    Values go in `--flag=value` form, so one that starts with `-` is read as a value, and a
    bad value is the CLI's usage error (exit 2, status=error) like any other. The alert's
    inputs become flags only on a run that may fire it (`alert.held`).
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
    from .alert import ALERT_FLAGS, HELD_HISTORY_OFF, HELD_NO_HISTORY, configured, held

    reason = held(environ)
    if reason is None:  # only a run that saves the history may fire (see alert.py)
        for name, flag in ALERT_FLAGS.items():
            value = environ.get(env_name(name), "").strip()
            if value:
                argv.append(f"{flag}={value}")
    elif configured(environ) and reason in (HELD_HISTORY_OFF, HELD_NO_HISTORY):
        warnings.append(f"{ALERT_NEVER}{reason}")  # no run of this job can ever fire it
    from .history import history_enabled

    keep, _ = history_enabled(environ.get(env_name("history"), ""))  # the history step warns
    if not keep:
        argv.append("--no-history")
    return argv, warnings
