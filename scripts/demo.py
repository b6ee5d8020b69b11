"""`make demo`: start the local sandbox and run one passing and one failing check against it.

No key, no network: the sandbox on 127.0.0.1 accepts the fake key `sandbox-key`.
"""

from __future__ import annotations

import os
import subprocess
import sys

from predev_integrations.sandbox import Sandbox


def run(title: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n$ predev-credits-check {' '.join(args)}    # {title}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "predev_integrations", *args], env=env, check=False
    )
    print(f"  -> exit code {proc.returncode}", flush=True)
    return proc.returncode


def main() -> int:
    with Sandbox(balance=120) as sandbox:
        print(f"Sandbox: a local stand-in for api.pre.dev at {sandbox.url}, balance 120 credits.")
        env = {
            **os.environ,
            "PREDEV_BASE_URL": sandbox.url,
            "PREDEV_API_KEY": "sandbox-key",
            "PREDEV_CACHE_DIR": os.path.join(".venv", "demo-cache"),
        }
        ok = run(
            "a Deep Spec costs up to ~50 credits: is there room?",
            ["--min-credits", "50", "--warn-below", "100"],
            env,
        )
        low = run(
            "a batch of 5 Deep Specs needs ~250: this gate stops the pipeline",
            ["--min-credits", "250"],
            env,
        )
        print(
            f"\nThe sandbox answered {sandbox.requests} requests. Exit 0 lets a pipeline "
            "continue; exit 1 stops it before it spends credits it does not have."
        )
    if (ok, low) != (0, 1):
        print("demo: unexpected exit codes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
