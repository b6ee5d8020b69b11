"""Provider metadata read by Airflow's providers manager (entry point `apache_airflow_provider`).

Kept free of Airflow imports: the manager calls it in every Airflow process at start-up.
"""

from __future__ import annotations

from typing import Any

from predev_integrations.__version__ import __version__
from predev_integrations._core.defaults import (
    BASE_URL,
    ENTERPRISE_TOP_UP_URL,
    TIMEOUT,
    TOP_UP_URL,
)
from predev_integrations._core.ranges import SECONDS

HOOK_CLASS = "predev_airflow.hooks.predev.PreDevHook"

#: The connection form, declared for Airflow 3.2+ (no hook import, no wtforms). Older 3.x
#: reads the same behaviour from `PreDevHook.get_ui_field_behaviour()`.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["login", "extra"],
    "relabeling": {"password": "API key", "host": "Base URL", "schema": "Scheme"},
    "placeholders": {
        "password": "your pre.dev API key",
        "host": f"{BASE_URL} (default), or a bare host name",
        "schema": "https (only used with a bare host name)",
        "port": "443 (only used with a bare host name)",
    },
}

CONN_FIELDS: dict[str, Any] = {
    "timeout": {
        "label": "Request timeout (seconds)",
        "schema": {
            "type": ["number", "null"],
            "default": TIMEOUT,
            "exclusiveMinimum": SECONDS.low,
            "maximum": SECONDS.high,
        },
        "description": "How long one request to the API may take.",
    },
    "topup_url": {
        "label": "Top-up link",
        "schema": {"type": ["string", "null"], "pattern": "^\\s*[Hh][Tt][Tt][Pp][Ss]://"},
        "description": "Where LOW lines and alerts send people to buy credits (https only). "
        f"Empty: the solo dashboard, {TOP_UP_URL}; enterprise accounts: "
        f"{ENTERPRISE_TOP_UP_URL}",
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "predev-integrations",
        "name": "pre.dev",
        "description": "Credit gate for pre.dev's Architect API: hook, sensor, deferrable "
        "trigger, check operator, and asset watchers for credits back and credits low.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "pre.dev",
                "external-doc-url": "https://docs.pre.dev/api-reference/credits-balance",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": "pre.dev", "python-modules": ["predev_airflow.hooks.predev"]}
        ],
        "sensors": [
            {"integration-name": "pre.dev", "python-modules": ["predev_airflow.sensors.credits"]}
        ],
        "operators": [
            {
                "integration-name": "pre.dev",
                "python-modules": ["predev_airflow.operators.credits"],
            }
        ],
        "triggers": [
            {
                "integration-name": "pre.dev",
                "python-modules": [
                    "predev_airflow.triggers.credits",
                    "predev_airflow.triggers.credits_event",
                    "predev_airflow.triggers.credits_low",
                ],
            }
        ],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS,
                "hook-name": "pre.dev",
                "connection-type": "predev",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
