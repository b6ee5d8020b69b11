"""DAGs the Airflow tests run with `dag.test()`: each gate in front of a stand-in spec task.

Every gate has `retries=2`, so a test can prove a failure was final (one try, no retry).
Floors are fixed at 100; the tests move the sandbox's balance instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from predev_airflow.operators.credits import PreDevCreditsCheckOperator
from predev_airflow.sensors.credits import PreDevCreditsSensor

FLOOR = 100


@task
def generate_spec(balance: float) -> str:
    return f"spec generated with {balance:g} credits available"


def _spec_dag(dag_id: str, *, mode: str, poke_interval: float, deferrable: bool) -> DAG:
    with DAG(dag_id, schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
        gate = PreDevCreditsSensor(
            task_id="wait_for_credits",
            min_credits=FLOOR,
            warn_below=200,
            timeout=60,
            mode=mode,
            poke_interval=poke_interval,
            deferrable=deferrable,
            retries=2,
            retry_delay=timedelta(seconds=0),
        )
        generate_spec(gate.output)  # type: ignore[arg-type]  # the XComArg becomes the balance
    return dag


poke = _spec_dag("predev_sensor_poke", mode="poke", poke_interval=0.5, deferrable=False)
reschedule = _spec_dag(
    "predev_sensor_reschedule", mode="reschedule", poke_interval=1, deferrable=False
)
deferrable = _spec_dag(
    "predev_sensor_deferrable", mode="reschedule", poke_interval=0.5, deferrable=True
)

with DAG(
    "predev_check_operator", schedule=None, start_date=datetime(2025, 1, 1), catchup=False
) as check:
    PreDevCreditsCheckOperator(
        task_id="check_credits", min_credits=FLOOR, retries=2, retry_delay=timedelta(seconds=0)
    )
