"""Mail the team once when pre.dev credits run low, with the runway and where to top up.

Event-driven alerting: the DAG is scheduled on an asset whose watcher runs
`PreDevCreditsLowTrigger` in the triggerer. The watcher fires once when the balance falls below
200 (and once when the runway at the current rate falls below 2 days); it stays quiet while
the balance stays low or hovers around 200, until the balance was back at 220 (the default
`rearm_above`, 10 % above the threshold). Each event starts one run, which sends one message
through a standard Airflow notifier: `SmtpNotifier` here, from the SMTP provider Airflow
installs. To use Slack (or Teams, Apprise, ...) instead, change the one line in `notifier()`.

Reads the connections `predev_default` (type pre.dev: the API key in the password field) and
`smtp_default` (type smtp, with `from_email` in its extra).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import DAG, Asset, AssetWatcher, task

from predev_airflow.alerts import AlertMessage, alert_message
from predev_airflow.triggers.credits_low import PreDevCreditsLowTrigger

#: Below this many credits the team hears about it: a few Deep Specs' worth (10-50 each).
THRESHOLD = 200
#: ... and when the credits will run out within this many seconds at the current rate.
MIN_RUNWAY = 2 * 86_400
ALERT_TO = "platform-team@example.com"

CREDITS_LOW = Asset(
    "predev_credits_low",
    watchers=[
        AssetWatcher(
            name="predev_credits_low",
            trigger=PreDevCreditsLowTrigger(
                threshold=THRESHOLD, poke_interval=300, min_runway=MIN_RUNWAY
            ),
        )
    ],
)


def notifier(message: AlertMessage) -> Any:
    """The channel. For Slack (apache-airflow-providers-slack), this one line becomes
    `return SlackNotifier(slack_conn_id="slack_api_default", channel="#ops", text=message.text)`
    """
    return SmtpNotifier(to=ALERT_TO, subject=message.subject, html_content=message.html)


@task(retries=3, retry_delay=timedelta(minutes=1))
def send_low_credit_alert(triggering_asset_events: Any = None, **context: Any) -> str:
    """One message for the newest event of the run; a failed send fails the task (retried)."""
    events = triggering_asset_events[CREDITS_LOW] if triggering_asset_events else []
    if not events:
        return "no low-credit event in this run (started by hand): nothing sent"
    message = alert_message(events[-1].extra.get("payload") or {})
    notifier(message)(context)
    return message.subject


with DAG(
    "example_predev_credits_low",
    schedule=[CREDITS_LOW],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "pre.dev"],
) as low_credit_dag:
    send_low_credit_alert()
