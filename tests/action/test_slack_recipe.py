"""The Slack recipe of docs/github-action.md: its `payload:` as the page writes it, with
`alert-message` put in by GitHub's expression substitution, parses (as the Slack action parses
it, YAML; PyYAML stands in for its js-yaml) to exactly `{"text": <the message>}`, whatever
accepted top-up link the message carries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

from predev_integrations._core.alert import BALANCE_RULE, message
from predev_integrations._core.urls import normalize_topup_url
from predev_integrations.errors import ConfigError
from predev_integrations.sandbox import Sandbox
from tests.action.alert_paths import (
    LINK_TAILS,
    WORST_ENCODED,
    WORST_LINK,
    run_action,
    substitute,
)

REPO = Path(__file__).resolve().parents[2]


def slack_payload() -> str:
    """The `payload:` of the page's one slackapi/slack-github-action step."""
    text = (REPO / "docs" / "github-action.md").read_text(encoding="utf-8")
    payloads = [
        step["with"]["payload"]
        for example in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        for job in yaml.safe_load(example)["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("slackapi/slack-github-action@")
    ]
    [payload] = payloads
    return str(payload)


def posted(alert_message: str) -> Any:
    return yaml.safe_load(substitute(slack_payload(), {"alert-message": alert_message}))


@pytest.mark.parametrize("balances", [(150,), (150, 250)], ids=["fired", "recovered"])
def test_the_actions_message_with_the_worst_link_posts_as_itself(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path, balances: tuple[float, ...]
) -> None:
    for balance in balances:
        sandbox.configure(balance=balance)
        outputs, _ = run_action(cli_env, tmp_path, alert_below="200", topup_url=WORST_LINK)
    said = outputs["alert-message"]
    assert said.startswith("pre.dev credits ")
    assert said.endswith(f"Top up at {WORST_ENCODED}") == (len(balances) == 1)
    assert posted(said) == {"text": said}


@given(LINK_TAILS)
def test_any_accepted_link_posts_as_itself(tail: str) -> None:
    try:
        link = normalize_topup_url("https://pre.dev/" + tail)
    except ConfigError:
        return
    said = message(
        fired=True,
        rule=BALANCE_RULE,
        balance=150,
        below=200,
        rearm_above=220,
        runway_below_seconds=None,
        runway="runway unknown: only 1 reading (need 3)",
        link=link,
    )
    assert posted(said) == {"text": said}
