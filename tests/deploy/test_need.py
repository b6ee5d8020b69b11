"""A gate sized by the work, in a real deployment on both profiles (`need_dags/`).

A DAG plans 12 Deep Spec requests, a deferred sensor's `need` is that list (an XComArg: its
length counts), and a mapped task over it spends 50 credits per spec at the sandbox. The
sandbox's balance and its request log (balance reads and spends, in order) say what the gate
let through, and when. The DAG is guarded as docs/airflow/production.md recommends for a shared
key (`max_active_runs=1`), and two runs started together with credits for one batch show it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, deploy, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

NEED_DAGS = Path(__file__).parent / "need_dags"
DAG_ID = "predev_need_batch"
GATE = "wait_for_credits"
SPEND = "spend_spec"
INTERVAL = 2.0  # the sensor's poke_interval in need_dags/
BATCH = 12
SHORT = (
    "620 pre.dev credits remaining, short by 30 credits for the 12 Deep Specs planned "
    "(at most 600); checking again in 2 s"
)


@pytest.fixture(scope="module")
def batches(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_sandbox: Sandbox,
    deploy_key: str,
    profile: str,
) -> Iterator[Deployment]:
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp(f"need-deployment-{profile}")
    env = {"AIRFLOW_CONN_PREDEV_DEFAULT": conn}
    with deploy(NEED_DAGS, root=root, env=env, profile=profile) as airflow:
        airflow.wait_for_dag(DAG_ID)
        yield airflow


def mapped(airflow: Deployment, run_id: str) -> list[str | None]:
    """The states of the run's mapped spec tasks (none before the gate let them expand)."""
    answer = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
    return [ti.get("state") for ti in answer["task_instances"] if ti["task_id"] == SPEND]


def entries(sandbox: Sandbox, start: int) -> list[dict[str, Any]]:
    """The log since `start`, without the Authorization header (a failed assertion prints it)."""
    return [{k: v for k, v in e.items() if k != "authorization"} for e in sandbox.log[start:]]


def spends(log: list[dict[str, Any]]) -> list[int]:
    return [i for i, entry in enumerate(log) if entry["path"] == "/_sandbox/spend"]


def reads(log: list[dict[str, Any]]) -> list[int]:
    return [i for i, entry in enumerate(log) if entry["path"] == "/credits-balance"]


def trigger_logs(airflow: Deployment, run_id: str) -> str:
    folder = airflow.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={GATE}"
    return "\n".join(p.read_text() for p in sorted(folder.glob("attempt=*.log.trigger.*")))


def test_the_gate_waits_deferred_without_starting_the_batch_until_all_of_it_is_covered(
    batches: Deployment, deploy_sandbox: Sandbox
) -> None:
    airflow = batches
    deploy_sandbox.configure(balance=620, statuses=[])
    start = len(deploy_sandbox.log)
    run_id = airflow.trigger(DAG_ID)
    airflow.wait_for_task(DAG_ID, run_id, GATE, {"deferred"})
    airflow.wait_for_deferral_exit(DAG_ID, run_id, GATE)

    polled, began = deploy_sandbox.requests, time.monotonic()
    wait_until(lambda: deploy_sandbox.requests >= polled + 3, "three polls of the trigger")
    time.sleep(6 * INTERVAL)
    polls, seconds = deploy_sandbox.requests - polled, time.monotonic() - began
    assert polls <= seconds / INTERVAL + 1  # one request per interval, not one per waiter
    assert airflow.task_states(DAG_ID, run_id)[GATE].state == "deferred"
    assert all(state in (None, "scheduled", "none") for state in mapped(airflow, run_id))
    assert spends(entries(deploy_sandbox, start)) == []  # no spec started
    assert SHORT in trigger_logs(airflow, run_id)

    deploy_sandbox.configure(balance=700)  # a top-up
    assert airflow.wait_for_run(DAG_ID, run_id, timeout=300) == "success"
    assert mapped(airflow, run_id) == ["success"] * BATCH
    log = entries(deploy_sandbox, start)
    assert len(spends(log)) == BATCH
    assert max(reads(log)) < min(spends(log))  # the gate passed before anything was spent
    assert deploy_sandbox.state.current_balance() == 100
    print(f"\nneed gate: {polls} polls in {seconds:.1f} s while deferred at 620")


def test_two_runs_with_credits_for_one_batch_never_both_pass_the_gate_before_it_is_spent(
    batches: Deployment, deploy_sandbox: Sandbox
) -> None:
    airflow = batches
    deploy_sandbox.configure(balance=650, statuses=[])  # the floor 50 and one batch of 600
    start = len(deploy_sandbox.log)
    runs = [airflow.trigger(DAG_ID), airflow.trigger(DAG_ID)]

    def done() -> list[str]:
        return [r for r in runs if airflow.run_state(DAG_ID, r) == "success"]

    wait_until(lambda: len(done()) >= 1, "a run to spend its batch", timeout=300)
    first = done()[0]
    [second] = [r for r in runs if r != first]
    time.sleep(2 * INTERVAL)  # unguarded, the second run would be spending by now
    log = entries(deploy_sandbox, start)
    by_first = [i for i in spends(log) if log[i]["by"].startswith(first)]
    assert len(by_first) == len(spends(log)) == BATCH  # only the first run spent
    airflow.wait_for_task(DAG_ID, second, GATE, {"deferred"}, timeout=300)
    airflow.wait_for_deferral_exit(DAG_ID, second, GATE)
    log = entries(deploy_sandbox, start)
    assert len(spends(log)) == BATCH
    # Before the first run's last spend, the balance was read once: its own gate's check.
    # The second run's gate read it only after, and saw 50: it waits.
    assert len([i for i in reads(log) if i < max(by_first)]) == 1
    assert deploy_sandbox.state.current_balance() == 50
    assert mapped(airflow, second) in ([], [None])  # its batch has not started

    deploy_sandbox.configure(balance=650)  # a top-up for the second batch
    assert airflow.wait_for_run(DAG_ID, second, timeout=300) == "success"
    log = entries(deploy_sandbox, start)
    by_second = [i for i in spends(log) if log[i]["by"].startswith(second)]
    assert len(by_second) == BATCH
    assert min(by_second) > max(by_first)
    assert deploy_sandbox.state.current_balance() == 50
