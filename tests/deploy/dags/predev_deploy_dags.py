"""DAGs the deployment tests trigger: each gate in front of a downstream task.

The gates have `retries=2`, so a test can prove a failure was final (one try, no retry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from predev_airflow.operators.credits import PreDevCreditsCheckOperator
from predev_airflow.sensors.credits import PreDevCreditsSensor

FLOOR = 100
START = datetime(2025, 1, 1)


@task
def after_gate(balance: float) -> str:
    return f"ran after the gate with {balance:g} credits"


with DAG("predev_deploy_deferrable", schedule=None, start_date=START, catchup=False) as sensor:
    gate = PreDevCreditsSensor(
        task_id="wait_for_credits",
        min_credits=FLOOR,
        deferrable=True,
        poke_interval=1,
        timeout=600,
        retries=2,
        retry_delay=timedelta(seconds=0),
    )
    after_gate(gate.output)  # type: ignore[arg-type]  # the XComArg becomes the balance

with DAG("predev_deploy_check", schedule=None, start_date=START, catchup=False) as check:
    checked = PreDevCreditsCheckOperator(
        task_id="check_credits", min_credits=FLOOR, retries=2, retry_delay=timedelta(seconds=0)
    )
    after_gate(checked.output)  # type: ignore[arg-type]

BURST = 30

with DAG("predev_deploy_burst", schedule=None, start_date=START, catchup=False) as burst:
    for n in range(BURST):  # a burst of deferrable tasks, queued at once
        PreDevCreditsSensor(
            task_id=f"gate_{n}", min_credits=FLOOR, deferrable=True, poke_interval=1, timeout=900
        )
