"""The low-credit alert in a real deployment, mailing a real SMTP server on loopback: the
scheduler, dag-processor, api-server and triggerer as separate processes (`dag.test()` does
not run asset watchers), against the sandbox, the alert sent by Airflow's `SmtpNotifier`.

The tests run in file order on one deployment and one balance history, as a team would see it:
healthy, a fall below 200, low for a while, hovering at 200, a recovery and a second fall,
triggerer restarts. Every trigger in the triggerer shares one request per interval, so the
sandbox's request counter is the clock: `readings(n)` waits for n more polls. Each test prints
its mail count, for the closing note's figures.

On Airflow 3.0 and 3.1 with two triggerers (postgres-celery), each triggerer runs its own copy
of the watcher (`lines.WATCHER_IN_EVERY_TRIGGERER`): a fall sends one mail per copy that saw
it, at most two. The tests pin that bound there, and exactly one mail everywhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from predev_integrations._core.defaults import TOP_UP_URL
from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, deploy, wait_until
from tests.deploy.lines import (
    HAS_STATE_STORE,
    pollers,
    triggerers,
    watcher_copies,
)
from tests.deploy.smtp import MailServer

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

LOW_DAGS = Path(__file__).parent / "low_dags"
ALERT = "predev_low_alert"
SENSORS_DAG = "predev_low_sensors"
INTERVAL = 2.0  # as in low_dags/predev_low_dags.py
SENSORS = 4
HIGH, LOW = 500, 150


@pytest.fixture(scope="module")
def mail(profile: str) -> Iterator[MailServer]:
    """One SMTP server per deployment: each profile counts its own mails."""
    with MailServer() as server:
        yield server


@pytest.fixture(scope="module")
def alerting(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_sandbox: Sandbox,
    deploy_key: str,
    mail: MailServer,
    profile: str,
) -> Iterator[Deployment]:
    """A deployment of `low_dags/`, its watchers polling the sandbox from a healthy balance."""
    deploy_sandbox.configure(balance=HIGH, statuses=[])
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp(f"low-deployment-{profile}")
    env = {
        "AIRFLOW_CONN_PREDEV_DEFAULT": conn,
        "AIRFLOW_CONN_SMTP_DEFAULT": mail.connection(),
        # The harness turns the job schedule off; it also turns off asset-triggered runs.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
    }
    with deploy(LOW_DAGS, root=root, env=env, profile=profile) as airflow:
        airflow.wait_for_dag(ALERT)
        airflow.wait_for_dag(SENSORS_DAG)
        yield airflow


def mails_for_a_fall(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> list[Any]:
    """The mails one fall sent: waits for the first, then 6 more readings for any that should
    not come, and for every run to succeed. Exactly one, or one per watcher copy at most."""
    before = len(mail.mails)
    wait_until(lambda: len(mail.mails) > before, "a mail")
    readings(6)
    for run in alerting.dag_runs(ALERT):
        assert alerting.wait_for_run(ALERT, run["dag_run_id"]) == "success"
    sent = mail.mails[before:]
    assert 1 <= len(sent) <= watcher_copies(alerting), [m.subject for m in sent]
    return sent


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
    for alert in mails_for_a_fall(alerting, mail, readings):
        assert alert.recipients == ("platform-team@example.com",)
        assert alert.subject == "pre.dev credits low on predev_default: 150 left (threshold 200)"
        assert "150 credits left, below the alert threshold of 200" in alert.text
        assert "Runway: unknown" in alert.text  # seconds of readings tell no rate
        assert TOP_UP_URL in alert.text
    report("fall to 150", mail)


def test_staying_low_for_several_intervals_sends_no_more(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> None:
    before = len(mail.mails)
    readings(8)
    report("low for 8 more readings", mail)
    assert len(mail.mails) == before
    assert len(alerting.dag_runs(ALERT)) == before  # one mail per run


def test_hovering_at_the_threshold_sends_no_more(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    before = len(mail.mails)
    for balance in (205, 195, 210, 190, 215, 199):  # inside the band: never back at 220
        deploy_sandbox.configure(balance=balance)
        readings(2)
    readings(3)
    report("hovering 190-215", mail)
    assert len(mail.mails) == before


def test_a_recovery_then_a_second_fall_sends_a_second_mail(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    before = len(mail.mails)
    deploy_sandbox.configure(balance=400)
    readings(3)
    assert len(mail.mails) == before
    deploy_sandbox.configure(balance=100)
    for alert in mails_for_a_fall(alerting, mail, readings):
        assert "100 credits left" in alert.text
    report("recovery to 400, fall to 100", mail)


def test_restarting_the_triggerer_while_low_repeats_at_most_one_mail(
    alerting: Deployment, mail: MailServer, readings: Callable[[int], None]
) -> None:
    """With the state stored (3.3+), none. Without (3.0-3.2) a start is first sight, armed:
    the watcher cannot tell a restart while low from a deployment started while low, and
    erring towards one alert too many (issue 25) repeats the one mail, never more."""
    before = len(mail.mails)
    for name in triggerers(alerting):
        alerting.restart(name)
    if HAS_STATE_STORE:
        readings(8)
        assert len(mail.mails) == before
    else:
        mails_for_a_fall(alerting, mail, readings)
    report("triggerer restart while low", mail)


def test_a_fall_while_the_triggerer_is_down_mails_where_the_state_is_stored(
    alerting: Deployment,
    mail: MailServer,
    deploy_sandbox: Sandbox,
    readings: Callable[[int], None],
) -> None:
    before = len(mail.mails)
    deploy_sandbox.configure(balance=HIGH)
    readings(3)  # re-armed (and, on 3.3+, stored)
    for name in triggerers(alerting):
        alerting.stop_process(name)
    deploy_sandbox.configure(balance=LOW)
    for name in triggerers(alerting):
        alerting.restart(name)
    # Mailed on every line: a stored state remembers it was armed (3.3+); without one, a
    # start is first sight, armed.
    mails_for_a_fall(alerting, mail, readings)
    assert len(mail.mails) > before
    report("fall while the triggerer is down", mail)


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
    polling = pollers(alerting)
    # 1 low-credit watcher, 2 "credits are back" watchers, 4 deferred sensors: 7 triggers.
    print(  # for the report
        f"\n7 triggers on {polling} triggerer(s), {elapsed:.1f} s at {INTERVAL:g} s: "
        f"{made} requests"
    )
    assert elapsed / INTERVAL / 2 <= made <= polling * (elapsed / INTERVAL + 1) + 1


def test_the_key_is_in_no_mail_file_or_output_and_each_alert_is_logged_once(
    alerting: Deployment, mail: MailServer, deploy_key: str
) -> None:
    """Runs last: stops the deployment so every output is complete."""
    [(events,)] = alerting.sql(
        "SELECT count(*) FROM asset_event JOIN asset ON asset.id = asset_event.asset_id"
        " WHERE asset.name = 'predev_low_credits'"
    )
    runs = len(alerting.dag_runs(ALERT))
    alerting.stop()
    assert deploy_key not in alerting.output()
    for path in [*alerting.home.rglob("*"), *alerting.output_dir.rglob("*")]:
        if path.is_file():
            assert deploy_key.encode() not in path.read_bytes(), path
    for sent in mail.mails:
        assert deploy_key.encode() not in sent.raw
    logged = "".join(alerting.output(name) for name in triggerers(alerting))
    assert logged.count("pre.dev credits are low on") == int(events)  # one line per event
    assert len(mail.mails) == runs  # one mail per run
    if watcher_copies(alerting) == 1:  # one per fall, plus before 3.3 the restart's repeat
        assert int(events) == runs == (3 if HAS_STATE_STORE else 4)
