"""`make resolution-check`: the dev venv uv installed against pip's resolution (offline here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools import resolution_check


def report(**versions: str) -> dict[str, object]:
    """A pip `--report` with just what the check reads."""
    return {"install": [{"metadata": {"name": n, "version": v}} for n, v in versions.items()]}


def test_names_are_compared_as_pip_spells_them_apart() -> None:
    pip = resolution_check.resolved(report(Kombu="5.7.0", **{"typing_extensions": "4.15.0"}))
    assert pip == {"kombu": "5.7.0", "typing-extensions": "4.15.0"}


def test_every_kind_of_difference_is_one_line() -> None:
    pip = {"kombu": "5.7.0", "packaging": "26.3", "redis": "8.2.0"}
    venv = {"kombu": "5.6.2", "packaging": "26.3", "valkey": "6.1.0", "setuptools": "65.5.0"}
    assert resolution_check.differences(pip, venv) == [
        "kombu: pip 5.7.0, venv 5.6.2",
        "redis: pip 8.2.0, venv (missing)",
        "valkey: pip (not installed), venv 6.1.0",
    ]


def test_this_venv_against_its_own_versions_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = resolution_check.installed()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report(**installed)), encoding="utf-8")
    assert resolution_check.main([str(path)]) == 0
    assert capsys.readouterr().out == (
        f"resolution-check: {len(installed)} packages, the same as pip's\n"
    )
    installed["kombu"] = "0.1"
    path.write_text(json.dumps(report(**installed)), encoding="utf-8")
    assert resolution_check.main([str(path)]) == 1
    assert "kombu: pip 0.1, venv " in capsys.readouterr().out
