"""The faults a production deployment sees, on the `postgres-celery` profile: a triggerer
killed while it holds deferred sensors and watchers, a Celery worker killed during a
reschedule-mode try, a PostgreSQL restart under deferred sensors; and the requests a fleet of
triggers costs across two triggerers. One deployment, tests in file order.

Figures each test prints (`-s`) go into the README's "Running in production" section.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, TaskState, deploy, wait_until
from tests.deploy.lines import (
    HAS_STATE_STORE,
    WATCHER_IN_EVERY_TRIGGERER,
    pollers,
    watcher_copies,
)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

FAULT_DAGS = Path(__file__).parent / "fault_dags"
GENERATE, SENSORS_DAG, RESCHEDULE = (
    "predev_fault_generate",
    "predev_fault_sensors",
    "predev_fault_reschedule",
)
SENSORS = 6
INTERVAL = 2.0  # as in fault_dags/predev_fault_dags.py
LOW, HIGH = 100, 900


@pytest.fixture(scope="module")
def prod(
    tmp_path_factory: pytest.TempPathFactory, deploy_sandbox: Sandbox, deploy_key: str
) -> Iterator[Deployment]:
    from tests.deploy.conftest import missing_for

    if reason := missing_for("postgres-celery"):
        pytest.skip(f"postgres-celery: {reason}")
    deploy_sandbox.configure(balance=LOW, statuses=[], latency=0.0)
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    env = {
        "AIRFLOW_CONN_PREDEV_DEFAULT": conn,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",  # asset-triggered runs need it
    }
    root = tmp_path_factory.mktemp("production")
    with deploy(FAULT_DAGS, root=root, env=env, profile="postgres-celery") as airflow:
        for dag in (GENERATE, SENSORS_DAG, RESCHEDULE):
            airflow.wait_for_dag(dag)
        yield airflow


def holders(airflow: Deployment) -> dict[str, int]:
    """Triggerer job id -> how many triggers it holds ("" for none)."""
    rows = airflow.sql("SELECT coalesce(triggerer_id::text, ''), count(*) FROM trigger GROUP BY 1")
    return {holder: int(count) for holder, count in rows}


def generate_runs(airflow: Deployment) -> int:
    return len(airflow.dag_runs(GENERATE))


def all_deferred(airflow: Deployment, run_id: str) -> bool:
    states = airflow.task_states(SENSORS_DAG, run_id)
    return all(states[f"wait_{n}"].state == "deferred" for n in range(SENSORS))


def defer_every_sensor(airflow: Deployment, run_id: str) -> None:
    """Until every sensor is deferred and the scheduler has seen each worker exit: only then
    may a trigger fire without racing the scheduler (see `wait_for_deferral_exit`)."""
    wait_until(lambda: all_deferred(airflow, run_id), "every sensor deferred")
    for n in range(SENSORS):
        airflow.wait_for_deferral_exit(SENSORS_DAG, run_id, f"wait_{n}")


def test_a_killed_triggerer_hands_its_sensors_and_watchers_to_the_other(
    prod: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    airflow = prod
    # Make one triggerer hold everything: the second is stopped while the sensors defer.
    airflow.stop_process("triggerer-2")
    run_id = airflow.trigger(SENSORS_DAG)
    defer_every_sensor(airflow, run_id)
    triggers = 3 + SENSORS  # 3 watchers
    wait_until(
        lambda: len(h := holders(airflow)) == 1 and "" not in h and sum(h.values()) == triggers,
        "one triggerer holding every trigger",
    )
    [doomed] = holders(airflow)
    readings(2)
    runs_before = generate_runs(airflow)
    airflow.start("triggerer-2")
    airflow.wait_for_output("triggerer-2", "Starting the triggerer")

    airflow.kill("triggerer")  # SIGKILL: no clean-up, its triggers stay assigned to it
    killed = time.monotonic()
    deploy_sandbox.configure(balance=HIGH)  # credits are back while it is dead
    wait_until(lambda: doomed not in holders(airflow), "the triggers to move", timeout=120)
    moved = time.monotonic() - killed
    assert airflow.wait_for_run(SENSORS_DAG, run_id) == "success"
    recovered = time.monotonic() - killed
    states = airflow.task_states(SENSORS_DAG, run_id)
    assert {states[f"wait_{n}"] for n in range(SENSORS)} == {TaskState("success", 1)}
    readings(6)
    runs = generate_runs(airflow) - runs_before
    print(
        f"\nfailover: triggers moved {moved:.1f} s after SIGKILL, sensors done after "
        f"{recovered:.1f} s; runs for the top-up: {runs}"
    )
    if HAS_STATE_STORE:  # the watcher remembers it saw LOW: exactly one run
        assert runs == 1
    elif WATCHER_IN_EVERY_TRIGGERER:
        # 3.0/3.1: triggerer-2 took its own copies as soon as it started, before or after the
        # top-up (a race with the test): one run or none, never two.
        assert runs <= 1
    else:  # 3.2: the new holder's first reading (already HIGH) is the baseline: lost
        assert runs == 0
    airflow.start("triggerer")  # back to two
    airflow.wait_for_output("triggerer", "Starting the triggerer")


def test_a_worker_killed_during_a_reschedule_try_the_task_finishes_on_the_other(
    prod: Deployment, deploy_sandbox: Sandbox
) -> None:
    airflow = prod
    deploy_sandbox.configure(balance=LOW, latency=60.0)  # the poke hangs in its request
    before = deploy_sandbox.requests
    run_id = airflow.trigger(RESCHEDULE)
    wait_until(lambda: deploy_sandbox.requests > before, "the poke to be in flight")
    victim = worker_running(airflow, RESCHEDULE, run_id, "wait_in_worker")
    deploy_sandbox.configure(balance=HIGH, latency=0.0)
    airflow.kill(victim)
    killed = time.monotonic()
    assert airflow.wait_for_run(RESCHEDULE, run_id, timeout=300) == "success"
    ti = airflow.task_states(RESCHEDULE, run_id)["wait_in_worker"]
    print(f"\nworker {victim} killed: task {ti} after {time.monotonic() - killed:.1f} s")
    assert ti == TaskState("success", 2)  # the killed try failed (heartbeat timeout), retried
    airflow.start(victim)
    airflow.wait_for_output(victim, " ready.")


def worker_running(airflow: Deployment, dag_id: str, run_id: str, task_id: str) -> str:
    """The worker whose process group holds a process titled with the task instance's id: the
    supervisor (`airflow supervisor: <id>`, 3.1 on) or the task runner (`airflow worker --
    <id>`; on 3.0 the Celery supervisor keeps the pool's title)."""
    ti = airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    title = str(ti["id"]).encode()

    def find() -> str | None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                group = os.getpgid(int(pid))
            except (OSError, ProcessLookupError):
                continue
            if title not in cmdline:
                continue
            for name in ("worker", "worker-2"):
                proc = airflow.processes.get(name)
                if proc is not None and proc.pid == group:
                    return name
        return None

    deadline = time.monotonic() + 120
    while (name := find()) is None:
        assert time.monotonic() < deadline, f"no worker runs {task_id}"
        time.sleep(0.5)
    return name


def test_a_postgres_restart_under_deferred_sensors_loses_nothing_and_doubles_nothing(
    prod: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    airflow = prod
    deploy_sandbox.configure(balance=LOW, latency=0.0)
    readings(3)
    runs_before = generate_runs(airflow)
    sensor_runs = len(airflow.dag_runs(SENSORS_DAG))
    run_id = airflow.trigger(SENSORS_DAG)
    defer_every_sensor(airflow, run_id)
    # A process caught mid-transaction by the shutdown may exit (Airflow 3.3's triggerer does:
    # PendingRollbackError after AdminShutdown, seen in 1 run of 3); production runs Airflow's
    # processes under a supervisor that starts them again, so this test does too.
    airflow.supervise = True
    try:
        down = airflow.restart_database()
        readings(3)
        deploy_sandbox.configure(balance=HIGH)
        assert airflow.wait_for_run(SENSORS_DAG, run_id, timeout=300) == "success"
        states = airflow.task_states(SENSORS_DAG, run_id)
        assert {states[f"wait_{n}"] for n in range(SENSORS)} == {TaskState("success", 1)}
        readings(6)
    finally:
        airflow.supervise = False
    runs = generate_runs(airflow) - runs_before
    print(
        f"\nPostgreSQL down {down:.1f} s; runs for the top-up after it: {runs}; "
        f"processes restarted by the supervisor: {airflow.restarts or 'none'}"
    )
    assert 1 <= runs <= watcher_copies(prod)  # one per watcher copy at most (3.0, 3.1)
    assert len(airflow.dag_runs(SENSORS_DAG)) == sensor_runs + 1


def test_two_triggerers_cost_at_most_one_request_each_per_interval(
    prod: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    airflow = prod
    deploy_sandbox.configure(balance=LOW)
    run_id = airflow.trigger(SENSORS_DAG)
    defer_every_sensor(airflow, run_id)
    readings(2)
    spread = {h: n for h, n in holders(airflow).items() if h}
    polling = pollers(airflow)
    before, started = deploy_sandbox.requests, time.monotonic()
    time.sleep(12 * INTERVAL)
    made, elapsed = deploy_sandbox.requests - before, time.monotonic() - started
    print(
        f"\n{sum(spread.values())} triggers held by {len(spread)} triggerer(s) "
        f"{sorted(spread.values())}, polled by {polling}, {elapsed:.1f} s at {INTERVAL:g} s: "
        f"{made} requests"
    )
    assert made <= polling * (elapsed / INTERVAL + 1)
    deploy_sandbox.configure(balance=HIGH)
    assert airflow.wait_for_run(SENSORS_DAG, run_id, timeout=300) == "success"


def test_the_key_is_in_no_file_no_output_and_not_in_the_database_dump(
    prod: Deployment, deploy_key: str
) -> None:
    """Runs last. A connection stored in the DB keeps its password Fernet-encrypted."""
    airflow = prod
    body = {"connection_id": "predev_stored", "conn_type": "predev", "password": deploy_key}
    airflow.api("POST", "/api/v2/connections", json=body)
    [(stored, encrypted)] = airflow.sql(
        "SELECT password, is_encrypted::text FROM connection WHERE conn_id = 'predev_stored'"
    )
    assert encrypted == "true"
    assert deploy_key not in stored
    dump = airflow.dump_database()
    assert b"predev_stored" in dump  # the dump holds the connection...
    assert deploy_key.encode() not in dump  # ...never the key
    airflow.stop()
    outputs = airflow.output()
    for name in ("worker", "worker-2", "triggerer-2", "postgres", "broker"):
        assert (airflow.output_dir / f"{name}.log").stat().st_size > 0, name
    assert deploy_key not in outputs
    scanned = 0
    for path in [*airflow.home.rglob("*"), *airflow.output_dir.rglob("*")]:
        if path.is_file():
            scanned += 1
            assert deploy_key.encode() not in path.read_bytes(), path
    print(f"\nleak scan: {scanned} files, {len(outputs)} characters of output, dump {len(dump)} B")
    assert scanned > 10
