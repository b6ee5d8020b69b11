"""One rule for a number handed to the gate, at every door (issue 16).

A floor of NaN passes every balance (nothing is below NaN): the gate would always open. So
NaN, the infinities, booleans, text that is no number and numbers beyond the documented range
are refused by every entry point that takes a floor (the CLI's flags, the config file, the
check operator, the sensor in both modes, and both triggers), each with one line naming the
parameter: exit 2 from the CLI, an `AirflowException` from Airflow, never an OverflowError.
A numeric string from a rendered template keeps working where fields are templated.

The CLI rows run here too, in-process, so that one matrix shows every door; they need no
Airflow, but this folder does (its conftest sets Airflow up before it is imported).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from predev_airflow._compat import AirflowException
from predev_airflow.operators.credits import PreDevCreditsCheckOperator
from predev_airflow.sensors.credits import PreDevCreditsSensor
from predev_airflow.triggers.credits import PreDevCreditsTrigger
from predev_airflow.triggers.credits_event import PreDevCreditsEventTrigger
from predev_airflow.triggers.credits_low import PreDevCreditsLowTrigger
from predev_integrations._cli.main import main
from predev_integrations.sandbox import Sandbox

HUGE = "1" + "0" * 400  # 10**400: beyond float range, so float() of it overflows

#: (as a Python value, as a flag's text, as YAML), one per way a floor can be wrong.
HOSTILE = [
    pytest.param(math.nan, "nan", ".nan", id="nan"),
    pytest.param(math.inf, "inf", ".inf", id="+inf"),
    pytest.param(-math.inf, "-inf", "-.inf", id="-inf"),
    pytest.param(True, "true", "true", id="True"),
    pytest.param("nan", "nan", "'nan'", id="'nan'"),
    pytest.param("abc", "abc", "abc", id="'abc'"),
    pytest.param(10**400, HUGE, HUGE, id="10**400"),
    pytest.param("1e400", "1e400", "'1e400'", id="'1e400'"),
]

#: A valid setting for every parameter, so that each row varies exactly one.
VALID: dict[str, Any] = {"min_credits": 100, "warn_below": 200, "poke_interval": 30}


@dataclass
class Case:
    value: Any
    flag_text: str
    yaml_text: str
    tmp_path: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch


def printed(case: Case) -> str:
    captured = case.capsys.readouterr()
    return (captured.err + captured.out).strip()


def raised(make: Callable[[], object]) -> str:
    with pytest.raises(AirflowException) as refused:
        make()
    return str(refused.value)


def cli_flag(name: str, case: Case) -> str:
    with pytest.raises(SystemExit) as exited:
        main([f"--{name.replace('_', '-')}", case.flag_text])
    assert exited.value.code == 2
    return printed(case)


def config_file(name: str, case: Case) -> str:
    path = case.tmp_path / ".predev-credits.yml"
    path.write_text(f"{name}: {case.yaml_text}\n")
    assert main(["--config", str(path)]) == 2
    return printed(case)


def check_operator(name: str, case: Case) -> str:
    def run() -> None:
        settings = {"min_credits": 100, "warn_below": 200, name: case.value}
        operator = PreDevCreditsCheckOperator(task_id="check", **settings)
        operator.execute({})

    return raised(run)


def sensor_poke(name: str, case: Case) -> str:
    def run() -> None:
        settings = {"min_credits": 100, "warn_below": 200, name: case.value}
        PreDevCreditsSensor(task_id="wait", deferrable=False, **settings).poke({})

    return raised(run)


def sensor_deferrable(name: str, case: Case) -> str:
    def run() -> None:
        settings = {"min_credits": 100, "warn_below": 200, name: case.value}
        sensor = PreDevCreditsSensor(task_id="wait", deferrable=True, **settings)
        case.monkeypatch.setattr(sensor, "defer", lambda **kwargs: None)
        sensor.execute({})

    return raised(run)


def trigger(name: str, case: Case) -> str:
    return raised(lambda: PreDevCreditsTrigger("predev_default", **{**VALID, name: case.value}))


def event_trigger(name: str, case: Case) -> str:
    settings = {"min_credits": 100, "poke_interval": 30, "min_increase": 10, name: case.value}
    return raised(lambda: PreDevCreditsEventTrigger(**settings))


def low_trigger(name: str, case: Case) -> str:
    settings = {
        "threshold": 100,
        "poke_interval": 30,
        "rearm_above": 150,
        "min_runway": 3_600,
        name: case.value,
    }
    return raised(lambda: PreDevCreditsLowTrigger(**settings))


#: Every entry point and the numbers it takes.
DOORS: list[tuple[Callable[[str, Case], str], tuple[str, ...]]] = [
    (cli_flag, ("min_credits", "warn_below")),
    (config_file, ("min_credits", "warn_below")),
    (check_operator, ("min_credits", "warn_below")),
    (sensor_poke, ("min_credits", "warn_below")),
    (sensor_deferrable, ("min_credits", "warn_below")),
    (trigger, ("min_credits", "warn_below", "poke_interval")),
    (event_trigger, ("min_credits", "min_increase", "poke_interval")),
    (low_trigger, ("threshold", "poke_interval", "rearm_above", "min_runway", "runway_risk")),
    (cli_flag, ("runway_risk",)),
    (config_file, ("runway_risk",)),
]
ROWS = [
    pytest.param(door, name, id=f"{door.__name__}-{name}")
    for door, names in DOORS
    for name in names
]


@pytest.mark.parametrize(("door", "name"), ROWS)
@pytest.mark.parametrize(("value", "flag_text", "yaml_text"), HOSTILE)
def test_every_door_refuses_a_hostile_number_in_one_line_naming_it(
    door: Callable[[str, Case], str],
    name: str,
    value: Any,
    flag_text: str,
    yaml_text: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    cli_env: dict[str, str],
    predev_conn: str,
    sandbox: Sandbox,
) -> None:
    for variable, setting in cli_env.items():  # whatever gets through meets the sandbox
        monkeypatch.setenv(variable, setting)
    line = door(name, Case(value, flag_text, yaml_text, tmp_path, capsys, monkeypatch))
    assert (name.replace("_", "-") if door is cli_flag else name) in line
    assert "\n" not in line
    assert len(line) < 300
    assert "Overflow" not in line
    assert sandbox.requests == 0  # refused before anything is asked


@pytest.mark.parametrize(
    "make",
    [
        lambda: PreDevCreditsTrigger("predev_default", min_credits="50", poke_interval=30),  # type: ignore[arg-type]
        lambda: PreDevCreditsEventTrigger(min_credits="50"),  # type: ignore[arg-type]
        lambda: PreDevCreditsLowTrigger(threshold="50"),  # type: ignore[arg-type]
    ],
    ids=["trigger", "event-trigger", "low-trigger"],
)
def test_triggers_take_numbers_not_text(make: Callable[[], object]) -> None:
    """Nothing renders a trigger's arguments: text there is a mistake in the DAG file."""
    assert re.search("min_credits|threshold", raised(make))


