"""The alert's words, and the example DAG's task sending them through Airflow's SmtpNotifier
to a real SMTP server on loopback."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_airflow.alerts import alert_message
from predev_integrations._core.defaults import ENTERPRISE_TOP_UP_URL, TOP_UP_URL
from tests.deploy.smtp import MailServer

EXAMPLE = Path(__file__).parents[2] / "predev_airflow" / "example_dags"

THRESHOLD_EVENT: dict[str, Any] = {
    "balance": 150,
    "threshold": 200,
    "rearm_above": 220.0,
    "min_runway": None,
    "fired_by": "threshold",
    "runway_status": "known",
    "runway_seconds": 3.25 * 86_400,
    "burn_per_hour": 1.92,
    "runs_out_at": "2026-12-05T06:00:00Z",
    "runway_reason": None,
    "read_at": "2026-12-01T22:00:00Z",
    "predev_conn_id": "predev_default",
}


def test_the_message_names_the_balance_threshold_runway_and_where_to_top_up() -> None:
    message = alert_message(THRESHOLD_EVENT)
    assert message.subject == "pre.dev credits low on predev_default: 150 left (threshold 200)"
    assert message.text == (
        "pre.dev credits are low on 'predev_default': 150 credits left, below the alert "
        "threshold of 200.\n"
        "Runway: ~3.2 days left at ~46/day (runs out around 2026-12-05T06:00:00Z).\n"
        f"Top up at {TOP_UP_URL}"
    )
    assert f'<a href="{TOP_UP_URL}">' in message.html


def test_a_runway_alert_leads_with_the_runway() -> None:
    event = {**THRESHOLD_EVENT, "fired_by": "runway", "balance": 900, "min_runway": 7 * 86_400}
    message = alert_message(event)
    assert message.subject.startswith("pre.dev credits run out soon on predev_default: ~3.2 days")
    assert "below the alert's minimum runway of ~7 days. 900 credits left" in message.text


@pytest.mark.parametrize(
    ("runway", "says"),
    [
        ({"runway_status": "unknown", "runway_reason": "only 2 readings (need 3)"}, "unknown"),
        ({"runway_status": "not_spending", "runway_seconds": None}, "no spending seen lately"),
        ({"runway_status": "known", "runway_seconds": "soon"}, "unknown"),
    ],
)
def test_a_runway_the_forecast_cannot_tell_says_so(runway: dict[str, Any], says: str) -> None:
    assert f"Runway: {says}" in alert_message({**THRESHOLD_EVENT, **runway}).text


def test_the_connections_top_up_link_is_the_one_in_the_message() -> None:
    message = alert_message({**THRESHOLD_EVENT, "topup_url": ENTERPRISE_TOP_UP_URL})
    assert message.text.endswith(f"\nTop up at {ENTERPRISE_TOP_UP_URL}")
    link = ENTERPRISE_TOP_UP_URL.replace("&", "&amp;")
    assert f'<a href="{link}">{link}</a>' in message.html
    assert TOP_UP_URL not in message.text


@pytest.mark.parametrize(
    "link",
    [
        None,
        "",
        42,
        "http://pre.dev/enterprise",
        "javascript:alert(1)",
        "https://pre.dev/a\\b",
        "https://pre.dev/\x1b[31m",
        "https://" + "a" * 5_000 + ".dev",
    ],
)
def test_a_top_up_link_the_connection_could_not_hold_reads_as_the_solo_dashboard(
    link: object,
) -> None:
    message = alert_message({**THRESHOLD_EVENT, "topup_url": link})
    assert message.text.endswith(f"\nTop up at {TOP_UP_URL}")


def test_a_top_up_link_with_template_syntax_is_sent_encoded_never_rendered() -> None:
    """The rule the connection's extra was read with: braces, quotes and spaces %-encoded."""
    message = alert_message(
        {**THRESHOLD_EVENT, "topup_url": "https://pre.dev/{{ var.value.key }}'"}
    )
    link = "https://pre.dev/%7B%7B%20var.value.key%20%7D%7D%27"
    assert message.text.endswith(f"\nTop up at {link}")
    assert f'<a href="{link}">{link}</a>' in message.html


