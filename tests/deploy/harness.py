"""A real Airflow deployment for tests: api-server, scheduler, dag-processor and triggerer as
four separate processes (LocalExecutor, SQLite, loopback only), as a user runs them.

`dag.test()` runs triggers in-process, so it cannot show how the real triggerer reads a
connection through its supervisor, or what a real deployment writes to disk and logs. This can.

Stable API (other test modules build on it; change it only by adding):

    from tests.deploy.harness import Deployment, deploy

    with deploy(dags_folder, env={"AIRFLOW_CONN_PREDEV_DEFAULT": ...}, root=tmp_path) as airflow:
        airflow.wait_for_dag("my_dag")                      # parsed by the dag-processor
        run_id = airflow.trigger("my_dag", conf={...})      # POST a DAG run (REST API)
        airflow.wait_for_task("my_dag", run_id, "gate", {"deferred"})  # -> TaskState
        airflow.wait_for_run("my_dag", run_id)              # -> final state: success/failed
        airflow.task_states("my_dag", run_id)               # {task_id: TaskState}
        airflow.dag_runs("my_dag")                          # [{"dag_run_id", "state", ...}]
        airflow.restart("triggerer")                        # stop ONE process, start it again
        airflow.output("triggerer"), airflow.output()       # captured stdout+stderr, as text
        airflow.wait_for_output("scheduler", "some text")    # until a process printed it
        airflow.home                                        # AIRFLOW_HOME, to scan files
        airflow.api("GET", "/api/v2/...")                   # any other REST call (JSON)
    wait_until(lambda: sandbox.requests >= 3, "three polls")  # any condition outside Airflow
    # leaving the block stops every process by its PID (process group); `stop()` does it early

`deploy()` migrates a fresh SQLite DB, picks free loopback ports, and returns once the
triggerer and scheduler are healthy. Each process's output goes to `<root>/output/<name>.log`
(outside AIRFLOW_HOME). Extra `env` entries (connections, `AIRFLOW__...` settings) reach every
process; proxies and the caller's `AIRFLOW_*` variables do not.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

#: The four processes of a deployment, in start order.
PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
FINAL_RUN_STATES = frozenset({"success", "failed"})
FINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 240.0
STOP_TIMEOUT = 30.0

T = TypeVar("T")


class DeploymentError(AssertionError):
    """A wait ran out or a process died; carries the tail of every process's output."""


@dataclass(frozen=True)
class TaskState:
    state: str | None
    try_number: int


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    """Until `condition()` holds, for what Airflow's processes do not report (sandbox counters)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_environ() -> dict[str, str]:
    """The caller's environment without Airflow settings, connections or proxies."""
    dropped = ("AIRFLOW_", "AIRFLOW__", "PYTEST_")
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(dropped) and name.lower() not in proxies
    }


def airflow_env(home: Path, dags_folder: Path, port: int) -> dict[str, str]:
    """Settings every process shares: one DB, one JWT secret, loopback only, no examples."""
    api = f"http://{LOOPBACK}:{port}"
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "NO_PROXY": "*",
        "PYTHONUNBUFFERED": "1",
    }


def command(name: str, port: int) -> list[str]:
    airflow = [sys.executable, "-m", "airflow"]
    if name == "api-server":
        return [*airflow, "api-server", "--host", LOOPBACK, "--port", str(port)]
    if name in ("scheduler", "triggerer"):
        return [*airflow, name, "--skip-serve-logs"]  # no log server on 0.0.0.0
    return [*airflow, name]


