"""The batch pipeline the need tests deploy, guarded as docs/airflow/production.md recommends.

`plan` returns the batch (12 Deep Spec requests); the gate's `need` is the XComArg of that
list (its length counts as Deep Specs); `spend_spec` is mapped over it and spends a Deep Spec's
50 credits at the sandbox (`POST /_sandbox/spend`), so a test reads from the sandbox's balance
and request log what the gate let through. `max_active_runs=1` makes the whole run the guarded
section: a second run stays queued until the first has spent.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

from airflow.sdk import DAG, task

from predev_airflow.sensors.credits import PreDevCreditsSensor

BATCH = 12
DAG_ID = "predev_need_batch"


@task
def plan() -> list[dict[str, str]]:
    return [{"title": f"spec {n}", "kind": "deep"} for n in range(BATCH)]


@task
def spend_spec(spec: dict[str, str], run_id: str | None = None) -> str:
    import httpx

    url = json.loads(os.environ["AIRFLOW_CONN_PREDEV_DEFAULT"])["host"]
    spent = {"credits": 50, "by": f"{run_id} {spec['title']}"}
    httpx.post(f"{url}/_sandbox/spend", json=spent, timeout=30).raise_for_status()
    return spec["title"]


with DAG(
    DAG_ID,
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,  # the gate and the spending of one run before the next run's gate
):
    specs = plan()
    gate = PreDevCreditsSensor(
        task_id="wait_for_credits",
        min_credits=50,
        need={"deep": specs},
        deferrable=True,
        poke_interval=2,
        timeout=900,
    )
    gate >> spend_spec.expand(spec=specs)
