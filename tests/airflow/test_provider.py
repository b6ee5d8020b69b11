"""The provider as Airflow sees it: registration, the connection form, the hook, the CLI."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Connection

from predev_airflow.get_provider_info import get_provider_info
from predev_airflow.hooks.predev import PreDevHook, base_url_from, settings_from
from predev_integrations._core.defaults import ENTERPRISE_TOP_UP_URL, TOP_UP_URL
from predev_integrations.errors import ConfigError
from predev_integrations.sandbox import Sandbox
from tests.airflow.lines import since

EXAMPLE_DAGS = Path(__file__).parents[2] / "predev_airflow" / "example_dags"


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_provider_info_matches_airflows_schema() -> None:
    import jsonschema  # type: ignore[import-untyped]
    from airflow import providers_manager

    schema_path = Path(providers_manager.__file__).parent / "provider_info.schema.json"
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))


def test_airflow_providers_list_shows_the_provider(airflow_db: Path) -> None:
    # With a migrated home (its airflow.cfg), 3.0 logs no INFO lines to stdout before the JSON.
    result = airflow_cli("providers", "list", "--output", "json")
    assert result.returncode == 0, result.stderr
    listed = {p["package_name"]: p for p in json.loads(result.stdout)}
    assert "predev-integrations" in listed


def test_airflow_providers_triggers_lists_every_trigger(airflow_db: Path) -> None:
    result = airflow_cli("providers", "triggers", "--output", "json")
    assert result.returncode == 0, result.stderr
    ours = {
        t["class"] for t in json.loads(result.stdout) if t["package_name"] == "predev-integrations"
    }
    assert ours == {
        "predev_airflow.triggers.credits",
        "predev_airflow.triggers.credits_event",
        "predev_airflow.triggers.credits_low",
    }


def test_the_connection_form_is_declared_and_matches_the_hook() -> None:
    from airflow.providers_manager import ProvidersManager

    hook: Any
    if since("3.2"):  # the Task SDK has its own providers manager for hooks
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        hook = ProvidersManagerTaskRuntime().hooks["predev"]  # type: ignore[no-untyped-call]
    else:
        hook = ProvidersManager().hooks["predev"]  # type: ignore[no-untyped-call]
    assert hook is not None
    assert hook.hook_class_name == "predev_airflow.hooks.predev.PreDevHook"
    assert hook.hook_name == "pre.dev"
    manager = ProvidersManager()  # type: ignore[no-untyped-call]
    from_hook = PreDevHook.get_ui_field_behaviour()
    assert from_hook["relabeling"]["password"] == "API key"
    assert "login" in from_hook["hidden_fields"]
    if since("3.2"):  # declared in get_provider_info: no hook import, no FAB
        assert manager.field_behaviours["predev"] == from_hook
        assert "extra__predev__timeout" in manager.connection_form_widgets
        assert "extra__predev__topup_url" in manager.connection_form_widgets
        return
    # Before 3.2 the UI reads every provider's form from its hook, through this service; in a
    # fresh process, as the api-server's (this one's providers manager is already loaded).
    probe = subprocess.run(
        [sys.executable, "-c", UI_FORM_PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    shown = json.loads(probe.stdout.strip().splitlines()[-1])
    if since("3.1") or importlib.util.find_spec("flask_appbuilder") is not None:
        assert shown == from_hook
    else:  # 3.0 without the FAB provider shows no provider's form (README: known issues)
        assert shown is None


UI_FORM_PROBE = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
print(json.dumps(HookMetaService._get_hooks_with_mocked_fab()[2].get("predev")))
"""


