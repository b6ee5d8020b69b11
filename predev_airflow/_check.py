"""What the sensor, the operator and the trigger share: error classes, messages, one check."""

from __future__ import annotations

from typing import Any, Protocol

from predev_integrations._core.ranges import CREDITS, Range, number_value
from predev_integrations._core.verdict import Balance, Verdict
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
    log: _Log, balance: Balance, floor: float, verdict: Verdict, warn_below: Any
) -> None:
    """The one line a passing check logs: a warning when running low, else the balance."""
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


def check_literals(**fields: Any) -> None:
    """At construction, the templated floors typed into the DAG as numbers: refused while the
    DAG is parsed. Text (a template) and XComArgs are checked at `execute`, once rendered."""
    for name, value in fields.items():
        if isinstance(value, (int, float)):
            checked(value, name)
