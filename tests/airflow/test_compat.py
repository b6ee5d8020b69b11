"""`predev_airflow._compat` on the Airflow line installed: each name comes from the path that
line provides, so across the matrix every fallback is taken by the line that needs it."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from predev_airflow import _compat
from predev_airflow.hooks.predev import PreDevHook
from tests.airflow.lines import AIRFLOW, since


def origin(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("name", "newest", "newest_since", "fallback"),
    [
        ("BaseHook", "airflow.sdk.BaseHook", "3.1", "airflow.hooks.base.BaseHook"),
        ("conf", "airflow.sdk.conf", "3.2", "airflow.configuration.conf"),
        (
            "AirflowException",
            "airflow.sdk.exceptions.AirflowException",
            "3.2",
            "airflow.exceptions.AirflowException",
        ),
        (
            "AirflowFailException",
            "airflow.sdk.exceptions.AirflowFailException",
            "3.2",
            "airflow.exceptions.AirflowFailException",
        ),
        (
            "AirflowNotFoundException",
            "airflow.sdk.exceptions.AirflowNotFoundException",
            "3.2",
            "airflow.exceptions.AirflowNotFoundException",
        ),
        ("_Stats", "airflow.sdk.observability.stats.Stats", "3.2", "airflow.stats.Stats"),
    ],
)
def test_each_moved_name_comes_from_this_lines_path(
    name: str, newest: str, newest_since: str, fallback: str
) -> None:
    expected = newest if since(newest_since) else fallback
    assert getattr(_compat, name) is origin(expected), f"Airflow {AIRFLOW}"


def test_connections_are_read_asynchronously_from_3_3_2_on() -> None:
    assert _compat.ASYNC_CONNECTIONS is since("3.3.2")


async def test_the_async_connection_read_works_on_this_line(predev_conn: str, api_key: str) -> None:
    """Airflow's `aget_connection` from 3.3.2, a worker thread before: the same connection."""
    conn = await _compat.aget_connection(PreDevHook, predev_conn)
    assert conn.conn_type == "predev"
    assert conn.password == api_key
