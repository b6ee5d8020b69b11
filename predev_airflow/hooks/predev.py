"""`PreDevHook`: turns an Airflow connection of type `predev` into the core's clients.

The connection's password is the API key; its host is the base URL (a full URL, or a bare
host name completed by the schema and port), https://api.pre.dev when empty; its extras are
`timeout` and `topup_url` (where LOW lines and alerts send people to buy credits). All HTTP,
retry and validation is the core's; this module only reads the connection.

A refusal names the connection and the field, except in `test_connection`: the UI's Test
button tests a transient copy under a random id the user never typed, so there it names the
field alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import Connection

from predev_integrations._core.defaults import TIMEOUT, TOP_UP_URL
from predev_integrations._core.ranges import SECONDS, number_value
from predev_integrations._core.retry import RetryPolicy
from predev_integrations._core.secret import Secret
from predev_integrations._core.urls import (
    DEFAULT_BASE_URL,
    normalize_base_url,
    normalize_topup_url,
)
from predev_integrations._core.verdict import Balance
from predev_integrations._http.client import CreditsClient
from predev_integrations._http.shared_poll import shared_balance
from predev_integrations.errors import ConfigError, PreDevError, detached_errors

from .._compat import AirflowNotFoundException, BaseHook, aget_connection
from ..get_provider_info import UI_FIELD_BEHAVIOUR

INTEGRATION = "airflow"


@dataclass(frozen=True)
class PreDevSettings:
    """What a connection resolves to. The key is a `Secret`, so the repr is safe."""

    base_url: str
    api_key: Secret = field(repr=False)
    policy: RetryPolicy
    topup_url: str = TOP_UP_URL


def base_url_from(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """The base URL for a connection's host, schema and port (validated by the core)."""
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        scheme = (schema or "https").strip().lower()
        if scheme not in ("https", "http"):
            raise ConfigError(
                f"The connection's schema {schema!r} is not a URL scheme; use https (or http "
                "to a loopback address), or put a full URL in the host field."
            )
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # a bare IPv6 address
        host = f"{scheme}://{host}" + (f":{port}" if port else "")
    return normalize_base_url(host)


def _named(conn: Connection, named: bool) -> str:
    """How a refusal names the connection: by its id, or (a transient copy) not at all."""
    return f"Connection {conn.conn_id!r}: " if named else ""


def _extra(conn: Connection, named: bool = True) -> dict[str, Any]:
    try:
        extra = json.loads(conn.extra or "{}")
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        whose = _named(conn, named) + "its" if named else "The connection's"
        raise ConfigError(
            f'{whose} extra is not a JSON object; leave it empty or write e.g. {{"timeout": 10}}.'
        )
    return extra


def timeout_from(conn: Connection, named: bool = True) -> float:
    """The `timeout` extra (the form's "Request timeout"), by the rule of the CLI's --timeout;
    unset, null or empty: the default. Refusals name the connection (when `named`) and the
    field."""
    value = _extra(conn, named).get("timeout")
    if value is None or value == "":
        return TIMEOUT
    return number_value(value, f"{_named(conn, named)}timeout", SECONDS, text_ok=True)


def topup_url_from(conn: Connection, named: bool = True) -> str:
    """The `topup_url` extra (the form's "Top-up link"), https only, by the CLI's
    --topup-url rule; unset, null or empty: the solo dashboard."""
    value = _extra(conn, named).get("topup_url")
    if value is None or value == "":
        return TOP_UP_URL
    return normalize_topup_url(value, f"{_named(conn, named)}topup_url")


def settings_from(conn: Connection, *, named: bool = True) -> PreDevSettings:
    """Read a `predev` connection; raises `ConfigError` with a one-line fix, naming the
    connection unless `named` is False (a transient copy under a random id).

    The error is alone (the JSON or URL error it was raised during quotes the connection's
    fields) and redacted of the key (pasted into the host field by mistake, say).
    """
    key = (conn.password or "").strip()  # a pasted key often brings a newline along
    with detached_errors(Secret(key) if key else None):
        return _settings_from(conn, key, named)


