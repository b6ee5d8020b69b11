"""`PreDevCreditsTrigger` in an event loop, as the triggerer runs it."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from predev_airflow.triggers.credits import PreDevCreditsTrigger
from predev_integrations.sandbox import Sandbox

from .conftest import until


async def first_event(trigger: PreDevCreditsTrigger, delay: float = 0.0) -> dict[str, Any]:
    await asyncio.sleep(delay)
    async for event in trigger.run():
        payload: dict[str, Any] = event.payload
        return payload
    raise AssertionError("the trigger ended without an event")


def test_serialize_carries_the_connection_id_floor_and_interval_never_the_key(
    predev_conn: str, api_key: str
) -> None:
    trigger = PreDevCreditsTrigger(predev_conn, 100, 30, warn_below=200)
    classpath, kwargs = trigger.serialize()
    assert classpath == "predev_airflow.triggers.credits.PreDevCreditsTrigger"
    assert kwargs == {
        "predev_conn_id": "predev_default",
        "min_credits": 100,
        "poke_interval": 30.0,
        "warn_below": 200,
    }
    assert PreDevCreditsTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert api_key not in repr(trigger)
    assert api_key not in repr(vars(trigger))


async def test_200_triggers_on_one_connection_share_the_poll(
    predev_conn: str, sandbox: Sandbox, api_key: str, hooks_read: list[int]
) -> None:
    interval = 0.5
    sandbox.configure(balance=10)
    triggers = [PreDevCreditsTrigger(predev_conn, 100, interval) for _ in range(200)]
    loop = asyncio.get_running_loop()
    # Deferred at different moments within one interval, as real sensors are: each one's
    # first reading comes from a request started after it did (never an older answer)...
    waiting = asyncio.gather(*(first_event(t, random.uniform(0, interval)) for t in triggers))
    await until(lambda: len(set(hooks_read)) == 200)  # each trigger has its own hook
    joined, since = sandbox.requests, loop.time()
    await until(lambda: sandbox.requests >= joined + 2)  # it polls while the balance is low
    sandbox.configure(balance=500)
    events = await waiting
    ended = loop.time()
    assert events == [{"status": "success", "balance": 500, "verdict": "ok"}] * 200
    assert joined <= 200 + 1
    # ... and once all wait, requests start more than an interval apart: 1 per interval.
    assert sandbox.requests - joined <= (ended - since) / interval + 1
    assert all(entry["authorization"] == f"Bearer {api_key}" for entry in sandbox.log)


@pytest.mark.parametrize(("status", "error"), [(400, "Missing context"), (401, "Unauthorized")])
async def test_a_rejected_key_fails_every_trigger_at_once_with_one_request(
    predev_conn: str, sandbox: Sandbox, status: int, error: str
) -> None:
    sandbox.configure(statuses=[status])
    triggers = [PreDevCreditsTrigger(predev_conn, 100, 60) for _ in range(50)]
    events = await asyncio.wait_for(asyncio.gather(*map(first_event, triggers)), timeout=30)
    assert {event["status"] for event in events} == {"failed"}
    assert f"HTTP {status} ({error}" in events[0]["message"]
    assert sandbox.requests == 1


async def test_a_transient_error_is_logged_and_the_wait_goes_on(
    predev_conn: str,
    sandbox: Sandbox,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox.configure(statuses=[500, 500, 500])  # one read's worth: 1 try + 2 retries
    event = await first_event(PreDevCreditsTrigger(predev_conn, 100, 0.2))
    assert event["status"] == "success"
    assert sandbox.requests == 4
    # Airflow routes it through structlog (stdout), stdlib logging, or both (3.0): once in each.
    line = "Could not read the pre.dev balance (HTTP 500"
    out = capfd.readouterr().out
    assert out.count(line) + caplog.text.count(line) >= 1
    assert out.count(line) <= 1
    assert caplog.text.count(line) <= 1


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (None, "'predev_default' is not defined"),
        ('{"conn_type": "predev", "host": "http://127.0.0.1:9"}', "has no API key"),
        (
            '{"conn_type": "predev", "host": "http://example.com", "password": "k"}',
            "Refusing plain http:// to example.com",
        ),
    ],
)
async def test_a_broken_connection_fails_at_once(
    monkeypatch: pytest.MonkeyPatch, conn: str | None, message: str
) -> None:
    if conn is None:
        monkeypatch.delenv("AIRFLOW_CONN_PREDEV_DEFAULT", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", conn)
    event = await first_event(PreDevCreditsTrigger("predev_default", 100, 60))
    assert event["status"] == "failed"
    assert message in event["message"]


@pytest.mark.parametrize("trigger", ["sensor", "watcher"])
async def test_a_trigger_never_decides_on_an_answer_older_than_the_reading_that_made_it_wait(
    predev_conn: str, sandbox: Sandbox, trigger: str
) -> None:
    """DAG A's trigger cached 500; A spent it; B's poke read 20 and deferred: B waits."""
    from predev_airflow.hooks.predev import PreDevHook
    from predev_airflow.triggers._watch import readings

    assert await PreDevHook(predev_conn).aget_credits_balance(max_age=60) == 450
    sandbox.configure(balance=20)  # spent; the poke of the sensor that defers reads this
    if trigger == "sensor":
        sandbox.configure(schedule=[(0.5, 700)])  # then topped up
        event = await first_event(PreDevCreditsTrigger(predev_conn, 100, 0.2))
        assert event == {"status": "success", "balance": 700, "verdict": "ok"}
    else:
        _, first, _ = await anext(readings(predev_conn, 60))
        assert first == 20
    assert sandbox.requests >= 2