@dataclass
class Deployment:
    """Four Airflow processes on one SQLite DB; see the module docstring for the API."""

    root: Path
    home: Path
    dags_folder: Path
    env: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _files: dict[str, IO[bytes]] = field(default_factory=dict)
    _client: httpx.Client | None = None

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    # --- processes --------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start one process (stdout and stderr appended to its output file)."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        out = self._files.get(name) or (self.output_dir / f"{name}.log").open("ab")
        self._files[name] = out
        self.processes[name] = subprocess.Popen(
            command(name, self.port),
            env=self.env,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: it and its children stop together
        )

    def stop_process(self, name: str) -> None:
        """Stop one process and its children by its PID (its process group): TERM, then KILL."""
        proc = self.processes.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):  # children left behind by a clean exit
            os.killpg(proc.pid, signal.SIGKILL)

    def restart(self, name: str = "triggerer", timeout: float = START_TIMEOUT) -> None:
        """Stop one process and start it again; waits until it is healthy again."""
        before = time.time()
        self.stop_process(name)
        self.start(name)
        if name == "api-server":
            self._wait(lambda: self._health() or None, timeout, "the api-server to answer")
        elif name in ("scheduler", "triggerer", "dag-processor"):
            self._wait(lambda: self._beat_after(name, before), timeout, f"{name} to beat")

    def stop(self) -> None:
        """Stop every process (idempotent), close the output files and the HTTP client."""
        for name in reversed(list(self.processes)):
            self.stop_process(name)
        for out in self._files.values():
            out.close()
        self._files.clear()
        if self._client is not None:
            self._client.close()
            self._client = None

    def output(self, name: str | None = None) -> str:
        """What one process (or, without a name, every process and the migration) printed."""
        for out in self._files.values():
            out.flush()
        paths = [self.output_dir / f"{name}.log"] if name else sorted(self.output_dir.glob("*.log"))
        return "\n".join(p.read_text(errors="replace") for p in paths if p.is_file())

    # --- REST API ---------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call as the (all-admins) simple auth manager's admin; the JSON answer."""
        client = self._http()
        response = client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def _http(self) -> httpx.Client:
        if self._client is None:
            client = httpx.Client(base_url=self.api_url, timeout=30, trust_env=False)
            token = client.get("/auth/token").raise_for_status().json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            self._client = client
        return self._client

    def _health(self) -> dict[str, Any]:
        try:
            with httpx.Client(base_url=self.api_url, timeout=5, trust_env=False) as client:
                response = client.get("/api/v2/monitor/health")
        except httpx.HTTPError:
            return {}
        return response.json() if response.status_code == 200 else {}

    def _beat_after(self, name: str, since: float) -> bool:
        """The component's latest heartbeat in /monitor/health is newer than `since`."""
        key = name.replace("-", "_")
        status = self._health().get(key) or {}
        beat = status.get(f"latest_{key}_heartbeat")
        if status.get("status") != "healthy" or not beat:
            return False
        from datetime import datetime

        return datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() > since

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Create a manual DAG run now; returns its run id."""
        body = {"logical_date": None, "conf": dict(conf or {})}
        run: dict[str, Any] = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        return str(run["dag_run_id"])

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns")
        runs: list[dict[str, Any]] = answer["dag_runs"]
        return runs

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        return run.get("state")  # type: ignore[no-any-return]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, TaskState]:
        answer = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {
            ti["task_id"]: TaskState(ti.get("state"), int(ti.get("try_number") or 0))
            for ti in answer["task_instances"]
        }

    # --- waiting ----------------------------------------------------------------------------

    def wait_for_dag(self, dag_id: str, timeout: float = START_TIMEOUT) -> None:
        """Until the dag-processor has parsed `dag_id` (import errors end the wait early)."""

        def parsed() -> bool:
            errors = self.api("GET", "/api/v2/importErrors").get("import_errors") or []
            if errors:
                raise self._error(f"the DAG folder has import errors: {errors}")
            response = self._http().get(f"/api/v2/dags/{dag_id}")
            return response.status_code == 200

        self._wait(parsed, timeout, f"DAG {dag_id} to be parsed")

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        states: Collection[str] = FINAL_RUN_STATES,
        timeout: float = 180.0,
    ) -> str:
        """Until the DAG run is in one of `states`; returns that state."""
        state = self._wait(
            lambda: s if (s := self.run_state(dag_id, run_id)) in states else None,
            timeout,
            f"run {run_id} of {dag_id} to be {sorted(states)}",
        )
        return str(state)

    def wait_for_task(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: Collection[str] = FINAL_TASK_STATES,
        timeout: float = 180.0,
    ) -> TaskState:
        """Until the task instance is in one of `states`; returns it."""

        def reached() -> TaskState | None:
            ti = self.task_states(dag_id, run_id).get(task_id)
            return ti if ti is not None and ti.state in states else None

        return self._wait(reached, timeout, f"{dag_id}.{task_id} to be {sorted(states)}")

    def wait_for_output(self, name: str, text: str, timeout: float = 180.0) -> None:
        """Until process `name` has printed `text` (for events the REST API does not show)."""
        self._wait(lambda: text in self.output(name), timeout, f"{name} to print {text!r}")

    def _wait(self, probe: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise self._error(f"{name} exited with {proc.returncode} waiting for {what}")
            with contextlib.suppress(httpx.TransportError):
                value = probe()
                if value is not None and value is not False:
                    return value
            if time.monotonic() > deadline:
                raise self._error(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.5)

    def _error(self, message: str) -> DeploymentError:
        tails = [
            f"--- {name} (last 40 lines) ---\n" + "\n".join(self.output(name).splitlines()[-40:])
            for name in PROCESSES
        ]
        return DeploymentError("\n".join([message, *tails]))


@contextlib.contextmanager
def deploy(
    dags_folder: Path,
    *,
    root: Path,
    env: Mapping[str, str] | None = None,
    processes: Collection[str] = PROCESSES,
    timeout: float = START_TIMEOUT,
) -> Iterator[Deployment]:
    """Migrate a fresh DB under `root/airflow`, start `processes`, wait until they are healthy,
    yield the `Deployment`; stop every process on the way out, whatever happened."""
    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {**_clean_environ(), **airflow_env(home, dags_folder, port), **(env or {})}
    deployment = Deployment(root=root, home=home, dags_folder=dags_folder, env=full_env, port=port)
    deployment.output_dir.mkdir(parents=True, exist_ok=True)
    with (deployment.output_dir / "db-migrate.log").open("wb") as out:
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=full_env,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )
    started = time.time()
    try:
        for name in PROCESSES:
            if name in processes:
                deployment.start(name)
        deployment._wait(lambda: deployment._health() or None, timeout, "the api-server")
        for name in ("scheduler", "triggerer", "dag-processor"):
            if name in processes:
                deployment._wait(
                    lambda n=name: deployment._beat_after(n, started - 60),  # type: ignore[misc]
                    timeout,
                    f"{name} to be healthy",
                )
        yield deployment
    finally:
        deployment.stop()
