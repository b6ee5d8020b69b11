"""Airflow test harness: a private AIRFLOW_HOME on SQLite, set up before Airflow is imported.

This file is imported before any test module here, so the environment below is in place when
`airflow` is first imported; `airflow db migrate` then runs once per run (the xdist workers
copy its result). DAGs run with `dag.test()` in this process, against the sandbox on loopback.
At the end: the fake asset state stores and event-loop helpers that the watcher tests (event
and low triggers) share.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from predev_integrations.sandbox import Sandbox

if TYPE_CHECKING:  # imported for real only below, once AIRFLOW_HOME is set
    from airflow.triggers.base import BaseTrigger

HERE = Path(__file__).parent
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="predev-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    AIRFLOW_HOME=str(AIRFLOW_HOME),
    AIRFLOW__CORE__DAGS_FOLDER=str(HERE / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__UNIT_TEST_MODE="False",
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(AIRFLOW_HOME / "logs"),
    NO_PROXY="127.0.0.1,localhost,::1",
)
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_"):
        del os.environ[name]

pytest.importorskip("airflow.sdk", reason="needs the airflow extra")


def conn_json(url: str, key: str) -> str:
    """A connection in the JSON form of `AIRFLOW_CONN_<ID>`."""
    return json.dumps({"conn_type": "predev", "host": url, "password": key})


def _migrate(home: Path) -> None:
    """`airflow db migrate` into `home`: its metadata DB and the airflow.cfg it writes."""
    db = f"sqlite:///{home / 'airflow.db'}"
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        },
        check=True,
        capture_output=True,
        timeout=300,
    )


def _copy_home(template: Path, home: Path) -> None:
    """What `airflow db migrate` left in `template`, as if it had run in `home`: the DB file
    as is, the text files (airflow.cfg) with the template's path made `home`'s."""
    for source in template.iterdir():
        if not source.is_file():
            continue  # logs/: this home has its own
        target = home / source.name
        if source.suffix == ".db":
            shutil.copyfile(source, target)  # in place, where the migration would have written
        else:
            text = source.read_text(encoding="utf-8")
            target.write_text(text.replace(str(template), str(home)), encoding="utf-8")
        target.chmod(source.stat().st_mode & 0o777)


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite metadata DB, migrated once per run.

    Under pytest-xdist every worker has its own AIRFLOW_HOME, and `airflow db migrate` costs
    5-30 s of a loaded machine. The first worker to take the lock migrates a template home in
    the run's temp root (one per run: never a DB of another Airflow); each worker copies it.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        _migrate(AIRFLOW_HOME)
        return AIRFLOW_HOME
    import fcntl

    root = tmp_path_factory.getbasetemp().parent  # one per run, shared by its workers
    template = root / "airflow-home"
    with open(root / "airflow-home.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "airflow-home.migrated").exists():
            shutil.rmtree(template, ignore_errors=True)  # a worker whose migration failed
            template.mkdir()
            _migrate(template)
            (root / "airflow-home.migrated").touch()
    _copy_home(template, AIRFLOW_HOME)
    return AIRFLOW_HOME


@pytest.fixture
def predev_conn(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, api_key: str) -> str:
    """`predev_default` pointing at the sandbox with the test's random key."""
    monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", conn_json(sandbox.url, api_key))
    return "predev_default"


@pytest.fixture
def rise(sandbox: Sandbox) -> Callable[[float, float], None]:
    """`rise(seconds, balance)`: the sandbox's balance changes `seconds` after its first
    request, so the gate has seen it low however long Airflow took to start the task."""

    def arm(seconds: float, balance: float) -> None:
        def watch() -> None:
            deadline = time.monotonic() + 120
            while sandbox.requests == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            sandbox.configure(schedule=[(seconds, balance)])

        threading.Thread(target=watch, daemon=True).start()

    return arm


@dataclass
class DagResult:
    state: str
    tasks: dict[str, tuple[str, int]]  # task_id -> (state, try_number)
    xcom: dict[str, Any]  # task_id -> return value
    output: str  # everything the run printed: Airflow's and the tasks' logs
    seconds: float


