"""The provider in a real deployment: scheduler, LocalExecutor workers, dag-processor and a
real triggerer, each its own process, against the sandbox on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import FINAL_TASK_STATES, Deployment, TaskState, wait_until
from tests.deploy.lines import HAS_LOCAL_EXECUTOR_RACE, triggerers

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

SENSOR_DAG = "predev_deploy_deferrable"
CHECK_DAG = "predev_deploy_check"
BURST_DAG = "predev_deploy_burst"
BURST_RETRIES_DAG = "predev_deploy_burst_retries"
WARM_DAG, PATIENT_DAG = "predev_deploy_warm", "predev_deploy_patient"
BURST = 30
GATE = "wait_for_credits"


def task_logs(
    airflow: Deployment, dag_id: str, run_id: str, task_id: str, pattern: str = "attempt=*"
) -> list[Path]:
    """One task instance's log files: the worker's (`attempt=N.log`) and, with the pattern
    `attempt=*.log.trigger.*`, the ones the triggerer wrote."""
    folder = airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    return sorted(folder.glob(pattern))


@pytest.fixture
def parsed(airflow: Deployment) -> Deployment:
    airflow.wait_for_dag(SENSOR_DAG)
    airflow.wait_for_dag(CHECK_DAG)
    for dag in (BURST_DAG, BURST_RETRIES_DAG, WARM_DAG, PATIENT_DAG):
        airflow.wait_for_dag(dag)
    return airflow


def local_executor_race(airflow: Deployment) -> bool:
    return airflow.profile == "sqlite-local" and HAS_LOCAL_EXECUTOR_RACE


def test_a_burst_of_deferrable_sensors_all_start_defer_and_succeed(
    parsed: Deployment, deploy_sandbox: Sandbox
) -> None:
    """30 deferrable sensors queued at once. Where Airflow 3.0's LocalExecutor race fails a
    task of a burst before it starts (`lines.HAS_LOCAL_EXECUTOR_RACE`), the sensors carry the
    README's workaround, `retries=1`: the retry defers, every gate passes (a try 2 in the
    printed tries is the race, caught)."""
    airflow = parsed
    retries = 1 if local_executor_race(airflow) else 0
    dag = BURST_RETRIES_DAG if retries else BURST_DAG
    deploy_sandbox.configure(balance=10, statuses=[])
    run_id = airflow.trigger(dag)
    gates = [f"gate_{n}" for n in range(BURST)]

    def settled() -> bool:
        states = airflow.task_states(dag, run_id)
        return all(states[g].state in {"deferred", *FINAL_TASK_STATES} for g in gates)

    wait_until(settled, "every gate deferred (or failed)", timeout=300)
    deferred = airflow.task_states(dag, run_id)
    failed = {g: s for g, s in deferred.items() if s.state != "deferred"}
    assert failed == {}, "started and failed, or never started"
    for gate in gates:
        airflow.wait_for_deferral_exit(dag, run_id, gate, deferred[gate].try_number)
    deploy_sandbox.configure(balance=500)
    assert airflow.wait_for_run(dag, run_id, timeout=300) == "success"
    tries = {state.try_number for state in airflow.task_states(dag, run_id).values()}
    print(f"\nburst of {BURST}, retries={retries}: tries {sorted(tries)}")  # for the report
    assert {s.state for s in airflow.task_states(dag, run_id).values()} == {"success"}
    assert tries <= set(range(1, 2 + retries))


@pytest.mark.parametrize("restart_triggerer", [False, True], ids=["steady", "restarted"])
def test_a_deferred_sensor_waits_in_the_triggerer_then_the_dag_runs_on(
    parsed: Deployment, deploy_sandbox: Sandbox, restart_triggerer: bool
) -> None:
    airflow = parsed
    deploy_sandbox.configure(balance=10, statuses=[])
    before = deploy_sandbox.requests
    run_id = airflow.trigger(SENSOR_DAG)

    assert airflow.wait_for_task(SENSOR_DAG, run_id, GATE, {"deferred"}) == TaskState("deferred", 1)
    airflow.wait_for_deferral_exit(SENSOR_DAG, run_id, GATE)
    # The worker's check saw 10; every later request comes from the triggerer's poll.
    wait_until(
        lambda: deploy_sandbox.requests >= before + 3, "the triggerer to poll twice", timeout=120
    )
    if restart_triggerer:  # the trigger is rebuilt from its kwargs and reads the key again
        airflow.restart("triggerer")
        polled = deploy_sandbox.requests
        wait_until(
            lambda: deploy_sandbox.requests > polled, "the new triggerer to poll", timeout=120
        )
    assert airflow.task_states(SENSOR_DAG, run_id)[GATE].state == "deferred"

    deploy_sandbox.configure(balance=500)
    assert airflow.wait_for_run(SENSOR_DAG, run_id) == "success"
    assert airflow.task_states(SENSOR_DAG, run_id) == {
        GATE: TaskState("success", 1),
        "after_gate": TaskState("success", 1),
    }
    xcom = airflow.api(
        "GET",
        f"/api/v2/dags/{SENSOR_DAG}/dagRuns/{run_id}/taskInstances/after_gate"
        "/xcomEntries/return_value",
    )
    assert "ran after the gate with 500 credits" in str(xcom["value"])
    triggered = task_logs(airflow, SENSOR_DAG, run_id, GATE, "attempt=*.log.trigger.*")
    logs = "\n".join(p.read_text() for p in triggered)
    assert "10 pre.dev credits remaining, below the floor of 100; checking again" in logs


@pytest.mark.parametrize(
    ("dag", "gate", "status", "message"),
    [
        pytest.param(SENSOR_DAG, GATE, 401, "HTTP 401 (Unauthorized", id="sensor-worker"),
        pytest.param(
            CHECK_DAG, "check_credits", 401, "HTTP 401 (Unauthorized", id="check-operator"
        ),
    ],
)
def test_a_rejected_key_fails_the_gate_in_the_worker_on_its_first_try(
    parsed: Deployment, deploy_sandbox: Sandbox, dag: str, gate: str, status: int, message: str
) -> None:
    airflow = parsed
    deploy_sandbox.configure(balance=450, statuses=[status])
    before = deploy_sandbox.requests
    run_id = airflow.trigger(dag)
    assert airflow.wait_for_run(dag, run_id) == "failed"
    assert airflow.task_states(dag, run_id) == {
        gate: TaskState("failed", 1),  # retries=2, none used
        "after_gate": TaskState("upstream_failed", 0),
    }
    assert deploy_sandbox.requests - before == 1  # no retry
    logs = "\n".join(p.read_text() for p in task_logs(airflow, dag, run_id, gate))
    assert message in logs  # the one-line reason, in the task's own log


def test_a_rejected_key_fails_the_deferred_sensor_from_the_triggerer_on_its_first_try(
    parsed: Deployment, deploy_sandbox: Sandbox
) -> None:
    airflow = parsed
    deploy_sandbox.configure(balance=10, statuses=[])  # low: the sensor defers
    run_id = airflow.trigger(SENSOR_DAG)
    airflow.wait_for_task(SENSOR_DAG, run_id, GATE, {"deferred"})
    airflow.wait_for_deferral_exit(SENSOR_DAG, run_id, GATE)
    deploy_sandbox.configure(statuses=[400])  # the key is rejected while the triggerer waits
    assert airflow.wait_for_run(SENSOR_DAG, run_id) == "failed"
    assert airflow.task_states(SENSOR_DAG, run_id) == {
        GATE: TaskState("failed", 1),
        "after_gate": TaskState("upstream_failed", 0),
    }
    assert deploy_sandbox.state.statuses == []  # the 400 was served, to the trigger
    logs = "\n".join(p.read_text() for p in task_logs(airflow, SENSOR_DAG, run_id, GATE))
    assert "HTTP 400 (Missing context" in logs  # the trigger's event and the worker's failure


@contextlib.contextmanager
def one_triggerer(airflow: Deployment) -> Iterator[None]:
    """Every trigger in one triggerer process (postgres-celery runs two), for a test of what
    triggers in one process share; the others come back afterwards."""
    others = triggerers(airflow)[1:]
    for name in others:
        airflow.stop_process(name)
    try:
        yield
    finally:
        for name in others:
            airflow.start(name)
            airflow.wait_for_output(name, "Starting the triggerer")


def test_a_deferred_sensor_never_passes_on_a_reading_older_than_its_poke(
    parsed: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    """The triggerer's poll holds 900 from before the credits were spent; the sensor's poke
    reads 20 and defers; its trigger must not pass on the 900 it finds in the poll."""
    airflow = parsed
    with one_triggerer(airflow):
        deploy_sandbox.configure(balance=900, statuses=[])
        warm = airflow.trigger(WARM_DAG)
        airflow.wait_for_task(WARM_DAG, warm, "keep_polling", {"deferred"})
        readings(1)  # the warm trigger's first poll: 900 is in the triggerer's poll now
        deploy_sandbox.configure(balance=20)  # spent, 24 s before the warm one polls again
        before = deploy_sandbox.requests
        run_id = airflow.trigger(PATIENT_DAG)
        airflow.wait_for_task(PATIENT_DAG, run_id, GATE, {"deferred"})
        airflow.wait_for_deferral_exit(PATIENT_DAG, run_id, GATE)
        # Its poke read 20; its trigger asks again rather than take the 900 (the old code
        # passed at once, with no request, on the 900).
        wait_until(lambda: deploy_sandbox.requests >= before + 2, "the trigger's own reading")
        assert airflow.task_states(PATIENT_DAG, run_id)[GATE] == TaskState("deferred", 1)
        made = deploy_sandbox.requests - before
        print(f"\npoke and {made - 1} fresh reading(s) at 20: still deferred")  # for the report
        for dag, run in ((WARM_DAG, warm), (PATIENT_DAG, run_id)):
            airflow.api("PATCH", f"/api/v2/dags/{dag}/dagRuns/{run}", json={"state": "failed"})


def test_the_key_appears_in_no_file_and_no_process_output(
    parsed: Deployment, deploy_sandbox: Sandbox, deploy_key: str
) -> None:
    """Runs last in this module: stops the deployment so every output is complete."""
    airflow = parsed
    assert deploy_sandbox.log[-1]["authorization"] == f"Bearer {deploy_key}"  # it was used
    airflow.stop()
    outputs = airflow.output()
    assert "Starting the triggerer" in outputs  # the outputs were captured
    assert deploy_key not in outputs
    scanned = 0
    for path in [*airflow.home.rglob("*"), *airflow.output_dir.rglob("*")]:
        if path.is_file():
            scanned += 1
            assert deploy_key.encode() not in path.read_bytes(), path
            assert deploy_key not in path.name
    assert scanned > 10  # logs, the DB, airflow.cfg
