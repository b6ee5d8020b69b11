"""The GitHub-issue recipe of docs/github-action.md, run against a fake GitHub REST API.

The script is taken from the page (so the page is what is tested) and run in node the way
actions/github-script runs it, with a real Octokit (`@octokit/rest`, which `make install` puts
in .tools/octokit) whose requests go to a fake API on 127.0.0.1: list issues by label, create
a label and an issue, comment, close. The fake keeps the repository's issues between runs, as
GitHub does while the Actions cache comes and goes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from predev_integrations.sandbox import Sandbox
from tests.action.alert_paths import WORST_ENCODED, WORST_LINK, run_action, substitute

REPO = Path(__file__).resolve().parents[2]
OCTOKIT = REPO / ".tools" / "octokit" / "node_modules" / "@octokit" / "rest"
RUNNER = Path(__file__).with_name("github_script.cjs")
LABEL = "pre.dev credits low"
OWNER_REPO = "acme/specs"


def issue_step() -> dict[str, Any]:
    """The page's one actions/github-script step."""
    text = (REPO / "docs" / "github-action.md").read_text(encoding="utf-8")
    steps = [
        step
        for example in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        for job in yaml.safe_load(example)["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/github-script@")
    ]
    [step] = steps
    assert isinstance(step, dict)
    return step


def issue_script() -> str:
    """The step's `script:`."""
    return str(issue_step()["with"]["script"])


def step_env(outputs: dict[str, str]) -> dict[str, str]:
    """The step's `env:` as GitHub sets it: each expression replaced by the output's value."""
    return {name: substitute(str(value), outputs) for name, value in issue_step()["env"].items()}


