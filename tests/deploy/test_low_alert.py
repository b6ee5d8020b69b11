"""The low-credit alert in a real deployment, mailing a real SMTP server on loopback: the
scheduler, dag-processor, api-server and triggerer as separate processes (`dag.test()` does
not run asset watchers), against the sandbox, the alert sent by Airflow's `SmtpNotifier`.

The tests run in file order on one deployment and one balance history, as a team would see it:
healthy, a fall below 200, low for a while, hovering at 200, a recovery and a second fall,
triggerer restarts. Every trigger in the triggerer shares one request per interval, so the
sandbox's request counter is the clock: `readings(n)` waits for n more polls. Each test prints
its mail count, for the closing note's figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from packaging.version import Version

from predev_integrations._core.defaults import TOP_UP_URL
from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, deploy, wait_until
from tests.deploy.smtp import MailServer

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

LOW_DAGS = Path(__file__).parent / "low_dags"
ALERT = "predev_low_alert"
SENSORS_DAG = "predev_low_sensors"
INTERVAL = 2.0  # as in low_dags/predev_low_dags.py
SENSORS = 4
HIGH, LOW = 500, 150


def airflow_line() -> Version:
    from airflow import __version__

    return Version(__version__)


#: Airflow 3.3 added the asset state store the watcher keeps its arming state in.
HAS_STATE_STORE = airflow_line() >= Version("3.3")


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def alerting(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_sandbox: Sandbox,
    deploy_key: str,
    mail: MailServer,
) -> Iterator[Deployment]:
    """A deployment of `low_dags/`, its watchers polling the sandbox from a healthy balance."""
    deploy_sandbox.configure(balance=HIGH, statuses=[])
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp("low-deployment")
    env = {
        "AIRFLOW_CONN_PREDEV_DEFAULT": conn,
        "AIRFLOW_CONN_SMTP_DEFAULT": mail.connection(),
        # The harness turns the job schedule off; it also turns off asset-triggered runs.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
    }
    with deploy(LOW_DAGS, root=root, env=env) as airflow:
        airflow.wait_for_dag(ALERT)
        airflow.wait_for_dag(SENSORS_DAG)
        yield airflow


@pytest.fixture
def readings(deploy_sandbox: Sandbox) -> Callable[[int], None]:
    """`readings(n)`: wait until the triggerer has polled n more times."""

    def wait(n: int) -> None:
        target = deploy_sandbox.requests + n
        wait_until(lambda: deploy_sandbox.requests >= target, f"{n} more readings")

    return wait


def mails_after(alerting: Deployment, mail: MailServer, count: int) -> int:
    """Wait for `count` mails and as many successful runs; then the number of mails."""
    wait_until(lambda: len(mail.mails) >= count, f"{count} mail(s)")
    for run in alerting.dag_runs(ALERT):
        assert alerting.wait_for_run(ALERT, run["dag_run_id"]) == "success"
    return len(mail.mails)


def report(scenario: str, mail: MailServer) -> None:
    print(f"\n{scenario}: {len(mail.mails)} mail(s) in all")  # for the closing note


def test_a_healthy_balance_sends_nothing(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> None:
    readings(5)
    report("healthy, 5 readings", mail)
    assert mail.mails == []
    assert alerting.dag_runs(ALERT) == []


def test_a_fall_below_the_threshold_sends_exactly_one_mail(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    deploy_sandbox.configure(balance=LOW)
    assert mails_after(alerting, mail, 1) == 1
    [alert] = mail.mails
    assert alert.recipients == ("platform-team@example.com",)
    assert alert.subject == "pre.dev credits low on predev_default: 150 left (threshold 200)"
    assert "150 credits left, below the alert threshold of 200" in alert.text
    assert "Runway: unknown" in alert.text  # seconds of readings tell no rate
    assert TOP_UP_URL in alert.text
    report("fall to 150", mail)


def test_staying_low_for_several_intervals_sends_no_more(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> None:
    readings(8)
    report("low for 8 more readings", mail)
    assert len(mail.mails) == 1
    assert len(alerting.dag_runs(ALERT)) == 1


def test_hovering_at_the_threshold_sends_no_more(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    for balance in (205, 195, 210, 190, 215, 199):  # inside the band: never back at 220
        deploy_sandbox.configure(balance=balance)
        readings(2)
    readings(3)
    report("hovering 190-215", mail)
    assert len(mail.mails) == 1


def test_a_recovery_then_a_second_fall_sends_a_second_mail(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    deploy_sandbox.configure(balance=400)
    readings(3)
    assert len(mail.mails) == 1
    deploy_sandbox.configure(balance=100)
    assert mails_after(alerting, mail, 2) == 2
    assert "100 credits left" in mail.mails[-1].text
    report("recovery to 400, fall to 100", mail)


def test_restarting_the_triggerer_while_low_sends_no_mail(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> None:
    alerting.restart("triggerer")
    readings(8)
    report("triggerer restart while low", mail)
    assert len(mail.mails) == 2


def test_a_fall_while_the_triggerer_is_down_mails_where_the_state_is_stored(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    deploy_sandbox.configure(balance=HIGH)
    readings(3)  # re-armed (and, on 3.3+, stored)
    alerting.stop_process("triggerer")
    deploy_sandbox.configure(balance=LOW)
    alerting.restart("triggerer")
    readings(8)
    expected = 3 if HAS_STATE_STORE else 2  # before 3.3 the first reading is a baseline
    if HAS_STATE_STORE:
        mails_after(alerting, mail, 3)
    report("fall while the triggerer is down", mail)
    assert len(mail.mails) == expected


def test_both_watchers_and_deferred_sensors_share_one_request_per_interval(
    alerting: Deployment, deploy_sandbox: Sandbox, readings: Callable[[int], None]
) -> None:
    run_id = alerting.trigger(SENSORS_DAG)
    for n in range(SENSORS):
        alerting.wait_for_task(SENSORS_DAG, run_id, f"wait_{n}", {"deferred"})
    readings(2)  # every sensor's trigger has joined the poll
    before, started = deploy_sandbox.requests, time.monotonic()
    time.sleep(12 * INTERVAL)
    made, elapsed = deploy_sandbox.requests - before, time.monotonic() - started
    # 1 low-credit watcher, 2 "credits are back" watchers, 4 deferred sensors: 7 triggers.
    print(f"\n7 triggers, {elapsed:.1f} s at {INTERVAL:g} s: {made} requests")  # for the report
    assert elapsed / INTERVAL / 2 <= made <= elapsed / INTERVAL + 2


def test_the_key_is_in_no_mail_file_or_output_and_each_alert_is_logged_once(
    alerting: Deployment, mail: MailServer, deploy_key: str
) -> None:
    """Runs last: stops the deployment so every output is complete."""
    alerting.stop()
    assert deploy_key not in alerting.output()
    for path in [*alerting.home.rglob("*"), *alerting.output_dir.rglob("*")]:
        if path.is_file():
            assert deploy_key.encode() not in path.read_bytes(), path
    for sent in mail.mails:
        assert deploy_key.encode() not in sent.raw
    alerts = 3 if HAS_STATE_STORE else 2
    assert alerting.output("triggerer").count("pre.dev credits are low on") == alerts
    assert len(mail.mails) == alerts
