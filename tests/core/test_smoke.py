"""End-to-end smoke: the CLI against the sandbox gives the documented exit codes."""

from __future__ import annotations

from typing import Any


def test_passes_at_or_above_floor(run_cli: Any) -> None:
    result = run_cli("--min-credits", "450")
    assert result.code == 0
    assert "450 remaining" in result.stdout


def test_fails_below_floor(run_cli: Any) -> None:
    result = run_cli("--min-credits", "451")
    assert result.code == 1
    assert "LOW" in result.stdout
