"""Imports that moved between Airflow 3.x releases, resolved once, without deprecated paths."""

from __future__ import annotations

from typing import Any

try:  # Airflow 3.1+: exceptions live in the Task SDK.
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )

try:  # Airflow 3.2+; `airflow.stats` is a deprecated shim there.
    from airflow.sdk.observability.stats import Stats as _Stats
except ImportError:  # pragma: no cover - Airflow 3.0/3.1
    from airflow.stats import Stats as _Stats

__all__ = [
    "GAUGE",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "emit_gauge",
]

#: The one metric: the balance each check saw.
GAUGE = "predev.credits_remaining"


def emit_gauge(balance: float, conn_id: str) -> None:
    """Send `predev.credits_remaining` through Airflow's Stats (statsd or OpenTelemetry)."""
    tags: dict[str, Any] = {"conn_id": conn_id}
    _Stats.gauge(GAUGE, balance, tags=tags)
