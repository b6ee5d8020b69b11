"""`make demo`: start the local sandbox and run the gate against it: a balance check, a runway
forecast, the runway gate, and the recorded history.

No key, no network: the sandbox on 127.0.0.1 accepts the fake key `sandbox-key`.

A forecast needs readings over at least an hour, and the demo has a minute. So, honestly
simulated: the sandbox spends 5 credits an hour (`--burn-per-hour 5`), and the demo first
records the three readings that hourly checks would have made over the last three hours at that
rate (465, 460, 455), with the history module the CLI itself uses, into a fresh temporary cache
directory. Every check after that is a real live check against the sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from predev_integrations._cli import history
from predev_integrations._core.secret import Secret
from predev_integrations.sandbox import Sandbox

KEY = "sandbox-key"
BURN_PER_HOUR = 5


def run(title: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n$ predev-credits-check {' '.join(args)}    # {title}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "predev_integrations", *args], env=env, check=False
    )
    print(f"  -> exit code {proc.returncode}", flush=True)
    return proc.returncode


def seed(directory: str, base_url: str, balance: int) -> None:
    """The readings hourly checks would have recorded over the last three hours."""
    path = history.history_path(directory, base_url, Secret(KEY))
    now = time.time()
    for hours_ago in (3, 2, 1):
        history.append(path, now - hours_ago * 3_600, balance + BURN_PER_HOUR * hours_ago)


def main() -> int:
    with (
        Sandbox(key=KEY, balance=450, burn_per_hour=BURN_PER_HOUR) as sandbox,
        tempfile.TemporaryDirectory(prefix="predev-demo-") as cache_dir,
    ):
        print(
            f"Sandbox: a local stand-in for api.pre.dev at {sandbox.url}, balance 450 credits, "
            f"spending {BURN_PER_HOUR} an hour."
        )
        env = {
            **os.environ,
            "PREDEV_BASE_URL": sandbox.url,
            "PREDEV_API_KEY": KEY,
            "PREDEV_CACHE_DIR": cache_dir,
        }
        codes = [
            run(
                "a Deep Spec costs up to ~50 credits: is there room?",
                ["--min-credits", "50"],
                env,
            ),
            run(
                "a batch of 10 Deep Specs needs ~500: this gate stops the pipeline",
                ["--min-credits", "500"],
                env,
            ),
        ]
        print(
            "\nA forecast needs readings over an hour; this demo has a minute. It records the "
            "three readings hourly checks would have made at the sandbox's rate "
            f"({BURN_PER_HOUR}/h): 465, 460 and 455, three, two and one hours ago. The checks "
            "below are live."
        )
        seed(cache_dir, sandbox.url, 450)
        codes += [
            run("when do the credits run out?", ["--min-credits", "50", "--show-history"], env),
            run("the runway joins the line", ["--min-credits", "50"], env),
            run(
                "fail a week before the floor: a 1-in-5 chance within 7 days",
                ["--min-credits", "50", "--min-runway", "7d"],
                env,
            ),
        ]
        print(
            f"\nThe sandbox answered {sandbox.requests} requests. Exit 0 lets a pipeline "
            "continue; exit 1 stops it before it spends credits it does not have, or days "
            "before it runs out."
        )
    if codes != [0, 1, 0, 0, 1]:
        print(f"demo: unexpected exit codes {codes}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
