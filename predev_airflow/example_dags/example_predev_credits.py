"""Gate spec generation on pre.dev credits.

`example_predev_credits_sensor` waits (in the triggerer when deferrable) until the balance
reaches the floor, then generates the spec; the balance arrives through XCom.
`example_predev_credits_check` checks once and fails fast, for runs that should not wait.

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
