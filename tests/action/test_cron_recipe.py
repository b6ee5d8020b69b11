"""The cron recipe of docs/github-action.md, run as cron would (`sh -c`), against the sandbox.

The line is taken from the page; `predev-credits-check` is this checkout, `mail` a stand-in
that records each mail, `jq` the system's. Over a fall, a stay low and a recovery it mails
twice: once on the run that fired, once on the run that recovered.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from predev_integrations.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]


def cron_command() -> str:
    text = (REPO / "docs" / "github-action.md").read_text(encoding="utf-8")
    [line] = re.findall(r"```sh\n(.*?)\n```", text, re.DOTALL)
    return str(line.split(maxsplit=5)[5])  # after minute, hour, day, month, weekday


def test_the_cron_line_mails_once_per_fall_and_once_per_recovery(
    sandbox: Sandbox, api_key: str, tmp_path: Path
) -> None:
    if shutil.which("jq") is None:
        pytest.fail("the cron recipe needs jq; install it (apt-get install jq)")
    home, shims, mails = tmp_path / "home", tmp_path / "bin", tmp_path / "mails"
    (home / ".config" / "predev").mkdir(parents=True)
    key = home / ".config" / "predev" / "key"
    key.write_text(api_key + "\n", encoding="utf-8")
    key.chmod(0o600)
    shims.mkdir()
    mails.mkdir()
    for name, body in {
        "predev-credits-check": f'exec {sys.executable} -m predev_integrations "$@"\n',
        "mail": f'n=$(ls {mails} | wc -l); {{ echo "$*"; cat; }} > {mails}/$n\n',
    }.items():
        (shims / name).write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
        (shims / name).chmod(0o755)
    keep = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        PATH=f"{shims}{os.pathsep}{env.get('PATH', '')}",
        PREDEV_BASE_URL=sandbox.url,
        NO_PROXY="127.0.0.1",
    )
    sent = []
    for balance in (450, 180, 170, 190, 240, 230):
        sandbox.configure(balance=balance)
        proc = subprocess.run(
            ["sh", "-c", cron_command()],
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert api_key not in proc.stdout + proc.stderr
        sent.append(len(list(mails.iterdir())))
    assert sent == [0, 1, 1, 1, 2, 2]
    fell, back = (mails / name for name in ("0", "1"))
    subject, message = fell.read_text(encoding="utf-8").splitlines()
    assert subject == "-s pre.dev credits oncall@example.com"
    assert "180" in message
    assert "240" in back.read_text(encoding="utf-8")
