"""The bench's own logic, and a smoke run of `python -m bench` (no timing asserts).

The smoke run covers parts 1 and 3 (venvs, TLS sandbox, every baseline, the import map) in a
few seconds; parts 4-6 need Airflow, pre-commit and pip installs and run only in `make bench`.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench import imports, venvs
from bench.harness import interleave
from bench.table import Row, render

ROOT = Path(__file__).resolve().parents[2]

#: `-X importtime` output (post-order, two spaces per level), trimmed from a real cache hit.
IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       226 |       1140 | site
import time:      1144 |       1144 |         enum
import time:       334 |       2324 |       re
import time:      1685 |       6284 |     typing
import time:       183 |       6552 |   predev_integrations
import time:       628 |       1176 |   argparse
import time:       268 |       9811 | predev_integrations._cli.main
import time:       633 |        673 | locale
import time:      1723 |       1723 |     _hashlib
import time:       176 |       2019 |   hashlib
import time:       112 |       4307 | predev_integrations._cli.cache
"""


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


def test_importtime_lines_get_the_module_that_imported_them() -> None:
    parents = {imp.name: imp.parent for imp in imports.parse(IMPORTTIME)}
    assert parents == {
        "site": None,
        "enum": "re",
        "re": "typing",
        "typing": "predev_integrations",
        "predev_integrations": "predev_integrations._cli.main",
        "argparse": "predev_integrations._cli.main",
        "predev_integrations._cli.main": None,
        "locale": None,
        "_hashlib": "hashlib",
        "hashlib": "predev_integrations._cli.cache",
        "predev_integrations._cli.cache": None,
    }


def test_the_import_map_blames_the_first_of_our_modules_and_skips_the_baseline() -> None:
    cost = imports.cost([imports.parse(IMPORTTIME)], baseline={"site"})
    assert "site" not in cost.per_package
    assert cost.pulled_by["enum"] == "predev_integrations"  # via typing and re
    assert cost.pulled_by["locale"] == imports.RUN_TIME
    assert cost.entry_points == {
        "predev_integrations → typing": 6.284,
        "predev_integrations._cli.cache → hashlib": 2.019,
        "predev_integrations._cli.main → argparse": 1.176,
        f"{imports.RUN_TIME} → locale": 0.673,
    }
    assert set(imports.avoidable_on_cache_hit(cost)) == {
        "typing",
        "re",
        "enum",
        "argparse",
        "locale",
    }


@pytest.mark.integration
def test_quick_bench_prints_one_table_and_the_import_map() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "1,3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pdk_bench_" not in proc.stdout + proc.stderr  # the bench key never printed
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    measures = {row.split("|")[2].strip() for row in rows}
    assert {
        "Cache-hit CLI run vs `python -c pass`",
        "Live CLI check vs the bare httpx one-liner",
        "Vendor's requests snippet vs the standard library",
        "Cache hit: time beyond `python -c pass`",
        "Standard library: time beyond `python -c pass`",
    } <= measures
    assert not [row for row in rows if "n/a (failed)" in row]
    assert "#### Cache hit: imports beyond `python -c pass`" in proc.stdout


def test_an_unknown_part_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "no part 2" in proc.stderr


def test_the_wheel_is_rebuilt_when_a_source_changes_and_only_then(tmp_path: Path) -> None:
    package = tmp_path / "predev_integrations"
    (package / "__pycache__").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (package / "cli.py").write_text("A = 1\n")
    before = venvs.source_digest(tmp_path)
    (package / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"compiled")
    assert venvs.source_digest(tmp_path) == before
    (package / "cli.py").write_text("A = 2\n")
    assert venvs.source_digest(tmp_path) != before


