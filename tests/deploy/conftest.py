"""One real Airflow deployment per test module (see `harness.py`), against one sandbox."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from predev_integrations.sandbox import Sandbox
from tests.deploy.harness import Deployment, deploy

pytest.importorskip("airflow.sdk", reason="needs the airflow extra")

DAGS = Path(__file__).parent / "dags"


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
    tmp_path_factory: pytest.TempPathFactory, deploy_sandbox: Sandbox, deploy_key: str
) -> Iterator[Deployment]:
    """The four processes, with `predev_default` pointing at the sandbox."""
    conn = json.dumps({"conn_type": "predev", "host": deploy_sandbox.url, "password": deploy_key})
    root = tmp_path_factory.mktemp("deployment")
    with deploy(DAGS, root=root, env={"AIRFLOW_CONN_PREDEV_DEFAULT": conn}) as deployment:
        yield deployment
