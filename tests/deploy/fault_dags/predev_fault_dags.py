"""DAGs for the production-profile fault tests: what a triggerer, worker or DB failure hits.

- `predev_fault_generate` runs when the watcher on `predev_fault_credits` sees a top-up.
- `predev_fault_idle`: two more watchers on the same connection that never fire.
- `predev_fault_sensors`: deferrable sensors (floor 500) that finish once credits are back.
- `predev_fault_reschedule`: one reschedule-mode sensor with a retry, for a worker's death.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, AssetWatcher, task

from predev_airflow.sensors.credits import PreDevCreditsSensor
from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger

FLOOR = 500
INTERVAL = 2.0
SENSORS = 6
UNREACHABLE = 10**9
START = datetime(2025, 1, 1)


def watcher(name: str, floor: float) -> AssetWatcher:
    return AssetWatcher(
        name=name, trigger=PreDevCreditsEventTrigger(min_credits=floor, poke_interval=INTERVAL)
    )


credits_back = Asset("predev_fault_credits", watchers=[watcher("credits_back", FLOOR)])
idle = Asset(
    "predev_fault_idle", watchers=[watcher(f"idle_{n}", UNREACHABLE + n) for n in range(2)]
)


@task
def generate() -> str:
    return "generated"


with DAG(
    "predev_fault_generate", schedule=[credits_back], start_date=START, catchup=False
) as generate_dag:
    generate()


@task
def never() -> None:
    """Never runs: its watchers' floors are out of reach."""


with DAG("predev_fault_idle", schedule=[idle], start_date=START, catchup=False) as idle_dag:
    never()


@task
def after() -> str:
    return "every gate passed"


with DAG("predev_fault_sensors", schedule=None, start_date=START, catchup=False) as sensors_dag:
    gates = [
        PreDevCreditsSensor(
            task_id=f"wait_{n}",
            min_credits=FLOOR,
            deferrable=True,
            poke_interval=INTERVAL,
            timeout=1800,
        )
        for n in range(SENSORS)
    ]
    gates >> after()

with DAG(
    "predev_fault_reschedule", schedule=None, start_date=START, catchup=False
) as reschedule_dag:
    PreDevCreditsSensor(
        task_id="wait_in_worker",
        min_credits=FLOOR,
        mode="reschedule",
        poke_interval=INTERVAL,
        timeout=1800,
        retries=1,
        retry_delay=timedelta(seconds=0),
    )
