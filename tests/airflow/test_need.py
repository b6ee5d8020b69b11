"""A gate sized by the work (`need`), in real DAG runs (`dag.test()`): the batch is planned by an
upstream task, the gate's need comes from it at run time, and the mapped spec tasks spend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from predev_integrations.sandbox import Sandbox
from tests.airflow.test_dags import DAG_TEST_SHOWS_TASK_ERRORS, GATE

RunDag = Callable[[str], Any]

SHORT = "620 pre.dev credits remaining, short by 30 credits for the 12 Deep Specs planned"
ENOUGH = (
    "700 pre.dev credits remaining: enough for the 12 Deep Specs planned (at most 600 credits) "
    "and the floor 50."
)


def spends(sandbox: Sandbox) -> list[int]:
    """Where in the sandbox's log each spend sits (balance requests and spends, in order)."""
    return [i for i, entry in enumerate(sandbox.log) if entry["path"] == "/_sandbox/spend"]


def reads(sandbox: Sandbox) -> list[int]:
    return [i for i, entry in enumerate(sandbox.log) if entry["path"] == "/credits-balance"]


def test_an_xcomarg_sizes_the_deferred_sensor_which_waits_until_the_batch_is_covered(
    run_dag: RunDag, sandbox: Sandbox, rise: Callable[[float, float], None]
) -> None:
    sandbox.configure(balance=620)
    rise(1.5, 700)
    result = run_dag("predev_need_xcomarg")
    assert result.state == "success"
    assert "[DAG TEST] running trigger in line" in result.output
    assert f"{SHORT} (at most 600); checking again in 0.5 s" in result.output
    assert result.tasks["spend_spec"][0] == "success"
    assert len(spends(sandbox)) == 12
    assert max(reads(sandbox)) < min(spends(sandbox))  # nothing spent before the gate passed
    assert len(reads(sandbox)) >= 2
    assert sandbox.state.current_balance() == 100


def test_a_template_rendered_as_text_sizes_the_sensor(run_dag: RunDag, sandbox: Sandbox) -> None:
    sandbox.configure(balance=700)
    result = run_dag("predev_need_jinja")
    assert result.state == "success"
    assert ENOUGH in result.output
    assert len(spends(sandbox)) == 12
    assert sandbox.requests == 1


@pytest.mark.parametrize(("balance", "state"), [(620, "failed"), (700, "success")])
def test_the_check_operator_fails_short_of_the_batch_without_retries(
    run_dag: RunDag, sandbox: Sandbox, balance: int, state: str
) -> None:
    sandbox.configure(balance=balance)
    result = run_dag("predev_need_check")
    assert result.state == state
    assert result.tasks[GATE] == (state, 1)
    if state == "failed":
        assert result.tasks["spend_spec"][0] == "upstream_failed"
        assert spends(sandbox) == []
        if DAG_TEST_SHOWS_TASK_ERRORS:
            assert (
                "620 credits remaining, short by 30 credits for the 12 Deep Specs planned "
                "(at most 600); top up at"
            ) in result.output
    else:
        assert len(spends(sandbox)) == 12


def test_a_bad_need_fails_the_task_at_once_with_the_clis_line(
    run_dag: RunDag, sandbox: Sandbox
) -> None:
    result = run_dag("predev_need_bad")
    assert result.state == "failed"
    assert result.tasks[GATE] == ("failed", 1)  # retries=2: none used
    assert sandbox.requests == 0  # refused before any request
    if DAG_TEST_SHOWS_TASK_ERRORS:
        assert "need names the unknown spec kind 'ultra'; the kinds are deep or fast" in (
            result.output
        )


@pytest.mark.parametrize(
    ("need", "says"),
    [
        ("12 ultra", "need names the unknown spec kind 'ultra'"),
        (-5, "need must be a number >= 0"),
        (float("nan"), "need must be a finite number"),
        ("12 deep at 60", "is not a count and a kind"),
    ],
)
def test_a_literal_bad_need_is_refused_when_the_dag_is_parsed(need: object, says: str) -> None:
    from predev_airflow._compat import AirflowException
    from predev_airflow.operators.credits import PreDevCreditsCheckOperator
    from predev_airflow.sensors.credits import PreDevCreditsSensor

    for gate in (PreDevCreditsSensor, PreDevCreditsCheckOperator):
        with pytest.raises(AirflowException, match=None) as caught:
            gate(task_id="gate", min_credits=50, need=need)
        assert says in str(caught.value)


def test_templates_are_left_for_execute_and_need_is_templated() -> None:
    from predev_airflow.operators.credits import PreDevCreditsCheckOperator
    from predev_airflow.sensors.credits import PreDevCreditsSensor

    for gate in (PreDevCreditsSensor, PreDevCreditsCheckOperator):
        assert "need" in gate.template_fields
        assert "spec_cost" in gate.template_fields
        gate(task_id="gate", min_credits=50, need="{{ params.n }} deep")


def test_the_trigger_carries_the_need_and_serializes_as_before_without_one() -> None:
    from predev_airflow.triggers.credits import PreDevCreditsTrigger

    plain = PreDevCreditsTrigger("predev_default", 50, 1.0)
    assert set(plain.serialize()[1]) == {
        "predev_conn_id",
        "min_credits",
        "poke_interval",
        "warn_below",
    }
    sized = PreDevCreditsTrigger(
        "predev_default", 50, 1.0, need="12 deep", spec_cost={"deep": 40, "fast": 10}
    )
    path, kwargs = sized.serialize()
    assert (kwargs["need"], kwargs["spec_cost"]) == ("12 deep", {"deep": 40, "fast": 10})
    again = PreDevCreditsTrigger(**kwargs)
    assert again.need is not None
    assert again.need.credits == 480
    assert path.endswith("PreDevCreditsTrigger")
