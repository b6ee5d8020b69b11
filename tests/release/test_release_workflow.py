"""`.github/workflows/release.yml`: what it promises, and its scripts run with a fake `gh`.

The linters (zizmor, actionlint, check-jsonschema) and the SHA-pinning rules run on every
workflow in `tests/action/test_action_lint.py`; here: the files published are the files built
and checked, the tools come from a hashed lock, and the release and major-tag steps do what
they say when run by bash.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import lockfile
from predev_integrations import __version__

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
SHA = "0123456789abcdef0123456789abcdef01234567"


def load() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def step(job: str, name_starts: str) -> dict[str, Any]:
    [found] = [s for s in load()["jobs"][job]["steps"] if s.get("name", "").startswith(name_starts)]
    assert isinstance(found, dict)
    return found


def runs(job: str) -> str:
    return "\n".join(s.get("run", "") for s in load()["jobs"][job]["steps"])


def uses(job: str) -> list[str]:
    return [s["uses"].split("@")[0] for s in load()["jobs"][job]["steps"] if "uses" in s]


def test_runs_only_for_a_pushed_version_tag() -> None:
    # PyYAML reads the bare key `on` as True.
    assert load()[True] == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+"]}}


def test_every_job_holds_only_what_it_uses() -> None:
    jobs = load()["jobs"]
    assert load()["permissions"] == {}
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "build": {"contents": "read"},
        "pypi": {"id-token": "write"},
        "github-release": {"contents": "write"},
    }


def test_the_files_published_are_the_ones_built_and_checked_once() -> None:
    jobs = load()["jobs"]
    assert "devtools.release_check --tag" in runs("build")
    assert "devtools.release_check" in (REPO / "Makefile").read_text(encoding="utf-8")
    assert uses("build")[-1] == "actions/upload-artifact"
    for job in ("pypi", "github-release"):
        assert "actions/download-artifact" in uses(job)
        assert "build" not in runs(job)
    assert jobs["pypi"]["needs"] == "build"
    assert jobs["github-release"]["needs"] == "pypi"


def test_pypi_is_reached_by_trusted_publishing_with_attestations_and_no_token() -> None:
    job = load()["jobs"]["pypi"]
    [publish] = [s for s in job["steps"] if s.get("uses", "").startswith("pypa/")]
    assert publish["with"] == {"attestations": True}
    assert job["environment"]["name"] == "pypi"
    assert "secrets." not in WORKFLOW.read_text(encoding="utf-8")


def test_the_release_tools_come_from_a_hashed_lock() -> None:
    installs = [line for line in runs("build").splitlines() if "pip install" in line]
    assert installs
    assert "--require-hashes" in runs("build")
    assert "--requirement .github/release-requirements.txt" in runs("build")
    pins = lockfile.read(REPO / ".github" / "release-requirements.txt")
    assert {"build", "twine", "setuptools"} <= {pin.name for pin in pins}
    assert all(pin.hashes for pin in pins)


# --- the scripts, run by bash with a fake gh ----------------------------------------------------


@pytest.fixture
def fake_gh(tmp_path: Path) -> Path:
    """A `gh` that logs its arguments; `gh api .../git/ref/tags/vN` fails unless $TAG_EXISTS."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/usr/bin/env bash\n"
        'printf "%s\\n" "$*" >> "$GH_LOG"\n'
        'case "$*" in "api repos/"*"/git/ref/tags/"*) [ -n "${TAG_EXISTS:-}" ];; esac\n',
        encoding="utf-8",
    )
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_step(
    script: str, cwd: Path, bin_dir: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = cwd / "gh.log"
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GH_LOG": str(log),
            "GITHUB_REPOSITORY": "predev/credits-check",
            "GITHUB_SHA": SHA,
            "RUNNER_TEMP": str(cwd),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return proc, log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_the_release_carries_this_versions_changelog_section_and_the_files(
    tmp_path: Path, fake_gh: Path
) -> None:
    shutil.copy(REPO / "CHANGELOG.md", tmp_path)
    (tmp_path / "dist").mkdir()
    for name in ("a.whl", "a.tar.gz"):
        (tmp_path / "dist" / name).write_text("", encoding="utf-8")
    script = step("github-release", "Create the release")["run"]
    proc, calls = run_step(script, tmp_path, fake_gh, TAG=f"v{__version__}")
    assert proc.returncode == 0, proc.stderr
    assert calls == [
        f"release create v{__version__} dist/a.tar.gz dist/a.whl --verify-tag "
        f"--title v{__version__} --notes-file {tmp_path}/notes.md"
    ]
    notes = (tmp_path / "notes.md").read_text(encoding="utf-8")
    assert notes.lstrip().startswith("The first release")
    assert "### Added" in notes
    assert "## [" not in notes  # only this version's section


def test_no_changelog_section_no_release(tmp_path: Path, fake_gh: Path) -> None:
    shutil.copy(REPO / "CHANGELOG.md", tmp_path)
    script = step("github-release", "Create the release")["run"]
    proc, calls = run_step(script, tmp_path, fake_gh, TAG="v99.0.0")
    assert proc.returncode == 1
    assert proc.stdout == "::error title=release::CHANGELOG.md has no section for 99.0.0\n"
    assert calls == []


@pytest.mark.parametrize(
    ("exists", "call"),
    [
        (
            "",
            "api --method POST repos/predev/credits-check/git/refs "
            f"-f ref=refs/tags/v2 -f sha={SHA}",
        ),
        (
            "1",
            "api --method PATCH repos/predev/credits-check/git/refs/tags/v2 "
            f"-f sha={SHA} -F force=true",
        ),
    ],
)
def test_the_major_tag_is_created_or_moved_to_the_released_commit(
    tmp_path: Path, fake_gh: Path, exists: str, call: str
) -> None:
    script = step("github-release", "Move the major tag")["run"]
    proc, calls = run_step(script, tmp_path, fake_gh, TAG="v2.3.4", TAG_EXISTS=exists)
    assert proc.returncode == 0, proc.stderr
    assert calls == ["api repos/predev/credits-check/git/ref/tags/v2", call]
    assert proc.stdout == f"v2 -> v2.3.4 ({SHA})\n"
