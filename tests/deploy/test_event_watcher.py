"""The asset watcher in a real deployment: the scheduler, dag-processor, api-server and triggerer
as separate processes (`dag.test()` does not run asset watchers), against the sandbox.

The tests run in file order on one deployment and one balance history, as a team would see it:
low, topped up, high for a while, a dip, a second top-up, triggerer restarts. Every reading of
every watcher and deferred sensor in the triggerer shares one request per interval, so the
sandbox's request counter is the clock: `readings(n)` waits for n more polls.

On Airflow 3.0 and 3.1 with two triggerers (postgres-celery), each triggerer runs its own copy
of every watcher (`lines.WATCHER_IN_EVERY_TRIGGERER`): a top-up starts one run per copy that
saw it, at most two. The tests pin that bound there, and exactly one run everywhere else.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, deploy, wait_until
from tests.deploy.lines import (
    HAS_STATE_STORE,
    pollers,
    triggerers,
    watcher_copies,
)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

EVENT_DAGS = Path(__file__).parent / "event_dags"
GENERATE = "predev_event_generate"
SENSORS_DAG = "predev_event_sensors"
INTERVAL = 2.0  # as in event_dags/predev_event_dags.py
SENSORS = 4
LOW, HIGH = 100, 900

TOPPED_UP = {
    "balance": HIGH,
    "previous": LOW,
    "floor": 500,
    "fired_by": "floor",
    "predev_conn_id": "predev_default",
}


@pytest.fixture(scope="module")
def watching(
    tmp_path_factory: pytest.TempPathFactory, deploy_sandbox: Sandbox, deploy_key: str, profile: str
) -> Iterator[Deployment]:
    """A deployment of `event_dags/`, its watchers polling the sandbox from a low balance."""
    deploy_sandbox.configure(balance=LOW, statuses=[])
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp(f"event-deployment-{profile}")
    env = {
        "AIRFLOW_CONN_PREDEV_DEFAULT": conn,
        # The harness turns the job schedule off; it also turns off asset-triggered runs.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
    }
    with deploy(EVENT_DAGS, root=root, env=env, profile=profile) as airflow:
        airflow.wait_for_dag(GENERATE)
        airflow.wait_for_dag(SENSORS_DAG)
        yield airflow


def runs(airflow: Deployment) -> list[dict[str, Any]]:
    return sorted(airflow.dag_runs(GENERATE), key=lambda run: str(run.get("run_after")))


def wait_for_runs(airflow: Deployment, count: int) -> list[dict[str, Any]]:
    wait_until(lambda: len(runs(airflow)) >= count, f"{count} run(s) of {GENERATE}")
    found = runs(airflow)
    for run in found:
        assert airflow.wait_for_run(GENERATE, run["dag_run_id"]) == "success"
    return found


def payloads(airflow: Deployment, run_id: str) -> list[Any]:
    """What the watcher's events carried into the run (the asset events' `extra`)."""
    answer = airflow.api("GET", f"/api/v2/dags/{GENERATE}/dagRuns/{run_id}/upstreamAssetEvents")
    return [event["extra"].get("payload") for event in answer["asset_events"]]


def runs_for_a_top_up(
    airflow: Deployment, before: int, readings: Callable[[int], None]
) -> list[dict[str, Any]]:
    """The runs one top-up started, after `before` runs: waits for the first, then 6 more
    readings for any that should not come. Exactly one, or one per watcher copy at most."""
    wait_for_runs(airflow, before + 1)
    readings(6)
    made = runs(airflow)[before:]
    assert 1 <= len(made) <= watcher_copies(airflow), made
    return made


def test_a_low_balance_starts_no_run(watching: Deployment, readings: Callable[[int], None]) -> None:
    readings(5)
    assert runs(watching) == []


def test_each_watcher_runs_in_one_triggerer_from_3_2_and_in_every_triggerer_before(
    watching: Deployment,
) -> None:
    """The root cause of the extra runs on 3.0 and 3.1, pinned: it fails the day a patch
    release changes it, and the README's known issue with it."""
    # No task has deferred yet: every trigger that no task instance refers to is a watcher
    # (the asset-trigger table is `asset_trigger` before 3.2, `asset_watcher` from 3.2).
    watchers = {
        row[0]
        for row in watching.sql(
            "SELECT id FROM trigger WHERE id NOT IN"
            " (SELECT trigger_id FROM task_instance WHERE trigger_id IS NOT NULL)"
        )
    }
    assert len(watchers) == 5  # 1 + 4 idle, as in event_dags/

    def running() -> dict[str, int]:
        return running_copies(watching, watchers)

    wait_until(lambda: min(running().values()) >= 1, "every watcher running")
    samples = []
    for _ in range(7):
        samples.append(running())
        time.sleep(1)
    # On any line a watcher moves when its triggerer's heartbeat lags past the threshold (8 s
    # here; seen at start-up on a loaded machine): a second of overlap, or of none. The copies
    # before 3.2 run side by side all along: count what holds in most samples.
    usual = {w: Counter(sample[w] for sample in samples).most_common(1)[0][0] for w in watchers}
    print(f"\nwatcher copies running, per watcher: {usual}; samples {samples}")  # for the report
    assert usual == dict.fromkeys(watchers, watcher_copies(watching))