@given(
    st.dictionaries(
        st.sampled_from([*sorted(THRESHOLD_EVENT), "topup_url"]),
        st.from_type(object) | st.text().map(lambda t: "https://pre.dev/" + t),
    )
)
def test_any_payload_gives_a_clean_message_without_template_syntax(junk: dict[str, Any]) -> None:
    message = alert_message({**THRESHOLD_EVENT, **junk})
    for text in (message.subject, message.text):
        assert "{" not in text
        assert "}" not in text
        assert all(ch == "\n" or ch.isprintable() for ch in text)
    assert "<script" not in message.html


def test_foreign_text_is_cleaned() -> None:
    event = {
        **THRESHOLD_EVENT,
        "predev_conn_id": "x{{ conn.predev_default.password }}\x1b[2J",
        "runway_status": "unknown",
        "runway_reason": "<script>alert(1)</script>",
    }
    message = alert_message(event)
    assert "{{" not in message.text
    assert "\x1b" not in message.text
    assert "<script>" not in message.html


def load_example() -> ModuleType:
    path = EXAMPLE / "example_predev_credits_low.py"
    spec = importlib.util.spec_from_file_location("example_predev_credits_low", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeEvent:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.extra = {"payload": payload}


class FakeEvents:
    """`triggering_asset_events`: the events by asset (an Asset is not hashable on 3.0)."""

    def __init__(self, asset: Any, events: list[FakeEvent]) -> None:
        self.asset, self.events = asset, events

    def __getitem__(self, asset: Any) -> list[FakeEvent]:
        assert asset == self.asset
        return self.events


def test_the_example_dags_task_mails_the_newest_alert_through_smtpnotifier(
    monkeypatch: pytest.MonkeyPatch, api_key: str
) -> None:
    example = load_example()
    with MailServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection())
        older = {**THRESHOLD_EVENT, "balance": 190}
        events = FakeEvents(example.CREDITS_LOW, [FakeEvent(older), FakeEvent(THRESHOLD_EVENT)])
        context = {"dag": example.low_credit_dag}
        subject = example.send_low_credit_alert.function(events, **context)
        [mail] = server.mails
    assert subject == mail.subject == alert_message(THRESHOLD_EVENT).subject
    assert mail.recipients == (example.ALERT_TO,)
    assert "150 credits left" in mail.text
    assert TOP_UP_URL in mail.text
    assert api_key not in mail.raw.decode()


def test_a_run_without_an_event_sends_nothing() -> None:
    example = load_example()
    assert "nothing sent" in example.send_low_credit_alert.function(None)


def test_the_payload_survives_json_as_the_asset_event_stores_it() -> None:
    assert alert_message(json.loads(json.dumps(THRESHOLD_EVENT))) == alert_message(THRESHOLD_EVENT)


@pytest.mark.parametrize(
    ("risk", "says"),
    [
        ({}, "It fires when there is at least a 1-in-5 chance of running out within ~7 days."),
        ({"runway_risk": 0.05}, "at least a 1-in-20 chance of running out within ~7 days."),
        ({"runway_risk": 0.15}, "at least a 15% chance of running out within ~7 days."),
        ({"runway_risk": "{{ 7 * 7 }}"}, None),  # not ours: the sentence is left out
        ({"runway_risk": 0.9}, None),
    ],
)
def test_a_runway_alert_names_the_chance_it_fires_at(
    risk: dict[str, Any], says: str | None
) -> None:
    event = {**THRESHOLD_EVENT, "fired_by": "runway", "min_runway": 7 * 86_400, **risk}
    text = alert_message(event).text
    if says is None:
        assert "chance" not in text
        assert "{" not in text
    else:
        assert says in text
    assert "chance" not in alert_message({**THRESHOLD_EVENT, **risk}).text  # threshold: none
