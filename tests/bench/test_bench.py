"""Smoke test of `python -m bench`: every part still runs and reports. No timing asserts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import interleave
from bench.table import Row, render

ROOT = Path(__file__).resolve().parents[2]


def test_interleave_rotates_order_and_drops_warmup() -> None:
    order: list[str] = []
    cases = {name: (lambda name=name: order.append(name)) for name in "abc"}
    samples = interleave(cases, repeats=3, warmup=1)
    assert order == list("abcbcacababc")
    assert {name: len(s) for name, s in samples.items()} == {"a": 3, "b": 3, "c": 3}


def test_render_marks_missed_targets_and_escapes_nothing_into_new_rows() -> None:
    table = render([Row("1", "x", "2 ms", "1 ms", "2.00x", "≤ 1.5x", False, "a\nb")])
    header, _rule, row = table.splitlines()
    assert header.startswith("| # | Measure |")
    assert row.count("|") == header.count("|")
    assert "**NO**" in row


@pytest.mark.integration
def test_quick_bench_prints_one_table_with_every_part() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pdk_bench_" not in proc.stdout + proc.stderr  # the bench key never printed
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")][1:]
    parts = {row.split("|")[1].strip() for row in rows}
    assert parts == {"1", "2", "3", "4", "5", "6"}
    assert not [row for row in rows if "n/a (failed)" in row]
