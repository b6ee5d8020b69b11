"""The key stays in its wrapper until it goes on the wire (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("predev_integrations", "predev_airflow")


def _reveal_calls() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Attribute) and node.attr == "reveal":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_the_request_builder_reveals_the_key() -> None:
    calls = [c for c in _reveal_calls() if not c.startswith("predev_integrations/_core/secret.py")]
    assert [c.split(":")[0] for c in calls] == ["predev_integrations/_core/protocol.py"], calls
