"""What `pip install predev-integrations` gets: the built wheel and sdist, checked as released.

One run of `devtools.release_check` (what `make release-check` and the release
workflow run: build, twine check, install the wheel into a fresh venv and run the CLI against
the sandbox), offline from the wheelhouse (the fixtures in conftest.py); then the files it
built are opened and listed.
"""

from __future__ import annotations

import email
import email.message
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from devtools import release_check
from predev_integrations import __version__

REPO = Path(__file__).resolve().parents[2]
NAME = "predev_integrations"

pytestmark = pytest.mark.integration


def metadata(text: bytes) -> email.message.Message:
    return email.message_from_bytes(text)


def source_files(folder: str) -> set[str]:
    root = REPO / folder
    return {
        path.relative_to(REPO).as_posix()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_holds_the_two_packages_their_py_typed_the_licence_and_metadata(
    wheel: zipfile.ZipFile,
) -> None:
    info = f"{NAME}-{__version__}.dist-info"
    names = wheel.namelist()
    assert {name.split("/")[0] for name in names} == {NAME, "predev_airflow", info}
    packaged = [name for name in names if not name.startswith(info)]
    assert all(name.endswith((".py", "/py.typed")) for name in packaged), packaged
    assert {f"{NAME}/py.typed", "predev_airflow/py.typed"} <= set(names)
    expected = source_files(NAME) | source_files("predev_airflow")
    assert set(packaged) == {name for name in expected if name.endswith((".py", "py.typed"))}
    assert wheel.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    assert {name.rsplit("/", 1)[1] for name in names if name.startswith(f"{info}/")} == {
        "LICENSE",
        "METADATA",
        "WHEEL",
        "RECORD",
        "entry_points.txt",
        "top_level.txt",
    }


def test_wheel_installs_only_top_level_names_of_our_own(wheel: zipfile.ZipFile) -> None:
    """pip lets a later distribution overwrite a package of the same name without a word, and
    the provider's name is stored in Airflow's database in every deferred trigger's class
    path: so both names must be ours alone (the provider's first name, airflow_provider, was
    not)."""
    info = f"{NAME}-{__version__}.dist-info"
    top_level = wheel.read(f"{info}/top_level.txt").decode().split()
    assert sorted(top_level) == ["predev_airflow", "predev_integrations"]
    assert all(name.startswith("predev_") for name in top_level)


def test_wheel_metadata_states_licence_version_python_and_dependencies(
    wheel: zipfile.ZipFile,
) -> None:
    meta = metadata(wheel.read(f"{NAME}-{__version__}.dist-info/METADATA"))
    assert meta["Name"] == "predev-integrations"
    assert meta["Version"] == __version__
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert "License" not in meta  # the legacy free-text field stays out
    assert meta["Requires-Python"] == ">=3.10"
    requires = meta.get_all("Requires-Dist") or []
    runtime = [Requirement(r) for r in requires if "extra ==" not in r]
    assert runtime == [Requirement(r) for r in release_check.pyproject()["project"]["dependencies"]]
    assert meta.get_all("Provides-Extra") == ["airflow"]
    assert meta.get_content_type() == "text/plain"  # header only; the body is the README
    assert meta["Description-Content-Type"] == "text/markdown"


def test_wheel_entry_points_are_the_ones_pyproject_declares(wheel: zipfile.ZipFile) -> None:
    """The two commands and the Airflow provider's registration."""
    text = wheel.read(f"{NAME}-{__version__}.dist-info/entry_points.txt").decode()
    sections: dict[str, dict[str, str]] = {}
    current = ""
    for line in filter(None, map(str.strip, text.splitlines())):
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = {}
        else:
            key, value = (part.strip() for part in line.split("=", 1))
            sections[current][key] = value
    project = release_check.pyproject()["project"]
    assert sections == {"console_scripts": project["scripts"], **project["entry-points"]}
    assert set(project["scripts"]) == {"predev-credits-check", "predev-sandbox"}
    assert list(project["entry-points"]) == ["apache_airflow_provider"]


def test_sdist_holds_the_sources_the_tests_and_the_licence(sdist: tarfile.TarFile) -> None:
    prefix = f"{NAME}-{__version__}/"
    names = {name.removeprefix(prefix) for name in sdist.getnames()}
    wanted = set().union(*map(source_files, ["tests", NAME, "devtools", "docs"]))
    missing = {name for name in wanted if not name.endswith((".pyc", ".pyo"))} - names
    assert not missing, sorted(missing)
    assert {"LICENSE", "pyproject.toml", "README.md", "CHANGELOG.md"} <= names
    assert {"action.yml", "action-requirements.txt"} <= names
    assert not any("__pycache__" in name or name.startswith(".github") for name in names)
    member = sdist.extractfile(f"{prefix}PKG-INFO")
    assert member is not None
    meta = metadata(member.read())
    assert (meta["Version"], meta["License-Expression"]) == (__version__, "Apache-2.0")


def test_release_check_refuses_a_tag_that_is_not_the_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert release_check.main(["--dist", str(tmp_path), "--tag", "v0.0.0"]) == 1
    assert capsys.readouterr().err == (
        f"release-check: FAILED: tag v0.0.0 does not match the version {__version__}\n"
    )
    assert not list(tmp_path.iterdir())  # nothing was built
