"""Airflow test harness: a private AIRFLOW_HOME on SQLite, set up before Airflow is imported.

This file is imported before any test module here, so the environment below is in place when
`airflow` is first imported; `airflow db migrate` then runs once per session. DAGs run with
`dag.test()` in this process, against the sandbox on loopback.
"""

from __future__ import annotations

import atexit
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from predev_integrations.sandbox import Sandbox

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


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the SQLite metadata DB once per session."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        timeout=300,
    )
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
