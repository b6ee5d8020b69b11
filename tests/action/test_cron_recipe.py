"""The cron recipes of docs/github-action.md, run as cron would (`sh -c`), against the sandbox.

The lines are taken from the page; `predev-credits-check` is this checkout, `mail` and `curl`
stand-ins that record each mail and each JSON body, `jq` the system's. Over a fall, a stay low
and a recovery the mail line mails twice: once on the run that fired, once on the run that
recovered. The webhook line's body, built by the shell around the message, parses to exactly
the message, also with the worst top-up link the check accepts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from predev_integrations._core.defaults import TOP_UP_URL
from predev_integrations.sandbox import Sandbox
from tests.action.alert_paths import WORST_ENCODED, WORST_LINK

REPO = Path(__file__).resolve().parents[2]


def cron_commands() -> list[str]:
    """The page's cron lines (mail, webhook), each without its schedule."""
    text = (REPO / "docs" / "github-action.md").read_text(encoding="utf-8")
    lines = re.findall(r"```sh\n(.*?)\n```", text, re.DOTALL)
    assert len(lines) == 2
    return [str(line.split(maxsplit=5)[5]) for line in lines]  # after the five time fields


class Cron:
    """A home with the key (and the webhook address) in files, shims on the PATH, and a
    `run(shell)` that runs one recipe line as cron would; the mails, bodies and the check's
    JSON reports recorded in files."""

    def __init__(self, sandbox: Sandbox, api_key: str, tmp_path: Path) -> None:
        if shutil.which("jq") is None:
            pytest.fail("the cron recipes need jq; install it (apt-get install jq)")
        self.home, shims = tmp_path / "home", tmp_path / "bin"
        self.mails, self.bodies = tmp_path / "mails", tmp_path / "bodies"
        self.reports = tmp_path / "reports"
        config = self.home / ".config" / "predev"
        config.mkdir(parents=True)
        (config / "key").write_text(api_key + "\n", encoding="utf-8")
        (config / "key").chmod(0o600)
        (config / "webhook").write_text("https://hooks.example/T0/B0\n", encoding="utf-8")
        for directory in (shims, self.mails, self.bodies):
            directory.mkdir()
        for name, body in {
            "predev-credits-check": (
                f'{sys.executable} -m predev_integrations "$@" | tee -a {self.reports}\n'
            ),
            "mail": f'n=$(ls {self.mails} | wc -l); {{ echo "$*"; cat; }} > {self.mails}/$n\n',
            "curl": (
                f"n=$(ls {self.bodies} | wc -l)\n"
                'while [ $# -gt 0 ]; do [ "$1" != -d ] || printf %s "$2" > '
                f"{self.bodies}/$n; shift; done\n"
            ),
        }.items():
            (shims / name).write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
            (shims / name).chmod(0o755)
        keep = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "SYSTEMROOT")
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            HOME=str(self.home),
            PATH=f"{shims}{os.pathsep}{self.env.get('PATH', '')}",
            PREDEV_BASE_URL=sandbox.url,
            NO_PROXY="127.0.0.1",
        )
        self.api_key = api_key

    def run(self, line: str, shell: str = "sh") -> None:
        proc = subprocess.run(
            [shell, "-c", line],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert self.api_key not in proc.stdout + proc.stderr

    def messages(self) -> list[str]:
        """The `alert.message` of every report the check printed that fired or recovered."""
        reports = [json.loads(line) for line in self.reports.read_text().splitlines()]
        return [
            report["alert"]["message"]
            for report in reports
            if report["alert"]["fired"] or report["alert"]["recovered"]
        ]


def test_the_cron_line_mails_once_per_fall_and_once_per_recovery(
    sandbox: Sandbox, api_key: str, tmp_path: Path
) -> None:
    cron = Cron(sandbox, api_key, tmp_path)
    mails = cron.mails
    sent = []
    for balance in (450, 180, 170, 190, 240, 230):
        sandbox.configure(balance=balance)
        cron.run(cron_commands()[0])
        sent.append(len(list(mails.iterdir())))
    assert sent == [0, 1, 1, 1, 2, 2]
    fell, back = (mails / name for name in ("0", "1"))
    subject, message = fell.read_text(encoding="utf-8").splitlines()
    assert subject == "-s pre.dev credits oncall@example.com"
    assert "180" in message
    assert "240" in back.read_text(encoding="utf-8")
    assert [fell.read_text().splitlines()[1], back.read_text().splitlines()[1]] == cron.messages()


@pytest.mark.parametrize("shell", ["sh", "bash"])
@pytest.mark.parametrize("link", [None, WORST_LINK], ids=["default link", "worst link"])
def test_the_webhook_lines_json_body_parses_to_exactly_the_message(
    sandbox: Sandbox, api_key: str, tmp_path: Path, shell: str, link: str | None
) -> None:
    """`curl -d "{\\"text\\": \\"$msg\\"}"`: nothing in the message ends the JSON string."""
    cron = Cron(sandbox, api_key, tmp_path)
    if link is not None:  # the config file in the working directory, as cron's is $HOME
        (cron.home / ".predev-credits.yml").write_text(json.dumps({"topup_url": link}))
    for balance in (450, 150, 140, 250):
        sandbox.configure(balance=balance)
        cron.run(cron_commands()[1], shell)
    fell, back = cron.messages()
    bodies = [json.loads((cron.bodies / name).read_bytes()) for name in ("0", "1")]
    assert bodies == [{"text": fell}, {"text": back}]
    assert fell.endswith(f". Top up at {WORST_ENCODED if link else TOP_UP_URL}")
    assert back.startswith("pre.dev credits recovered: 250 remaining")
