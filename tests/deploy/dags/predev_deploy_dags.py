"""DAGs the deployment tests trigger: each gate in front of a downstream task.

The gates have `retries=2`, so a test can prove a failure was final (one try, no retry).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from predev_airflow.operators.credits import PreDevCreditsCheckOperator
from predev_airflow.sensors.credits import PreDevCreditsSensor

FLOOR = 100
GATE = "wait_for_credits"
START = datetime(2025, 1, 1)


@task
def after_gate(balance: float) -> str:
    return f"ran after the gate with {balance:g} credits"


with DAG("predev_deploy_deferrable", schedule=None, start_date=START, catchup=False) as sensor:
    gate = PreDevCreditsSensor(
        task_id=GATE,
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

for dag_id, retries in (("predev_deploy_burst", 0), ("predev_deploy_burst_retries", 1)):
    with DAG(dag_id, schedule=None, start_date=START, catchup=False):
        for n in range(BURST):  # a burst of deferrable tasks, queued at once
            PreDevCreditsSensor(
                task_id=f"gate_{n}",
                min_credits=FLOOR,
                deferrable=True,
                poke_interval=1,
                timeout=900,
                retries=retries,
                retry_delay=timedelta(seconds=0),
            )

# A trigger that joins the triggerer's shared poll must not decide on a reading older than the
# poke that made it wait. `predev_deploy_warm` keeps a reading in the poll (its floor is out of
# reach: it waits, polling every 25 s); `predev_deploy_patient` pokes, defers, and accepts
# readings up to 60 s old: the warm one is within that until the warm sensor polls again.
with DAG("predev_deploy_warm", schedule=None, start_date=START, catchup=False):
    PreDevCreditsSensor(
        task_id="keep_polling", min_credits=10**9, deferrable=True, poke_interval=25, timeout=900
    )

with DAG("predev_deploy_patient", schedule=None, start_date=START, catchup=False):
    patient = PreDevCreditsSensor(
        task_id=GATE, min_credits=FLOOR, deferrable=True, poke_interval=60, timeout=600
    )
    after_gate(patient.output)  # type: ignore[arg-type]