def test_airflow_connections_test_succeeds(
    predev_conn: str, api_key: str, sandbox: Sandbox
) -> None:
    result = airflow_cli(
        "connections", "test", predev_conn, env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout
    assert sandbox.requests == 1
    assert api_key not in result.stdout + result.stderr


def test_airflow_connections_test_reports_a_rejected_key(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, api_key: str
) -> None:
    wrong = api_key + "-revoked"
    monkeypatch.setenv(
        "AIRFLOW_CONN_PREDEV_DEFAULT",
        json.dumps({"conn_type": "predev", "host": sandbox.url, "password": wrong}),
    )
    result = airflow_cli(
        "connections", "test", "predev_default", env={"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    )
    # Before 3.3, `airflow connections test` prints "Connection failed!" and still exits 0.
    assert result.returncode == (1 if since("3.3") else 0)
    assert "Connection failed!" in result.stdout
    assert "HTTP 401" in result.stdout
    assert wrong not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        (None, None, None, "https://api.pre.dev"),
        ("", "http", 8080, "https://api.pre.dev"),
        ("https://api.pre.dev/", None, None, "https://api.pre.dev"),
        ("http://127.0.0.1:8080", None, None, "http://127.0.0.1:8080"),
        ("api.pre.dev", None, None, "https://api.pre.dev"),
        ("api.pre.dev", "https", 8443, "https://api.pre.dev:8443"),
        ("127.0.0.1", "http", 8080, "http://127.0.0.1:8080"),
        ("localhost", "HTTP", None, "http://localhost"),
        ("::1", "http", 8080, "http://[::1]:8080"),
    ],
)
def test_the_base_url_comes_from_the_host_field(
    host: str | None, schema: str | None, port: int | None, expected: str
) -> None:
    assert base_url_from(host, schema, port) == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": "api.pre.dev"}, "has no API key"),
        ({"password": "k", "host": "example.com", "schema": "http"}, "Refusing plain http://"),
        ({"password": "k", "host": "http://example.com"}, "Refusing plain http://"),
        ({"password": "k", "host": "api.pre.dev", "schema": "ftp"}, "not a URL scheme"),
        ({"password": "k", "extra": "[10]"}, "'predev_default': its extra is not a JSON object"),
        ({"password": "k", "extra": "{"}, "'predev_default': its extra is not a JSON object"),
    ],
)
def test_a_bad_connection_is_a_one_line_config_error(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        settings_from(Connection(conn_id="predev_default", conn_type="predev", **fields))
    assert "\n" not in str(caught.value)


#: Timeouts the CLI's --timeout refuses, as a connection's extra can hold them (0 used to
#: become the default; -5 failed only when tested, naming neither field nor connection).
BAD_TIMEOUTS = ["0", "-5", '"soon"', "true", "1e400", '"nan"', "86401", '"1e400"', "9" * 400]


def timeout_extra(timeout: str) -> str:
    return '{"timeout": ' + timeout + "}"


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS)
def test_a_bad_timeout_names_the_connection_and_the_field(timeout: str) -> None:
    conn = Connection(conn_id="team_predev", conn_type="predev", password="k")
    conn.extra = timeout_extra(timeout)
    with pytest.raises(ConfigError) as caught:
        settings_from(conn)
    line = str(caught.value)
    assert line.startswith("Connection 'team_predev': timeout must be a ")
    assert "\n" not in line
    assert len(line) < 200


@pytest.mark.parametrize(
    ("extra", "timeout"),
    [(None, 10), ("{}", 10), ('{"timeout": null}', 10), ('{"timeout": ""}', 10)]
    + [(timeout_extra(t), 3) for t in ("3", "3.0", '"3"', '" 3 "')]
    + [(timeout_extra("86400"), 86_400)],
)
def test_a_timeout_in_range_is_used_and_unset_means_the_default(
    extra: str | None, timeout: float
) -> None:
    conn = Connection(conn_id="c", conn_type="predev", password="k", extra=extra)
    assert settings_from(conn).policy.timeout == timeout


@pytest.fixture
def zero_timeout_conn(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, api_key: str) -> str:
    conn = {
        "conn_type": "predev",
        "host": sandbox.url,
        "password": api_key,
        "extra": {"timeout": 0},
    }
    monkeypatch.setenv("AIRFLOW_CONN_TEAM_PREDEV", json.dumps(conn))
    return "team_predev"


def test_a_bad_timeout_is_refused_when_the_connection_is_tested_naming_the_field_alone(
    zero_timeout_conn: str, sandbox: Sandbox
) -> None:
    """The UI tests a transient copy under a random id (issue 25: "Connection 'mJJS7iCw':
    timeout must be ..."), so `test_connection` names no id the user never typed."""
    ok, message = PreDevHook(zero_timeout_conn).test_connection()
    assert not ok
    assert message == "timeout must be a number above 0 and <= 86400, got 0."
    assert sandbox.requests == 0


def test_unnamed_a_broken_extra_names_the_connection_as_such() -> None:
    """Airflow's test endpoint refuses such an extra itself; a secrets backend may not."""
    conn = Connection(conn_id="mJJS7iCw", conn_type="predev", password="k", extra="[1]")
    with pytest.raises(ConfigError, match=r"^The connection's extra is not a JSON object;"):
        settings_from(conn, named=False)


@pytest.mark.parametrize(
    ("extra", "password", "message"),
    [
        ({"timeout": 0}, "k", "timeout must be a number above 0 and <= 86400, got 0."),
        ({"topup_url": "http://pre.dev/x"}, "k", "topup_url 'http://pre.dev/x' must be an https"),
        ({}, "", "The connection has no API key; put your pre.dev API key in its password"),
    ],
)
def test_the_ui_test_button_on_a_transient_copy_names_no_random_id(
    monkeypatch: pytest.MonkeyPatch, extra: Any, password: str, message: str
) -> None:
    """As Airflow's test endpoint does it: a copy under a random id, exported to the
    environment, tested through `Connection.test_connection`."""
    from airflow.models.connection import Connection as ModelConnection

    conn_id = "mJJS7iCw"
    conn = ModelConnection(
        conn_id=conn_id,
        conn_type="predev",
        password=password,
        extra=extra if isinstance(extra, str) else json.dumps(extra),
    )
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", conn.get_uri())
    ok, text = conn.test_connection()  # type: ignore[no-untyped-call]
    assert not ok
    assert text.startswith(message)
    assert conn_id not in text
    assert "\n" not in text


