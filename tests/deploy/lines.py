"""What the installed Airflow line does differently, for the deployment tests' expectations.
One place for each fact, with the evidence; the README's known issues say the same."""

from __future__ import annotations

from packaging.version import Version

from tests.deploy.harness import KINDS, PROFILES, Deployment


def airflow_line() -> Version:
    from airflow import __version__

    return Version(__version__)


#: Airflow 3.3 added the asset state store a watcher keeps its last observation in. Before it,
#: a watcher that starts (a new triggerer, a restart) takes its first reading as the baseline.
HAS_STATE_STORE = airflow_line() >= Version("3.3")

#: Before 3.2, every live triggerer takes every asset watcher on each pass of its loop:
#: `Trigger.get_sorted_triggers` selects asset triggers without the "unassigned, or held by a
#: dead triggerer" condition it puts on task triggers (read in apache-airflow-core 3.0.6 and
#: 3.1.8; 3.2.2 has the condition, apache/airflow#65792). Each triggerer assigns them to
#: itself and then loads what is assigned to it, so each runs its own copy of every watcher.
#: Deferred sensors (task triggers) are not affected.
WATCHER_IN_EVERY_TRIGGERER = airflow_line() < Version("3.2")

#: Airflow 3.0's LocalExecutor hands a workload to an idle worker before the scheduler commits
#: "queued": the worker's PATCH .../run gets 409 (state still "scheduled") and the task fails
#: before it starts ("task state changed externally"): apache/airflow#52754, fixed by #56010
#: (3.1.0 on); the CeleryExecutor queues after the commit and is not affected.
HAS_LOCAL_EXECUTOR_RACE = airflow_line() < Version("3.1")


def triggerers(airflow: Deployment) -> list[str]:
    """Every triggerer of the deployment's profile."""
    return [n for n in PROFILES[airflow.profile] if KINDS.get(n, n) == "triggerer"]


def watcher_copies(airflow: Deployment) -> int:
    """How many copies of each asset watcher run while every triggerer is up: what one
    crossing can cost in runs (each copy fires once) and in requests (each polls)."""
    return len(triggerers(airflow)) if WATCHER_IN_EVERY_TRIGGERER else 1


def pollers(airflow: Deployment) -> int:
    """How many triggerer processes poll for the deployment's triggers: those the trigger table
    names as holders; before 3.2, with watchers deployed, every triggerer."""
    [(holders,)] = airflow.sql(
        "SELECT count(DISTINCT triggerer_id) FROM trigger WHERE triggerer_id IS NOT NULL"
    )
    return len(triggerers(airflow)) if WATCHER_IN_EVERY_TRIGGERER else int(holders)
