"""Issue 20, class 2: no exception we raise carries server text or the key in its chain.

Standard traceback printers hide a context suppressed with `from None`, but error trackers and
loggers that walk `__cause__` and `__context__` (Sentry, structlog's formatters, some Airflow
task-log paths) print every link. So every error the sync and async clients, the Airflow hook,
operator and sensor raise against these servers is walked link by link: no link below the top
may be a foreign exception (httpx's, h11's, json's, zlib's: their text and attributes hold
what the server sent), and no link may hold the key or any 8-character fragment of it in its
text, its repr or its attributes. The triggers raise nothing (they yield events and log), so
their events and log records are checked instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from predev_integrations.errors import PreDevError

from .conftest import RawServer, assert_no_fragment, authorization, bounded, http_response, replying


def _key_of(request: bytes) -> bytes:
    return authorization(request).removeprefix("Bearer ").encode()


#: Answers that echo the key where a parser will quote it back in its own exception.
ANSWERS: dict[str, Callable[[bytes], bytes]] = {
    "header-line-without-colon": lambda r: b"HTTP/1.1 200 OK\r\n" + _key_of(r) + b"\r\n\r\n",
    "status-line": lambda r: b"HTTP/1.1 " + _key_of(r) + b"\r\n\r\n",
    "content-length": lambda r: b"HTTP/1.1 200 OK\r\nContent-Length: " + _key_of(r) + b"\r\n\r\n",
    "header-name": lambda r: b"HTTP/1.1 200 OK\r\n" + _key_of(r) + b"\x01: x\r\n\r\n",
    "not-json-200": lambda r: http_response(200, b'{"creditsRemaining": ' + _key_of(r)),
    "json-error-field": lambda r: http_response(
        401, json.dumps({"error": _key_of(r).decode()}).encode()
    ),
    "corrupt-gzip": lambda r: http_response(200, _key_of(r), {"Content-Encoding": "gzip"}),
    "short-body": lambda r: http_response(200, _key_of(r), {"Content-Length": "999"}),
    "location": lambda r: http_response(302, b"", {"Location": "https://x/" + _key_of(r).decode()}),
}


def chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and every exception linked from it, each once."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        link = todo.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo += [e for e in (link.__cause__, link.__context__) if e is not None]


def assert_clean_chain(error: BaseException, key: str) -> None:
    for depth, link in enumerate(chain(error)):
        attributes = {k: v for k, v in vars(link).items() if not k.startswith("__")}
        assert_no_fragment(key, str(link), repr(link), repr(link.args), repr(attributes))
        if depth:
            assert isinstance(link, PreDevError), (
                f"{type(error).__name__} carries a {type(link).__module__}."
                f"{type(link).__name__} in its chain: {str(link)[:200]!r}"
            )


def assert_clean_logs(records: list[logging.LogRecord], key: str) -> None:
    """No record's message holds the key or a fragment of it, nor does any logged exception's
    chain: a handler that prints `exc_info` walks the chain as an error tracker does."""
    for record in records:
        assert_no_fragment(key, record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            assert_clean_chain(record.exc_info[1], key)


# --- the entry points ---------------------------------------------------------------------------


def _sync(url: str, key: str) -> None:
    from predev_integrations import CreditsClient, RetryPolicy

    with CreditsClient(key, base_url=url, policy=RetryPolicy(retries=0, timeout=5)) as client:
        client.get_balance()


def _async(url: str, key: str) -> None:
    from predev_integrations import AsyncCreditsClient, RetryPolicy

    async def go() -> None:
        policy = RetryPolicy(retries=0, timeout=5)
        async with AsyncCreditsClient(key, base_url=url, policy=policy) as client:
            await client.get_balance()

    asyncio.run(go())


@pytest.fixture
def airflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, str], None]:
    """`airflow(url, key)` points the connection `predev_default` at `url` with `key`.

    Airflow reads AIRFLOW_HOME when first imported: a private one unless tests/airflow's
    conftest has already set its own.
    """
    if "AIRFLOW_HOME" not in os.environ:
        monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow-home"))
        monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    pytest.importorskip("airflow.sdk", reason="needs the airflow extra")

    def point(url: str, key: str) -> None:
        extra = json.dumps({"timeout": 5})
        conn = {"conn_type": "predev", "host": url, "password": key, "extra": extra}
        monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", json.dumps(conn))

    return point


def _hook(url: str, key: str) -> None:
    from predev_airflow.hooks.predev import PreDevHook

    PreDevHook().get_credits_balance()


def _hook_async(url: str, key: str) -> None:
    from predev_airflow.hooks.predev import PreDevHook

    asyncio.run(PreDevHook().aget_credits_balance())


def _operator(url: str, key: str) -> None:
    from predev_airflow.operators.credits import PreDevCreditsCheckOperator

    PreDevCreditsCheckOperator(task_id="check", min_credits=1).execute({})


def _sensor(url: str, key: str) -> None:
    from predev_airflow.sensors.credits import PreDevCreditsSensor

    result = PreDevCreditsSensor(task_id="gate", min_credits=1).poke({})
    if not result.is_done:
        raise PreDevError("the sensor would wait")  # a transient error, logged: checked below


ENTRIES: dict[str, Callable[[str, str], None]] = {
    "sync": _sync,
    "async": _async,
    "hook": _hook,
    "hook-async": _hook_async,
    "operator": _operator,
    "sensor": _sensor,
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_no_error_carries_server_text_or_the_key_in_its_chain(
    entry: str,
    answer: str,
    hostile_key: str,
    serve: Callable[..., RawServer],
    airflow: Callable[[str, str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = serve(replying(ANSWERS[answer]))
    if entry not in ("sync", "async"):
        airflow(server.url, hostile_key)
    with caplog.at_level(logging.DEBUG):
        raised = bounded(lambda: ENTRIES[entry](server.url, hostile_key), 20)
    assert raised is not None, "a hostile answer was taken for a balance"
    assert_clean_chain(raised, hostile_key)
    assert_clean_logs(caplog.records, hostile_key)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("trigger", ["trigger", "event-trigger"])
def test_the_triggers_events_and_logs_carry_no_key(
    trigger: str,
    answer: str,
    hostile_key: str,
    serve: Callable[..., RawServer],
    airflow: Callable[[str, str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from predev_airflow.triggers.credits import PreDevCreditsTrigger
    from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger

    server = serve(replying(ANSWERS[answer]))
    airflow(server.url, hostile_key)
    run: Any = (
        PreDevCreditsTrigger("predev_default", 1, 0.05)
        if trigger == "trigger"
        else PreDevCreditsEventTrigger(
            predev_conn_id="predev_default", min_credits=1, poke_interval=0.05
        )
    )
    events: list[Any] = []

    async def watch() -> None:
        async for event in run.run():
            events.append(event.payload)

    async def for_a_while() -> None:
        # asyncio.TimeoutError: on Python 3.10, wait_for raises it, and it is not TimeoutError.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(watch(), 1.0)

    with caplog.at_level(logging.DEBUG):
        raised = bounded(lambda: asyncio.run(for_a_while()), 20)
    assert raised is None
    assert_no_fragment(hostile_key, repr(events))
    assert_clean_logs(caplog.records, hostile_key)


@pytest.mark.parametrize("where", ["port", "host"])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_key_pasted_into_the_base_url_is_in_no_error_nor_its_chain(
    entry: str, where: str, hostile_key: str, airflow: Callable[[str, str], None]
) -> None:
    """The base URL is checked after the key is known: its error, and what it was raised
    from (urlsplit's ValueError quotes the port), are redacted of it."""
    url = f"http://127.0.0.1:{hostile_key}" if where == "port" else f"https://{hostile_key}"
    if entry not in ("sync", "async"):
        airflow(url, hostile_key)
    raised = bounded(lambda: ENTRIES[entry](url, hostile_key), 20)
    assert raised is not None
    assert_clean_chain(raised, hostile_key)
