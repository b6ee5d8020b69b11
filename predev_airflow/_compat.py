"""Everything that moved between Airflow 3.0, 3.1, 3.2 and 3.3, resolved once.

The rest of the provider imports these names from here, never the moving paths: the newest
path first, then the older line's, so no supported line warns and none fails. Each fallback
names the lines that need it; `tests/airflow/test_compat.py` asserts, on every line the matrix
runs, which path each name came from (so every fallback runs in some cell).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Connection

from predev_integrations._core.forecast import KNOWN, Forecast

try:  # 3.1+
    from airflow.sdk import BaseHook
except ImportError:  # 3.0: the hook base is not in the Task SDK yet
    from airflow.hooks.base import BaseHook  # type: ignore[attr-defined,no-redef,unused-ignore]

try:  # 3.2+
    from airflow.sdk import conf
except ImportError:  # 3.0, 3.1
    from airflow.configuration import conf  # type: ignore[assignment,unused-ignore]

try:  # 3.2+: all three live in the Task SDK (3.1 has only AirflowException there)
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )
except ImportError:  # 3.0, 3.1
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined,unused-ignore]
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
    )

try:  # 3.2+; `airflow.stats` is a deprecated shim there
    from airflow.sdk.observability.stats import Stats as _Stats
except ImportError:  # 3.0, 3.1
    from airflow.stats import Stats as _Stats  # type: ignore[no-redef,unused-ignore]

__all__ = [
    "GAUGE",
    "WATCHER_GAUGES",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "BaseHook",
    "aget_connection",
    "conf",
    "emit_gauge",
    "emit_runway",
]

#: The balance each check saw (sensors, operator and watchers alike).
GAUGE = "predev.credits_remaining"
#: What the watchers add each reading: the balance, the burn rate (credits per hour), the
#: runway (hours until 0 credits) and its band's early and late ends (P10, P90); the rate and
#: the runway only when the forecast knows them, each end only when the band has it.
WATCHER_GAUGES = (
    "predev.credits.remaining",
    "predev.credits.burn_per_hour",
    "predev.credits.runway_hours",
    "predev.credits.runway_hours_p10",
    "predev.credits.runway_hours_p90",
)

#: 3.3.2+ reads connections in the triggerer without blocking (marked by `aextra_dejson`).
ASYNC_CONNECTIONS = hasattr(Connection, "aextra_dejson")


def emit_gauge(balance: float, conn_id: str) -> None:
    """Send `predev.credits_remaining` through Airflow's Stats (statsd or OpenTelemetry)."""
    tags: dict[str, Any] = {"conn_id": conn_id}
    _Stats.gauge(GAUGE, balance, tags=tags)


def emit_runway(balance: float, runway: Forecast, conn_id: str) -> None:
    """Send the watchers' gauges; a rate or runway the forecast does not know is not sent."""
    tags: dict[str, Any] = {"conn_id": conn_id}
    remaining, burn, hours, early, late = WATCHER_GAUGES
    _Stats.gauge(remaining, balance, tags=tags)
    if runway.burn_per_hour is not None:
        _Stats.gauge(burn, runway.burn_per_hour, tags=tags)
    if runway.status != KNOWN:
        return
    for name, seconds in (
        (hours, runway.seconds_to_floor),
        (early, runway.seconds_to_floor_p10),
        (late, runway.seconds_to_floor_p90),
    ):
        if seconds is not None:
            _Stats.gauge(name, seconds / 3_600.0, tags=tags)


async def aget_connection(hook: type[BaseHook], conn_id: str) -> Connection:
    """The connection, read without blocking the event loop, on every Airflow 3.x.

    3.0 has no `aget_connection`; before 3.3.2 it masks secrets with a synchronous supervisor
    call that can deadlock next to other async calls. There the blocking read runs in a worker
    thread instead.
    """
    if ASYNC_CONNECTIONS:
        conn: Connection = await hook.aget_connection(conn_id)
        return conn
    from asgiref.sync import sync_to_async

    result: Connection = await sync_to_async(hook.get_connection)(conn_id)
    return result