def test_growth_evidence_counts_each_family_at_each_day_of_readings() -> None:
    """`--growth-evidence`: one row per family and day; an idle key shows no growth, and a
    team counted past a stricter limit is counted past every looser one."""
    from bench import runway_eval

    table = runway_eval.growth_evidence(["growing", "idle"], range(3))
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()[2:]]
    days = [str(d) for d in runway_eval.EVIDENCE_DAYS]
    assert [(r[0], r[1]) for r in rows] == [(f, d) for f in ("growing", "idle") for d in days]
    for family, _days, median, *reached in rows:
        counts = [int(cell.split(" of ")[0]) for cell in reached]
        assert counts == sorted(counts, reverse=True)
        if family == "idle":
            assert (median, counts) == ("+0.0", [0, 0, 0])
    assert any(int(r[3].split(" of ")[0]) for r in rows if r[0] == "growing")


def test_the_office_reference_spends_only_in_office_hours() -> None:
    """10 credits an hour from 09:00 to 17:00 UTC on weekdays, from Monday 00:00."""
    from bench import runway_eval
    from bench.runway_traces import EPOCH, HOUR, Trace

    team = Trace("office", 0, EPOCH, EPOCH, 0.0, office_hours=(0.0, 9.0, 17.0))
    walk = [runway_eval._office_walk(team, EPOCH, need, 10 / HOUR) for need in (80, 90, 400, 410)]
    assert walk == [pytest.approx(h * HOUR) for h in (17, 34, 4 * 24 + 17, 7 * 24 + 10)]


def test_office_limits_put_ours_beside_references_that_know_more() -> None:
    """`--office-limits`: the same points for each; knowing the team's pace beats ours."""
    from bench import runway_eval

    table = runway_eval.office_limits(range(2))
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()[2:]]
    assert [r[0] for r in rows] == [
        "ours",
        "office hours known, pace so far",
        "office hours and pace known",
    ]
    assert len({r[1] for r in rows}) == 1
    assert int(rows[0][1]) > 100
    median = {r[0]: float(r[2].split("%")[0]) for r in rows}
    assert median["office hours and pace known"] < median["ours"]


def test_the_oracle_chance_follows_the_batch_schedule() -> None:
    """A reference told the process: a week's run is certain to be more than 5 specs of the
    cheapest cost and cannot be more than 60 of the dearest; nothing runs between the weeks'
    slots but a second run."""
    from bench import runway_eval
    from bench.runway_traces import DAY, HOUR, trace

    tr = trace("batch_varied", 0)
    assert tr.batch_at is not None
    slot = tr.batch_at + 3 * 7 * DAY  # a week inside the trace
    rng = random.Random(1)

    def chance(now: float, need: float, horizon: float) -> float:
        return runway_eval._oracle_chance(tr, now, need, horizon, rng)

    # The next 6 hours before a slot hold no run at all.
    assert chance(slot - 6 * HOUR - 1, 1, 6 * HOUR) == 0
    # Across the slot: the run comes unless the week is skipped (15 %).
    assert 0.78 < chance(slot - HOUR, 1, 2 * HOUR) < 0.92
    # No run costs more than 60 Deep Specs at 50.
    assert chance(slot - HOUR, 60 * 50 + 1, 2 * HOUR) == 0


def test_batch_oracle_puts_ours_beside_a_reference_told_the_process() -> None:
    """`--batch-oracle`: ours by the gate rule and the reference at each risk, on the same
    points; a reference that alarms at a lower risk alarms at least as often."""
    from bench import runway_eval

    table = runway_eval.batch_oracle(range(1), stride=4)
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in table.splitlines()[2:]]
    assert [r[0] for r in rows] == [
        "ours",
        *(f"told the process, {r:g}" for r in runway_eval.ORACLE_RISKS),
    ]
    assert len({r[1] for r in rows}) == 1
    assert int(rows[0][1]) > 50
    told = [[float(x.strip(" %")) for x in r[2].split("/")] for r in rows[1:]]
    for lower, higher in itertools.pairwise(told):
        assert all(a >= b for a, b in zip(lower, higher, strict=True))
