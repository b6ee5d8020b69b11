"""DAGs for the low-credit alert's deployment test: every kind of trigger on one connection.

- `predev_low_alert` runs when `predev_low_credits` is updated by its `PreDevCreditsLowTrigger`
  (threshold 200, re-armed at 220), and mails the alert through `SmtpNotifier` (the
  `smtp_default` connection points at the test's SMTP server), as the example DAG does.
- `predev_low_idle` is scheduled on an asset with "credits are back" watchers on the same
  connection whose floors are never reached: they only add polling.
- `predev_low_sensors` holds deferrable sensors on the same connection that never finish.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import DAG, Asset, AssetWatcher, task

from predev_airflow.alerts import alert_message
from predev_airflow.sensors.credits import PreDevCreditsSensor
from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger
from predev_airflow.triggers.credits_low import PreDevCreditsLowTrigger

THRESHOLD = 200
INTERVAL = 2.0
IDLE_WATCHERS = 2
SENSORS = 4
UNREACHABLE = 10**9
START = datetime(2025, 1, 1)
ALERT_TO = "platform-team@example.com"

credits_low = Asset(
    "predev_low_credits",
    watchers=[
        AssetWatcher(
            name="credits_low",
            trigger=PreDevCreditsLowTrigger(threshold=THRESHOLD, poke_interval=INTERVAL),
        )
    ],
)
idle = Asset(
    "predev_low_idle",
    watchers=[
        AssetWatcher(
            name=f"idle_{n}",
            trigger=PreDevCreditsEventTrigger(min_credits=UNREACHABLE + n, poke_interval=INTERVAL),
        )
        for n in range(IDLE_WATCHERS)
    ],
)


@task
def send_alert(triggering_asset_events: Any = None, **context: Any) -> str:
    """The example DAG's task: one mail for the newest event of the run."""
    events = triggering_asset_events[credits_low] if triggering_asset_events else []
    if not events:
        return "nothing sent"
    message = alert_message(events[-1].extra.get("payload") or {})
    SmtpNotifier(to=ALERT_TO, subject=message.subject, html_content=message.html)(context)
    return message.subject


with DAG("predev_low_alert", schedule=[credits_low], start_date=START, catchup=False) as alert_dag:
    send_alert()


@task
def never() -> None:
    """Never runs: its watchers' floors are out of reach."""


with DAG("predev_low_idle", schedule=[idle], start_date=START, catchup=False) as idle_dag:
    never()

with DAG("predev_low_sensors", schedule=None, start_date=START, catchup=False) as sensors_dag:
    for n in range(SENSORS):
        PreDevCreditsSensor(
            task_id=f"wait_{n}",
            min_credits=UNREACHABLE,
            deferrable=True,
            poke_interval=INTERVAL,
            timeout=1800,
            # The README's workaround for Airflow 3.0's LocalExecutor race (a task of a burst
            # failed before it starts, apache/airflow#52754): the retry defers as it should.
            retries=1,
            retry_delay=timedelta(seconds=0),
        )