@dataclass
class FakeGitHub:
    """A repository's issues, labels and the requests made, behind GitHub's REST routes."""

    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    def add(self, title: str, labels: list[str], *, pull_request: bool = False) -> int:
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": "",
            "state": "open",
            "labels": [{"name": name} for name in labels],
            "comments": [],
            **({"pull_request": {"url": "x"}} if pull_request else {}),
        }
        return number

    def open_with_label(self) -> list[dict[str, Any]]:
        return [
            issue
            for issue in self.issues.values()
            if issue["state"] == "open"
            and "pull_request" not in issue
            and LABEL in [label["name"] for label in issue["labels"]]
        ]


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()
    prefix = f"/repos/{OWNER_REPO}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            data = json.loads(self.rfile.read(length) or b"{}")
            assert isinstance(data, dict)
            return data

        def route(self, method: str) -> None:
            url = urlsplit(self.path)
            fake.requests.append((method, url.path))
            fake.tokens.add(self.headers.get("Authorization", ""))
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            number = re.fullmatch(rf"{prefix}/issues/(\d+)(/comments)?", url.path)
            if method == "GET" and url.path == f"{prefix}/issues":
                wanted = {name for name in query.get("labels", "").split(",") if name}
                state = query.get("state", "open")
                found = [
                    {k: v for k, v in issue.items() if k != "comments"}
                    for issue in fake.issues.values()
                    if state in ("all", issue["state"])
                    and wanted <= {label["name"] for label in issue["labels"]}
                ]
                self.reply(200, found)
            elif method == "POST" and url.path == f"{prefix}/issues":
                data = self.body()
                new = fake.add(data["title"], data.get("labels", []))
                fake.issues[new]["body"] = data.get("body", "")
                self.reply(201, fake.issues[new])
            elif method == "POST" and url.path == f"{prefix}/labels":
                name = self.body()["name"]
                if name in fake.labels:
                    self.reply(422, {"message": "Validation Failed"})
                else:
                    fake.labels.add(name)
                    self.reply(201, {"name": name})
            elif number is not None and int(number[1]) in fake.issues:
                issue = fake.issues[int(number[1])]
                if method == "POST" and number[2]:
                    issue["comments"].append(self.body()["body"])
                    self.reply(201, {"id": len(issue["comments"])})
                elif method == "PATCH" and not number[2]:
                    data = self.body()
                    issue.update({k: data[k] for k in ("state", "state_reason") if k in data})
                    self.reply(200, issue)
                else:
                    self.reply(404, {"message": "Not Found"})
            else:
                self.reply(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self.route("GET")

        def do_POST(self) -> None:
            self.route("POST")

        def do_PATCH(self) -> None:
            self.route("PATCH")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def run_script(github: tuple[FakeGitHub, str], tmp_path: Path) -> Any:
    """`run_script(alert=..., message=...)`: one workflow run's script step, given the check
    step's `alert` and `alert-message` outputs through the recipe's `env:`."""
    node = shutil.which("node")
    if node is None or not (OCTOKIT / "package.json").is_file():
        pytest.fail("@octokit/rest is not installed; run `make install` (needs node and npm)")
    script = tmp_path / "script.js"
    script.write_text(issue_script(), encoding="utf-8")
    _, url = github

    def run(*, alert: str, message: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
        env.update(step_env({"alert": alert, "alert-message": message}), NO_PROXY="127.0.0.1")
        proc = subprocess.run(
            [node, str(RUNNER), str(OCTOKIT), str(script), url, OWNER_REPO],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    return run


FELL = (
    "pre.dev credits low: 180 remaining, below the alert level 200; runway unknown: only 1 "
    "reading (need 3). Top up at https://pre.dev/project/playground"
)
BACK = "pre.dev credits recovered: 240 remaining, at or above 220 again; not spending."


def test_an_alert_opens_one_labelled_issue(github: tuple[FakeGitHub, str], run_script: Any) -> None:
    fake, _ = github
    run_script(alert="true", message=FELL)
    [issue] = fake.open_with_label()
    assert (issue["title"], issue["body"]) == ("pre.dev credits are low", FELL)
    assert fake.labels == {LABEL}
    assert fake.tokens == {"token fake-token"}


def test_a_second_alert_while_the_issue_is_open_comments_instead_of_opening_another(
    github: tuple[FakeGitHub, str], run_script: Any
) -> None:
    """The cache was lost, so the next run alerted again: the label finds the open issue."""
    fake, _ = github
    run_script(alert="true", message=FELL)
    run_script(alert="true", message=FELL.replace("180", "150"))
    [issue] = fake.open_with_label()
    assert issue["comments"] == [FELL.replace("180", "150")]
    assert len(fake.issues) == 1


def test_recovery_comments_and_closes_the_issue_and_the_next_fall_opens_a_new_one(
    github: tuple[FakeGitHub, str], run_script: Any
) -> None:
    fake, _ = github
    run_script(alert="true", message=FELL)
    run_script(alert="false", message=BACK)
    assert fake.open_with_label() == []
    first = fake.issues[1]
    assert (first["state"], first["state_reason"], first["comments"]) == (
        "closed",
        "completed",
        [BACK],
    )
    run_script(alert="true", message=FELL)  # a new fall: a new issue, the label exists already
    [second] = fake.open_with_label()
    assert second["number"] == 2


def test_a_recovery_with_no_issue_open_does_nothing(
    github: tuple[FakeGitHub, str], run_script: Any
) -> None:
    fake, _ = github
    run_script(alert="false", message=BACK)
    assert fake.issues == {}
    assert [method for method, _ in fake.requests] == ["GET"]


def test_other_issues_and_labelled_pull_requests_are_left_alone(
    github: tuple[FakeGitHub, str], run_script: Any
) -> None:
    fake, _ = github
    other = fake.add("unrelated", ["bug"])
    pull = fake.add("a pull request", [LABEL], pull_request=True)
    run_script(alert="true", message=FELL)
    run_script(alert="false", message=BACK)
    for number in (other, pull):
        assert fake.issues[number]["state"] == "open"
        assert fake.issues[number]["comments"] == []
    assert len(fake.issues) == 3


def test_the_message_is_data_not_code(github: tuple[FakeGitHub, str], run_script: Any) -> None:
    """Outputs reach the script through env:, so even a message shaped like code is text."""
    fake, _ = github
    hostile = "'); process.exit(3); (' ${{ github.token }} `$(id)`"
    run_script(alert="true", message=hostile)
    [issue] = fake.open_with_label()
    assert issue["body"] == hostile


def test_the_actions_outputs_with_the_worst_link_reach_the_issue_as_they_are(
    github: tuple[FakeGitHub, str],
    run_script: Any,
    sandbox: Sandbox,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    fake, _ = github
    said = []
    for balance in (150, 250):  # fired, then recovered
        sandbox.configure(balance=balance)
        outputs, _ = run_action(cli_env, tmp_path, alert_below="200", topup_url=WORST_LINK)
        run_script(alert=outputs["alert"], message=outputs["alert-message"])
        said.append(outputs["alert-message"])
    assert said[0].endswith(f"Top up at {WORST_ENCODED}")
    assert fake.issues[1]["body"] == said[0]
    assert fake.issues[1]["comments"] == [said[1]]
    assert fake.issues[1]["state"] == "closed"