def test_a_bad_timeout_fails_a_task_that_uses_the_connection(
    zero_timeout_conn: str, sandbox: Sandbox
) -> None:
    from predev_airflow._compat import AirflowFailException
    from predev_airflow.operators.credits import PreDevCreditsCheckOperator

    check = PreDevCreditsCheckOperator(
        task_id="check", min_credits=1, predev_conn_id=zero_timeout_conn
    )
    with pytest.raises(AirflowFailException) as caught:  # no retries: the connection must change
        check.execute({})
    assert str(caught.value) == (
        "pre.dev credits check failed: Connection 'team_predev': timeout must be a number "
        "above 0 and <= 86400, got 0."
    )
    assert sandbox.requests == 0


@pytest.mark.parametrize(
    ("extra", "link"),
    [
        (None, TOP_UP_URL),
        ('{"topup_url": null}', TOP_UP_URL),
        ('{"topup_url": ""}', TOP_UP_URL),
        (json.dumps({"topup_url": ENTERPRISE_TOP_UP_URL}), ENTERPRISE_TOP_UP_URL),
        (
            '{"topup_url": " https://billing.example.com/credits "}',
            "https://billing.example.com/credits",
        ),
    ],
)
def test_the_top_up_link_is_the_connections_or_the_solo_dashboard(
    extra: str | None, link: str
) -> None:
    conn = Connection(conn_id="c", conn_type="predev", password="k", extra=extra)
    assert settings_from(conn).topup_url == link


@pytest.mark.parametrize(
    "link",
    ["http://pre.dev/project/playground", "javascript:alert(1)", "pre.dev", 42, "https://"],
)
def test_a_top_up_link_that_is_not_https_is_refused_in_one_line_naming_it(link: object) -> None:
    conn = Connection(
        conn_id="team_predev",
        conn_type="predev",
        password="k",
        extra=json.dumps({"topup_url": link}),
    )
    with pytest.raises(ConfigError) as caught:
        settings_from(conn)
    line = str(caught.value)
    assert line.startswith("Connection 'team_predev': topup_url ")
    assert "https://" in line
    assert "\n" not in line


@pytest.fixture
def enterprise_conn(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, api_key: str) -> str:
    conn = {
        "conn_type": "predev",
        "host": sandbox.url,
        "password": api_key,
        "extra": {"topup_url": ENTERPRISE_TOP_UP_URL},
    }
    monkeypatch.setenv("AIRFLOW_CONN_TEAM_PREDEV", json.dumps(conn))
    sandbox.configure(balance=10)
    return "team_predev"


def test_every_low_line_names_the_connections_top_up_link(
    enterprise_conn: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """The operator's failure and the sensor's wait (the deferred trigger's line: test_dags)."""
    from predev_airflow._compat import AirflowFailException
    from predev_airflow.operators.credits import PreDevCreditsCheckOperator
    from predev_airflow.sensors.credits import PreDevCreditsSensor

    caplog.set_level("INFO")
    check = PreDevCreditsCheckOperator(task_id="c", min_credits=100, predev_conn_id=enterprise_conn)
    with pytest.raises(
        AirflowFailException, match=re.escape(f"top up at {ENTERPRISE_TOP_UP_URL} before")
    ):
        check.execute({})
    sensor = PreDevCreditsSensor(task_id="s", min_credits=100, predev_conn_id=enterprise_conn)
    capfd.readouterr()
    assert not sensor.poke({}).is_done
    out, err = capfd.readouterr()
    assert f"waiting (top up at {ENTERPRISE_TOP_UP_URL})" in out + err + caplog.text


def test_settings_hold_the_key_only_as_a_secret(api_key: str) -> None:
    conn = Connection(conn_id="c", conn_type="predev", password=api_key, extra='{"timeout": 3}')
    settings = settings_from(conn)
    assert settings.api_key.reveal() == api_key
    assert settings.policy.timeout == 3
    assert api_key not in repr(settings)


async def test_the_async_read_shares_the_connection_poll(
    predev_conn: str, sandbox: Sandbox
) -> None:
    hook = PreDevHook(predev_conn)
    # Concurrent connection reads all finish (a worker thread before 3.3.2, Airflow's own
    # async read from then on), however they interleave.
    settings = await asyncio.wait_for(
        asyncio.gather(*(hook.aget_settings() for _ in range(20))), timeout=60
    )
    assert {s.base_url for s in settings} == {sandbox.url}
    # Waiters that start together share one request: the first starts the flight and the
    # others join it before it runs. (Reading the connection inside each call would let
    # a late reader miss the flight and start a second one: the old race in this test.)
    balances = await asyncio.gather(*(hook.aget_credits_balance(settings=s) for s in settings))
    assert balances == [450] * 20
    assert sandbox.requests == 1
    assert hook.get_credits_balance() == 450
    assert sandbox.requests == 2


def test_the_example_dags_parse() -> None:
    if since("3.2"):
        from airflow.dag_processing.dagbag import DagBag
    else:  # 3.0, 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef,unused-ignore]

    bag = DagBag(dag_folder=EXAMPLE_DAGS)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {
        "example_predev_credits_sensor",
        "example_predev_credits_check",
        "example_predev_credits_batch",
        "example_predev_credits_event",
        "example_predev_credits_low",
    }
