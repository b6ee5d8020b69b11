"""What the sensor, the operator and the trigger share: error classes, messages, one check."""

from __future__ import annotations

from typing import Any, Protocol

from predev_integrations._core.need import (
    Need,
    covered,
    enough_phrase,
    need_value,
    short_phrase,
    shortfall,
)
from predev_integrations._core.ranges import CREDITS, Range, number_value
from predev_integrations._core.verdict import Balance, Verdict, evaluate
from predev_integrations.errors import (
    ConfigError,
    MissingContextError,
    PreDevError,
    UnauthorizedError,
)

from ._compat import AirflowException, AirflowFailException, emit_gauge
from .hooks.predev import PreDevHook, PreDevSettings

#: Errors no amount of waiting or retrying fixes: the key or the connection must change.
FATAL_ERRORS = (MissingContextError, UnauthorizedError, ConfigError)


def describe(error: Exception) -> str:
    """One line for a log, an event or a failure; the core's messages never carry the key."""
    if isinstance(error, PreDevError):
        return error.describe()
    return str(error) or type(error).__name__


def fatal(error: Exception | str) -> AirflowFailException:
    """Fails the task at once, without retries."""
    text = error if isinstance(error, str) else describe(error)
    return AirflowFailException(f"pre.dev credits check failed: {text}")


def read_balance(hook: PreDevHook) -> tuple[Balance, PreDevSettings]:
    """One blocking check with its gauge, and the connection's settings (for its top-up
    link). Fatal errors become `AirflowFailException`; transient ones (`ApiError`) are left
    to the caller: wait, or fail with retries."""
    try:
        settings = hook.get_settings()
        balance = hook.get_credits_balance(settings)
    except FATAL_ERRORS as error:
        raise fatal(error) from None
    emit_gauge(balance, hook.predev_conn_id)
    return balance, settings


class _Log(Protocol):
    """Airflow's task logger (structlog in 3.x) or a stdlib logger: only these two calls."""

    def info(self, msg: str, /, *args: Any) -> Any: ...
    def warning(self, msg: str, /, *args: Any) -> Any: ...


def log_enough(
    log: _Log,
    balance: Balance,
    floor: float,
    verdict: Verdict,
    warn_below: Any,
    *,
    need: Need | None = None,
) -> None:
    """The one line a passing check logs: a warning when running low, else the balance; with
    a need, what it was enough for, in specs."""
    if need is not None:
        low = ", but running low after them" if verdict is Verdict.WARN else ""
        say = log.warning if verdict is Verdict.WARN else log.info
        say("%g pre.dev credits remaining: %s%s.", balance, enough_phrase(need, floor), low)
        return
    if verdict is Verdict.WARN:
        log.warning(
            "%g pre.dev credits remaining: at or above the floor of %g, but below %s.",
            balance,
            floor,
            warn_below,
        )
    else:
        log.info("%g pre.dev credits remaining (floor %g).", balance, floor)


def checked(value: Any, name: str, bounds: Range = CREDITS, *, rendered: bool = False) -> float:
    """`value` by the core's one rule for numbers (`ranges.number_value`), else an
    `AirflowException` naming `name`, worded as the CLI and the config file word it.
    `rendered`: a templated field at `execute`, where a number's text counts and a refusal
    fails the task without retries."""
    try:
        return number_value(value, name, bounds, text_ok=rendered)
    except ConfigError as error:
        refusal = AirflowFailException if rendered else AirflowException
        raise refusal(describe(error)) from None


def rendered_floors(min_credits: Any, warn_below: Any) -> tuple[float, float | None]:
    """An operator's or sensor's floor and warning level at `execute`, once rendered."""
    floor = checked(min_credits, "min_credits", rendered=True)
    if warn_below is None:
        return floor, None
    return floor, checked(warn_below, "warn_below", rendered=True)


def judge(balance: Balance, floor: float, warn_below: float | None, need: Need | None) -> Verdict:
    """The verdict: the floor (and warning level) compared with what remains once the need is
    spent; without a need, the balance itself."""
    return evaluate(balance if need is None else covered(balance, need), floor, warn_below)


def below(balance: Balance, floor: float, need: Need | None) -> str:
    """Why a balance does not pass: `below the floor of 100`, or the shortfall in specs."""
    if need is None:
        return f"below the floor of {floor:g}"
    return short_phrase(need, shortfall(balance, floor, need), floor)


def rendered_need(need: Any, spec_cost: Any, *, rendered: bool = True) -> Need | None:
    """A gate's `need` priced at its `spec_cost`, by the core's rule (`need.need_value`): at
    `execute` a refusal fails the task without retries, with the CLI's line."""
    try:
        return need_value(need, spec_cost=spec_cost)
    except ConfigError as error:
        refusal = AirflowFailException if rendered else AirflowException
        raise refusal(describe(error)) from None


def _literal(value: Any) -> bool:
    """Typed into the DAG as it is: no template text, no XComArg anywhere inside."""
    if value is None or isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        return "{{" not in value and "{%" not in value
    if isinstance(value, dict):
        return all(_literal(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_literal(v) for v in value)
    return False


def check_need(need: Any, spec_cost: Any) -> None:
    """At construction, a need and spec costs typed into the DAG: refused while the DAG is
    parsed. Templates and XComArgs are checked at `execute`, once rendered."""
    if _literal(need) and _literal(spec_cost):
        rendered_need(need, spec_cost, rendered=False)


def check_literals(**fields: Any) -> None:
    """At construction, the templated floors typed into the DAG as numbers: refused while the
    DAG is parsed. Text (a template) and XComArgs are checked at `execute`, once rendered."""
    for name, value in fields.items():
        if isinstance(value, (int, float)):
            checked(value, name)
