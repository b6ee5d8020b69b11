"""One real Airflow deployment per test module and profile (see `harness.py`), against one
sandbox. Every module runs on both profiles: `sqlite-local` and the production-shaped
`postgres-celery`, which skips (with the reason) where its parts are not installed; set
PREDEV_DEPLOY_PROFILES=sqlite-local (comma-separated) to run fewer."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import (
    PG_BIN,
    PROFILES,
    Deployment,
    DeploymentError,
    broker_binary,
    deploy,
    wait_until,
)

pytest.importorskip("airflow.sdk", reason="needs the airflow extra")

DAGS = Path(__file__).parent / "dags"


def missing_for(profile: str) -> str | None:
    """Why `profile` cannot run here, or None."""
    if profile != "postgres-celery":
        return None
    for module in ("airflow.providers.celery", "airflow.providers.postgres", "psycopg2"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return f"{module} is not installed (the `deploy` dependency group)"
    if not (PG_BIN / "postgres").is_file():
        return f"no PostgreSQL server in {PG_BIN} (set PREDEV_TEST_PG_BIN)"
    try:
        broker_binary()
    except DeploymentError as error:
        return str(error)
    return None


def selected_profiles() -> list[str]:
    chosen = os.environ.get("PREDEV_DEPLOY_PROFILES", ",".join(PROFILES))
    return [name.strip() for name in chosen.split(",") if name.strip()]


@pytest.fixture(scope="module", params=selected_profiles())
def profile(request: pytest.FixtureRequest) -> str:
    """The deployment profile: every module's tests run once per profile."""
    name: str = request.param
    if reason := missing_for(name):
        pytest.skip(f"{name}: {reason}")
    return name


@pytest.fixture(scope="module")
def deploy_key() -> str:
    """One fake key for the module's deployment: long and random, so a leak is unmistakable."""
    return f"pdk_deploy_{secrets.token_hex(16)}"


@pytest.fixture(scope="module")
def deploy_sandbox(deploy_key: str) -> Iterator[Sandbox]:
    with Sandbox(key=deploy_key, balance=450) as server:
        yield server


@pytest.fixture(scope="module")
def airflow(
    tmp_path_factory: pytest.TempPathFactory, deploy_sandbox: Sandbox, deploy_key: str, profile: str
) -> Iterator[Deployment]:
    """The profile's processes, with `predev_default` pointing at the sandbox."""
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp(f"deployment-{profile}")
    env = {"AIRFLOW_CONN_PREDEV_DEFAULT": conn}
    with deploy(DAGS, root=root, env=env, profile=profile) as deployment:
        yield deployment


@pytest.fixture
def readings(deploy_sandbox: Sandbox) -> Callable[[int], None]:
    """`readings(n)`: wait until the sandbox has answered n more requests. Once no task asks,
    those are the triggerers' polls: the tests' clock."""

    def wait(n: int) -> None:
        target = deploy_sandbox.requests + n
        wait_until(lambda: deploy_sandbox.requests >= target, f"{n} more readings")

    return wait
