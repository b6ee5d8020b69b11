"""The Action's lock (`action-requirements.txt`) still satisfies pyproject.toml, everywhere.

Offline: both files are parsed, and the lock's markers are evaluated for each platform and
Python the Action supports. `make lock` regenerates the lock when this fails.
"""

from __future__ import annotations

import itertools
from importlib import metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools import lockfile
from devtools.lockfile import Pin
from devtools.release_check import pyproject

PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
PLATFORMS = {  # sys_platform: (platform_system, os_name)
    "linux": ("Linux", "posix"),
    "darwin": ("Darwin", "posix"),
    "win32": ("Windows", "nt"),
}
ENVIRONMENTS = list(itertools.product(PYTHONS, PLATFORMS))


def environment(python: str, platform: str) -> dict[str, str]:
    system, os_name = PLATFORMS[platform]
    env = {key: str(value) for key, value in default_environment().items()}
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        sys_platform=platform,
        platform_system=system,
        os_name=os_name,
        implementation_name="cpython",
        platform_python_implementation="CPython",
        extra="",
    )
    return env


def project_dependencies() -> list[Requirement]:
    return [Requirement(text) for text in pyproject()["project"]["dependencies"]]


def pins_for(pins: list[Pin], env: dict[str, str]) -> dict[str, Pin]:
    active = [pin for pin in pins if pin.applies(env)]
    names = [pin.name for pin in active]
    assert len(names) == len(set(names)), f"two pins of one package apply on {env['sys_platform']}"
    return {pin.name: pin for pin in active}


def unmet(requirements: list[Requirement], pins: dict[str, Pin], env: dict[str, str]) -> list[str]:
    """The requirements (applying on `env`) that no pin of the lock satisfies."""
    problems = []
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None or not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} (locked: {pin.version if pin else 'nothing'})")
    return problems


@pytest.fixture(scope="module")
def pins() -> list[Pin]:
    return lockfile.read()


def test_every_line_is_an_exact_pin_with_hashes_and_says_how_to_regenerate(
    pins: list[Pin],
) -> None:
    assert pins
    assert all(pin.hashes for pin in pins)
    assert "make lock" in lockfile.LOCK.read_text(encoding="utf-8").split("\n\n")[0]


@pytest.mark.parametrize(("python", "platform"), ENVIRONMENTS)
def test_the_lock_satisfies_pyproject_on_every_supported_python_and_platform(
    pins: list[Pin], python: str, platform: str
) -> None:
    env = environment(python, platform)
    assert unmet(project_dependencies(), pins_for(pins, env), env) == []


@pytest.mark.parametrize(("python", "platform"), ENVIRONMENTS)
def test_the_lock_is_closed_over_the_dependencies_of_what_it_pins(
    pins: list[Pin], python: str, platform: str
) -> None:
    """Each locked package's own requirements (read from its installed metadata, when the
    version installed here is the locked one) are locked too: --no-deps misses nothing."""
    env = environment(python, platform)
    active = pins_for(pins, env)
    checked = 0
    for pin in active.values():
        try:
            dist = metadata.distribution(pin.name)
        except metadata.PackageNotFoundError:
            continue
        if canonicalize_name(dist.metadata["Name"]) != pin.name or dist.version != str(pin.version):
            continue
        checked += 1
        requirements = [Requirement(text) for text in dist.requires or []]
        assert unmet(requirements, active, env) == [], pin.name
    assert checked >= len(active) // 2, "too few locked versions are installed here to check"


def test_pyyaml_has_a_wheel_hash_for_each_python_and_os(pins: list[Pin]) -> None:
    """PyYAML ships compiled wheels per platform; the lock must not hold only this machine's."""
    [pyyaml] = [pin for pin in pins if pin.name == "pyyaml"]
    assert len(pyyaml.hashes) >= len(ENVIRONMENTS)


def test_a_lock_that_falls_outside_a_range_is_reported() -> None:
    """The check above can fail: a pin outside pyproject's range is named."""
    [pin] = lockfile.parse("httpx==1.0.0 --hash=sha256:" + "0" * 64)
    env = environment("3.12", "linux")
    assert unmet([Requirement("httpx>=0.27,<1")], {pin.name: pin}, env) == [
        "httpx<1,>=0.27 (locked: 1.0.0)"
    ]
    assert unmet([Requirement("pyyaml>=6")], {}, env) == ["pyyaml>=6 (locked: nothing)"]


def test_the_parser_refuses_a_line_that_is_not_an_exact_pin() -> None:
    with pytest.raises(ValueError, match="not an exact pin"):
        lockfile.parse("httpx>=0.27 --hash=sha256:" + "0" * 64)
