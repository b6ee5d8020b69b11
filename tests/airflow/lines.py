"""Which Airflow line the tests run on, for assertions that differ by line (and say why)."""

from __future__ import annotations

from airflow import __version__
from packaging.version import Version

AIRFLOW = Version(Version(__version__).base_version)


def since(version: str) -> bool:
    """This Airflow is `version` or newer."""
    return Version(version) <= AIRFLOW
