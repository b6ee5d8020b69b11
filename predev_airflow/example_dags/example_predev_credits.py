"""Gate spec generation on pre.dev credits.

`example_predev_credits_sensor` waits (in the triggerer when deferrable) until the balance
reaches the floor, then generates the spec; the balance arrives through XCom.
`example_predev_credits_check` checks once and fails fast, for runs that should not wait.
`example_predev_credits_batch` sizes the gate by the batch an upstream task plans (`need`):
no spec starts before there is enough for all of them, and `max_active_runs=1` keeps a second
run's gate from passing on credits this run is about to spend.

Both read the connection `predev_default` (type pre.dev: the API key in the password field).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from predev_airflow.operators.credits import PreDevCreditsCheckOperator
from predev_airflow.sensors.credits import PreDevCreditsSensor

#: A Deep Spec costs about 10-50 credits; keep room for one.
MIN_CREDITS = 50


@task
def generate_spec(credits_available: float) -> str:
    """Stand-in for the call to the Architect API that spends the credits."""
    return f"would generate a Deep Spec now ({credits_available:g} credits available)"


with DAG(
    "example_predev_credits_sensor",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "pre.dev"],
) as sensor_dag:
    wait_for_credits = PreDevCreditsSensor(
        task_id="wait_for_credits",
        min_credits=MIN_CREDITS,
        warn_below=200,
        deferrable=True,  # or mode="reschedule" (the default) to wait from a worker slot
        poke_interval=timedelta(minutes=5),
        timeout=timedelta(hours=6),
    )
    generate_spec(wait_for_credits.output)  # type: ignore[arg-type]  # the XComArg becomes the balance

with DAG(
    "example_predev_credits_check",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["example", "pre.dev"],
) as check_dag:
    check_credits = PreDevCreditsCheckOperator(
        task_id="check_credits", min_credits=MIN_CREDITS, warn_below=200
    )
    generate_spec(check_credits.output)  # type: ignore[arg-type]  # the XComArg becomes the balance


@task
def plan_specs() -> list[str]:
    """Stand-in for the task that decides what to generate: one Deep Spec per item."""
    return ["billing service", "search service", "notifications"]


@task
def generate_deep_spec(idea: str) -> str:
    """Stand-in for the Architect API call that spends a Deep Spec's credits."""
    return f"would generate a Deep Spec for {idea} now"


with DAG(
    "example_predev_credits_batch",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,  # the gate and the batch's spending, one run at a time
    tags=["example", "pre.dev"],
) as batch_dag:
    ideas = plan_specs()
    wait_for_batch = PreDevCreditsSensor(
        task_id="wait_for_credits",
        min_credits=MIN_CREDITS,
        need={"deep": ideas},  # the list's length, priced at 50 per Deep Spec
        deferrable=True,
        poke_interval=timedelta(minutes=5),
        timeout=timedelta(hours=6),
    )
    wait_for_batch >> generate_deep_spec.expand(idea=ideas)
