"""DAGs for the event-trigger deployment tests: asset watchers polling every few seconds.

- `predev_event_generate` runs when `predev_event_credits` is updated by its watcher (floor 500).
- `predev_event_idle` is scheduled on an asset with several more watchers on the same
  connection, whose floors are never reached: they only add polling.
- `predev_event_sensors` holds deferrable sensors on the same connection that never finish.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from predev_airflow.sensors.credits import PreDevCreditsSensor
from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger

FLOOR = 500
INTERVAL = 2.0
IDLE_WATCHERS = 4
SENSORS = 4
UNREACHABLE = 10**9
START = datetime(2025, 1, 1)


def watcher(name: str, floor: float) -> AssetWatcher:
    return AssetWatcher(
        name=name, trigger=PreDevCreditsEventTrigger(min_credits=floor, poke_interval=INTERVAL)
    )


credits_back = Asset("predev_event_credits", watchers=[watcher("credits_back", FLOOR)])
idle = Asset(
    "predev_event_idle",
    watchers=[watcher(f"idle_{n}", UNREACHABLE + n) for n in range(IDLE_WATCHERS)],
)


@task
def generate(triggering_asset_events: Any = None) -> Any:
    """Returns the payload of the event that started the run."""
    events = triggering_asset_events[credits_back] if triggering_asset_events else []
    return [event.extra.get("payload") for event in events]


with DAG(
    "predev_event_generate",
    schedule=[credits_back],
    start_date=START,
    catchup=False,
    max_active_runs=1,
) as generate_dag:
    generate()


@task
def never() -> None:
    """Never runs: its watchers' floors are out of reach."""


with DAG("predev_event_idle", schedule=[idle], start_date=START, catchup=False) as idle_dag:
    never()

with DAG("predev_event_sensors", schedule=None, start_date=START, catchup=False) as sensors_dag:
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
