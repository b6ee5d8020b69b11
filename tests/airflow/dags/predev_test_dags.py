"""DAGs the Airflow tests run with `dag.test()`: each gate in front of a stand-in spec task.

Every gate has `retries=2`, so a test can prove a failure was final (one try, no retry).
Floors are fixed at 100; the tests move the sandbox's balance instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

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


# --- A gate sized by the work (`need`) -----------------------------------------------------------
# `plan` returns the batch (12 Deep Spec requests); the gate's `need` is sized from it at run
# time, and `spend_spec` is mapped over it: each one spends a Deep Spec's 50 credits at the
# sandbox, so a test sees from the balance and the request log what the gate let through.
BATCH = 12


@task
def plan() -> list[dict[str, str]]:
    return [{"title": f"spec {n}", "kind": "deep"} for n in range(BATCH)]


@task
def spend_spec(spec: dict[str, str]) -> str:
    import json
    import os

    import httpx

    url = json.loads(os.environ["AIRFLOW_CONN_PREDEV_DEFAULT"])["host"]
    httpx.post(
        f"{url}/_sandbox/spend", json={"credits": 50, "by": spec["title"]}
    ).raise_for_status()
    return spec["title"]


def _need_dag(dag_id: str, need: Callable[[Any], Any], *, check: bool = False, **gate: Any) -> DAG:
    """plan >> gate(need=need(plan's XComArg)) >> spend_spec mapped over the plan."""
    with DAG(dag_id, schedule=None, start_date=datetime(2025, 1, 1), catchup=False) as dag:
        specs = plan()
        if check:
            checked: Any = PreDevCreditsCheckOperator(
                task_id="wait_for_credits", min_credits=50, need=need(specs), **gate
            )
        else:
            checked = PreDevCreditsSensor(
                task_id="wait_for_credits", min_credits=50, need=need(specs), timeout=60, **gate
            )
        specs >> checked >> spend_spec.expand(spec=specs)
    return dag


#: The XComArg of the list itself: its length counts as Deep Specs.
need_xcomarg = _need_dag(
    "predev_need_xcomarg", lambda specs: {"deep": specs}, deferrable=True, poke_interval=0.5
)
#: A template rendered as text, as Airflow renders templated fields by default.
need_jinja = _need_dag(
    "predev_need_jinja",
    lambda _: "{{ ti.xcom_pull(task_ids='plan') | length }} deep",
    mode="poke",
    poke_interval=0.5,
)
need_check = _need_dag(
    "predev_need_check",
    lambda specs: {"deep": specs},
    check=True,
    retries=2,
    retry_delay=timedelta(seconds=0),
)
need_bad = _need_dag(
    "predev_need_bad",
    lambda _: "{{ ti.xcom_pull(task_ids='plan') | length }} ultra",
    check=True,
    retries=2,
    retry_delay=timedelta(seconds=0),
)