def _load_test_dags() -> ModuleType:
    path = HERE / "dags" / "predev_test_dags.py"
    spec = importlib.util.spec_from_file_location("predev_test_dags", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def test_dags(airflow_db: Path) -> dict[str, Any]:
    """The test DAGs by dag_id."""
    from airflow.sdk import DAG

    module = _load_test_dags()
    return {dag.dag_id: dag for dag in vars(module).values() if isinstance(dag, DAG)}


@pytest.fixture
def run_dag(
    test_dags: dict[str, Any],
    predev_conn: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> Callable[[str], DagResult]:
    """Run one of `dags/predev_test_dags.py`'s DAGs with `dag.test()`."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    def run(name: str) -> DagResult:
        dag = test_dags[name]
        capfd.readouterr()
        caplog.clear()
        caplog.set_level(logging.INFO)
        started = time.monotonic()
        dagrun = dag.test()
        seconds = time.monotonic() - started
        out, err = capfd.readouterr()
        with create_session() as session:
            tis = dagrun.get_task_instances(session=session)
            tasks = {ti.task_id: (str(ti.state), ti.try_number) for ti in tis}
            rows: Sequence[Any] = session.scalars(
                XComModel.get_many(run_id=dagrun.run_id, dag_ids=dag.dag_id, key="return_value")
            ).all()
            xcom = {row.task_id: XComModel.deserialize_value(row) for row in rows if row}
        output = "\n".join((out, err, caplog.text))  # task logs, stdlib logs (the trigger's)
        return DagResult(str(dagrun.state), tasks, xcom, output, seconds)

    return run


# --- asset watchers in an event loop (test_event_trigger.py, test_low_trigger.py) --------------

FAST = 0.02  # seconds between readings where the test drives the balance per request


class FakeStore:
    """Airflow 3.3's asset state store for one asset, kept as JSON like the real one."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.writes = 0

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = json.loads(json.dumps(value))
        self.writes += 1


class BrokenStore(FakeStore):
    """What a trigger watched by two assets gets: every call refuses."""

    async def aget(self, key: str, default: Any = None) -> Any:
        raise ValueError("Task has 2 concrete inlets and outlets")

    async def aset(self, key: str, value: Any) -> None:
        raise ValueError("Task has 2 concrete inlets and outlets")


#: How long a test waits for something that happens within a second on an idle machine: a
#: hang guard, never a claim (tests wait for what happened, never for a time to pass).
PATIENCE = 60.0


async def until(done: Callable[[], bool], timeout: float = PATIENCE) -> None:
    """Wait until `done()`, however slowly a loaded machine gets there."""

    async def wait() -> None:
        while not done():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


async def events_until(
    trigger: BaseTrigger,
    done: Callable[[], bool],
    timeout: float = PATIENCE,
    events: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run the trigger until `done()`, then cancel it as the triggerer would. The events go
    to `events` (a new list unless given, so `done` may look at them) and are returned."""
    events = [] if events is None else events

    async def consume() -> None:
        async for event in trigger.run():
            events.append(event.payload)

    task = asyncio.create_task(consume())

    def finished() -> bool:
        if task.done():
            task.result()  # an ended or crashed watch is a failure here
            raise AssertionError("the watch ended")
        return done()

    try:
        await until(finished, timeout)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return events


@pytest.fixture
def balances(
    monkeypatch: pytest.MonkeyPatch, httpx_mock: HTTPXMock, api_key: str
) -> Callable[[Sequence[float]], list[float]]:
    """`balances([..])` serves one balance per request (then the last again) on
    `predev_default`; returns the list of balances served so far."""
    url = "https://api.pre.dev"
    monkeypatch.setenv("AIRFLOW_CONN_PREDEV_DEFAULT", conn_json(url, api_key))

    def serve(sequence: Sequence[float]) -> list[float]:
        served: list[float] = []

        def answer(request: httpx.Request) -> httpx.Response:
            assert request.headers["authorization"] == f"Bearer {api_key}"
            served.append(sequence[min(len(served), len(sequence) - 1)])
            return httpx.Response(200, json={"success": True, "creditsRemaining": served[-1]})

        httpx_mock.add_callback(answer, is_reusable=True)
        return served

    return serve


def seen(served: list[float], count: int) -> Callable[[], bool]:
    return lambda: len(served) >= count


def fired(events: list[dict[str, Any]]) -> list[tuple[float, str]]:
    return [(event["balance"], event["fired_by"]) for event in events]


async def drive(stream: AsyncIterator[Any], into: list[Any]) -> None:
    async for event in stream:
        into.append(event)


@dataclass
class Together:
    """What `run_together` saw; the shared-stream groups are read before the manager stops."""

    events: list[Any]  # what the sensors and watchers yielded, in order
    seconds: float  # how long they ran, on the event loop's clock
    groups: int | None  # poll loops in Airflow's shared stream; None without it


async def run_together(
    sensors: Sequence[BaseTrigger],
    watchers: Sequence[Any],
    shared_stream: bool,
    done: Callable[[list[Any]], bool],
) -> Together:
    """Deferred sensors and asset watchers on one connection until `done(events)`, the
    watchers each in its own `run()` or, with `shared_stream`, through Airflow 3.3's
    SharedStreamManager as its triggerer runs them; then all cancelled. Both ways must share
    one request per interval."""
    events: list[Any] = []
    streams: list[AsyncIterator[Any]] = [t.run() for t in sensors]
    if shared_stream:
        shared = pytest.importorskip("airflow.triggers.shared_stream")  # Airflow 3.3+
        manager = shared.SharedStreamManager()
        for number, trigger in enumerate(watchers):
            key = trigger.shared_stream_key()
            streams.append(
                trigger.filter_shared_stream(
                    manager.subscribe(trigger_id=number, trigger=trigger, key=key)
                )
            )
    else:
        streams += [t.run() for t in watchers]
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = [asyncio.create_task(drive(stream, events)) for stream in streams]

    def finished() -> bool:
        for task in tasks:  # a sensor ends after its event; a crash is a failure here
            if task.done() and task.exception() is not None:
                task.result()
        return done(events)

    try:
        await until(finished)
    finally:
        elapsed = loop.time() - started
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    groups = None
    if shared_stream:
        groups = len(manager._groups)
        await manager.stop_all()
    return Together(events, elapsed, groups)


@pytest.fixture
def hooks_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The `id` of each `PreDevHook` once it has read a balance, one entry per read: how a
    test knows every trigger (or shared-stream group) has seen the balance once."""
    from predev_airflow.hooks.predev import PreDevHook

    read: list[int] = []
    original = PreDevHook.aget_credits_balance

    async def counted(self: PreDevHook, *args: Any, **kwargs: Any) -> Any:
        balance = await original(self, *args, **kwargs)
        read.append(id(self))
        return balance

    monkeypatch.setattr(PreDevHook, "aget_credits_balance", counted)
    return read
