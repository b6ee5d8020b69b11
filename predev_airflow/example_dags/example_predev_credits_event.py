"""Generate the queued specs the moment pre.dev credits are back above 500.

Event-driven scheduling: the DAG is scheduled on an asset whose watcher runs
`PreDevCreditsEventTrigger` in the triggerer. The watcher fires once when the balance rises
from below 500 to 500 or more (and, with `min_increase`, on a top-up of that much while above
it); each event becomes an asset event that starts one run. Nothing runs, and no task or
worker slot is held, while the team is out of credits.

Reads the connection `predev_default` (type pre.dev: the API key in the password field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, task

from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger

#: Enough for the queued Deep Specs (about 10-50 credits each).
MIN_CREDITS = 500

CREDITS_BACK = Asset(
    "predev_credits_available",
    watchers=[
        AssetWatcher(
            name="predev_credits_back",
            trigger=PreDevCreditsEventTrigger(min_credits=MIN_CREDITS, poke_interval=60),
        )
    ],
)


@task
def generate_queued_specs(triggering_asset_events: Any = None) -> str:
    """Stand-in for the Architect API calls that spend the credits; the event says how many."""
    events = triggering_asset_events[CREDITS_BACK] if triggering_asset_events else []
    payload = events[-1].extra.get("payload", {}) if events else {}
    return (
        f"would generate the queued specs now ({payload.get('balance', '?')} credits, "
        f"fired by {payload.get('fired_by', 'a manual run')})"
    )


with DAG(
    "example_predev_credits_event",
    schedule=[CREDITS_BACK],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["example", "pre.dev"],
) as event_dag:
    generate_queued_specs()