#: A triggerer's log lines that start and end an asset watcher (a task trigger's name is
#: "<dag>/<run>/<task>/... (ID n)", so neither pattern matches it).
WATCHER_EVENT = re.compile(r"trigger ID (\d+) starting|trigger completed.*?name='ID (\d+)'")


def running_copies(airflow: Deployment, watchers: set[str]) -> dict[str, int]:
    """Per watcher, in how many triggerers it runs now: the triggerers whose log last says
    it started, not that it completed."""
    copies = dict.fromkeys(watchers, 0)
    for name in triggerers(airflow):
        last: dict[str, bool] = {}
        for started, stopped in WATCHER_EVENT.findall(airflow.output(name)):
            last[started or stopped] = bool(started)
        for watcher in watchers:
            copies[watcher] += last.get(watcher, False)
    return copies


def test_one_top_up_starts_exactly_one_run_and_staying_high_no_more(
    watching: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    deploy_sandbox.configure(balance=HIGH)
    made = runs_for_a_top_up(watching, 0, readings)
    print(f"\nruns for the first top-up: {len(made)}")  # for the report
    for run in made:  # a run may carry both copies' events: each says the same
        carried = payloads(watching, run["dag_run_id"])
        assert carried
        assert all(payload == TOPPED_UP for payload in carried), carried


def test_a_second_dip_and_top_up_starts_one_more(
    watching: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    before = len(runs(watching))
    deploy_sandbox.configure(balance=LOW)
    readings(3)
    assert len(runs(watching)) == before
    deploy_sandbox.configure(balance=HIGH)
    made = runs_for_a_top_up(watching, before, readings)
    print(f"\nruns for the second top-up: {len(made)}")


def test_restarting_the_triggerer_while_high_starts_none(
    watching: Deployment, readings: Callable[[int], None]
) -> None:
    before = len(runs(watching))
    for name in triggerers(watching):
        watching.restart(name)
    readings(6)
    assert len(runs(watching)) == before


def test_a_top_up_while_the_triggerer_is_down_starts_one_run_where_the_state_is_stored(
    watching: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    before = len(runs(watching))
    deploy_sandbox.configure(balance=LOW)
    readings(3)
    for name in triggerers(watching):
        watching.stop_process(name)
    deploy_sandbox.configure(balance=HIGH)
    for name in triggerers(watching):
        watching.restart(name)
    if HAS_STATE_STORE:  # every copy remembers LOW
        runs_for_a_top_up(watching, before, readings)
    else:  # before 3.3 the first reading (already HIGH) is the baseline: the top-up is lost
        readings(6)
        assert len(runs(watching)) == before


def test_watchers_and_deferred_sensors_share_one_request_per_interval(
    watching: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    run_id = watching.trigger(SENSORS_DAG)
    for n in range(SENSORS):
        watching.wait_for_task(SENSORS_DAG, run_id, f"wait_{n}", {"deferred"})
    readings(2)  # every sensor's trigger has joined the poll
    before, started = deploy_sandbox.requests, time.monotonic()
    time.sleep(12 * INTERVAL)
    made, elapsed = deploy_sandbox.requests - before, time.monotonic() - started
    # 5 watchers (1 + 4 idle) and 4 deferred sensors: 9 triggers on one connection, shared
    # per triggerer process (postgres-celery runs two; each polls for the triggers it holds).
    polling = pollers(watching)
    print(  # for the report
        f"\n9 triggers on {polling} triggerer(s), {elapsed:.1f} s at {INTERVAL:g} s: "
        f"{made} requests"
    )
    assert elapsed / INTERVAL / 2 <= made <= polling * (elapsed / INTERVAL + 1) + 1


def test_the_key_is_nowhere_and_each_event_is_logged_once(
    watching: Deployment, deploy_key: str
) -> None:
    """Runs last: stops the deployment so every output is complete."""
    [(events,)] = watching.sql("SELECT count(*) FROM asset_event")
    watching.stop()
    outputs = watching.output()
    assert deploy_key not in outputs
    for path in [*watching.home.rglob("*"), *watching.output_dir.rglob("*")]:
        if path.is_file():
            assert deploy_key.encode() not in path.read_bytes(), path
    if watcher_copies(watching) == 1:  # one per top-up seen: the two before 3.3 lost none
        assert int(events) == (3 if HAS_STATE_STORE else 2)
    logged = "".join(watching.output(name) for name in triggerers(watching))
    assert logged.count("pre.dev credits are back on") == int(events)