@pytest.mark.parametrize(("floor", "passes"), [("50", True), ("500", False)])
def test_a_rendered_floor_works_in_the_check_operator(
    floor: str, passes: bool, sandbox: Sandbox, predev_conn: str
) -> None:
    operator = PreDevCreditsCheckOperator(
        task_id="check", min_credits="{{ params.floor }}", warn_below="{{ params.warn }}"
    )
    operator.render_template_fields({"params": {"floor": floor, "warn": " 600 "}})
    assert operator.min_credits == floor
    if passes:
        assert operator.execute({}) == 450
    else:
        with pytest.raises(AirflowException, match="below the floor of 500"):
            operator.execute({})
    assert sandbox.requests == 1


@pytest.mark.parametrize(("floor", "passes"), [("50", True), ("500", False)])
def test_a_rendered_floor_works_in_the_sensor(
    floor: str,
    passes: bool,
    sandbox: Sandbox,
    predev_conn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def make(deferrable: bool) -> PreDevCreditsSensor:
        sensor = PreDevCreditsSensor(
            task_id="wait", min_credits="{{ params.floor }}", deferrable=deferrable
        )
        sensor.render_template_fields({"params": {"floor": floor}})
        return sensor

    assert make(deferrable=False).poke({}).is_done is passes
    deferred: list[Any] = []
    sensor = make(deferrable=True)
    monkeypatch.setattr(sensor, "defer", lambda **kwargs: deferred.append(kwargs["trigger"]))
    result = sensor.execute({})
    if passes:
        assert result == 450
        assert deferred == []
    else:
        assert [t.serialize()[1]["min_credits"] for t in deferred] == [500]