def _settings_from(conn: Connection, key: str, named: bool) -> PreDevSettings:
    if not key.strip():
        whose = f"Connection {conn.conn_id!r} has" if named else "The connection has"
        raise ConfigError(
            f"{whose} no API key; put your pre.dev API key in its password (API key) field."
        )
    policy = RetryPolicy(timeout=timeout_from(conn, named))
    topup_url = topup_url_from(conn, named)
    base_url = base_url_from(conn.host, conn.schema, conn.port)
    return PreDevSettings(
        base_url=base_url, api_key=Secret(key), policy=policy, topup_url=topup_url
    )


class PreDevHook(BaseHook):
    """Reads the prototype-credit balance for the key in a `predev` connection."""

    conn_name_attr = "predev_conn_id"
    default_conn_name = "predev_default"
    conn_type = "predev"
    hook_name = "pre.dev"

    def __init__(self, predev_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.predev_conn_id = predev_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form on Airflow < 3.2 (3.2+ reads `get_provider_info` instead)."""
        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    def _missing(self) -> ConfigError:
        env = f"AIRFLOW_CONN_{self.predev_conn_id.upper()}"
        return ConfigError(
            f"Connection {self.predev_conn_id!r} is not defined; create it (type pre.dev) "
            f"in the UI, a secrets backend, or the {env} environment variable."
        )

    def get_settings(self, *, named: bool = True) -> PreDevSettings:
        """The connection, checked; `named=False` words refusals for a transient copy."""
        missing = None
        try:
            conn = self.get_connection(self.predev_conn_id)
        except AirflowNotFoundException:
            missing = self._missing()
        if missing is not None:
            raise missing  # outside the handler: Airflow's exception is not linked to it
        return settings_from(conn, named=named)

    async def aget_settings(self) -> PreDevSettings:
        """Like `get_settings`, without blocking the event loop (for the triggerer)."""
        missing = None
        try:
            conn = await aget_connection(type(self), self.predev_conn_id)
        except AirflowNotFoundException:
            missing = self._missing()
        if missing is not None:
            raise missing  # outside the handler: Airflow's exception is not linked to it
        return settings_from(conn)

    def get_credits_balance(self, settings: PreDevSettings | None = None) -> Balance:
        """One read, retried per the core's policy; raises the core's `PreDevError`s, alone.
        Pass `settings` from `get_settings` to read without reading the connection again."""
        settings = settings or self.get_settings()
        with (
            detached_errors(settings.api_key),
            CreditsClient(
                settings.api_key,
                base_url=settings.base_url,
                policy=settings.policy,
                integration=INTEGRATION,
            ) as client,
        ):
            return client.get_balance()

    async def aget_credits_balance(
        self,
        *,
        max_age: float = 0.0,
        settings: PreDevSettings | None = None,
        not_before: float | None = None,
    ) -> Balance:
        """Async read. Concurrent calls for the same key in this event loop share one request,
        and reuse an answer up to `max_age` seconds old but none from a request started before
        `not_before` (the loop's clock). Pass `settings` from `aget_settings` to poll without
        reading the connection again."""
        settings = settings or await self.aget_settings()
        with detached_errors(settings.api_key):  # a shared error is raised again per waiter
            return await shared_balance(
                settings.api_key,
                base_url=settings.base_url,
                max_age=max_age,
                policy=settings.policy,
                integration=INTEGRATION,
                not_before=not_before,
            )

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button and `airflow connections test`. The UI tests a transient copy
        under a random id, so a refusal names the field alone."""
        try:
            balance = self.get_credits_balance(self.get_settings(named=False))
        except PreDevError as error:
            return False, error.describe()
        return True, f"Connected to pre.dev: {balance:g} prototype credits remaining."
