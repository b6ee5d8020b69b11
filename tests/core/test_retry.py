"""The retry policy: which failures are retried, how long to wait, when the deadline ends it."""

from __future__ import annotations

import pytest

from predev_integrations import errors
from predev_integrations._core.retry import (
    RetryPolicy,
    RetryState,
    attempt_timeout,
    backoff_delay,
    next_delay,
    parse_retry_after,
)
from predev_integrations.errors import ConfigError

POLICY = RetryPolicy(retries=5, timeout=10, deadline=30, backoff_base=0.5, backoff_cap=4)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 12 ", 12.0),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: retry now
        ("Wed, 21 Oct 2015 07:29:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:29:00", None),  # no zone: not an HTTP date
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    ("retry_number", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (9, 4.0)]
)
def test_backoff_is_capped_exponential_with_full_jitter(retry_number: int, ceiling: float) -> None:
    assert backoff_delay(POLICY, retry_number, 0.0) == 0.0
    assert backoff_delay(POLICY, retry_number, 0.5) == pytest.approx(ceiling / 2)
    assert backoff_delay(POLICY, retry_number, 0.999999) == pytest.approx(ceiling, rel=1e-5)


RETRYABLE = [
    errors.TransportError("connect failed"),
    errors.ServerError(500),
    errors.ServerError(503),
    errors.RateLimitedError(429),
]
FINAL = [
    errors.MissingContextError(400),
    errors.UnauthorizedError(401),
    errors.UnauthorizedError(403),
    errors.NotFoundError(404),
    errors.InvalidResponseError("bad body"),
    errors.RedirectError("moved"),
]


@pytest.mark.parametrize("error", RETRYABLE, ids=repr)
def test_transient_failures_are_retried(error: errors.ApiError) -> None:
    assert next_delay(POLICY, error, attempts=1, elapsed=0, rand=0.5) == pytest.approx(0.25)


@pytest.mark.parametrize("error", FINAL, ids=repr)
def test_client_errors_and_bad_answers_are_never_retried(error: errors.ApiError) -> None:
    assert next_delay(POLICY, error, attempts=1, elapsed=0, rand=0.5) is None


def test_retries_stop_after_the_configured_count() -> None:
    policy = RetryPolicy(retries=2)
    error = errors.ServerError(500)
    assert next_delay(policy, error, attempts=2, elapsed=0, rand=0) is not None
    assert next_delay(policy, error, attempts=3, elapsed=0, rand=0) is None


def test_zero_retries_disables_retrying() -> None:
    assert (
        next_delay(RetryPolicy(retries=0), errors.ServerError(500), attempts=1, elapsed=0, rand=0)
        is None
    )


def test_retry_after_is_honoured_over_backoff() -> None:
    error = errors.RateLimitedError(429, retry_after=3.0)
    assert next_delay(POLICY, error, attempts=1, elapsed=0, rand=0.9) == 3.0


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(retries=2, deadline=100, retry_after_cap=5)
    error = errors.RateLimitedError(429, retry_after=3600.0)
    assert next_delay(policy, error, attempts=1, elapsed=0, rand=0) == 5.0


def test_no_retry_when_the_wait_would_cross_the_deadline() -> None:
    error = errors.RateLimitedError(429, retry_after=10.0)
    assert next_delay(POLICY, error, attempts=1, elapsed=20.5, rand=0) is None
    assert next_delay(POLICY, error, attempts=1, elapsed=10.0, rand=0) == 10.0


def test_attempt_timeout_shrinks_to_the_time_left() -> None:
    assert attempt_timeout(POLICY, 0) == 10
    assert attempt_timeout(POLICY, 25) == pytest.approx(5)
    assert attempt_timeout(POLICY, 31) == pytest.approx(0.001)


@pytest.mark.parametrize(
    "kwargs",
    [{"retries": -1}, {"timeout": 0}, {"timeout": -1}, {"deadline": 0}],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_retry_state_counts_attempts_and_records_them_on_the_final_error() -> None:
    clock = FakeClock()
    state = RetryState(RetryPolicy(retries=1, timeout=4, deadline=30), clock, lambda: 0.5)
    assert state.start_attempt() == 4
    clock.now += 4
    assert state.delay_or_raise(errors.ServerError(500)) == pytest.approx(0.25)
    clock.now += 0.25
    assert state.start_attempt() == 4
    final = errors.ServerError(502)
    with pytest.raises(errors.ServerError) as info:
        state.delay_or_raise(final)
    assert info.value is final
    assert final.attempts == 2
    assert final.describe().endswith("(gave up after 2 attempts)")


def test_retry_state_gives_the_last_attempt_only_the_time_left() -> None:
    clock = FakeClock()
    state = RetryState(RetryPolicy(retries=3, timeout=10, deadline=12), clock, lambda: 0.0)
    state.start_attempt()
    clock.now += 10
    assert state.delay_or_raise(errors.TransportError("timeout")) == 0.0
    assert state.start_attempt() == pytest.approx(2.0)


def test_a_retry_after_date_needs_the_callers_time_and_never_reads_the_clock() -> None:
    in_a_minute = "Wed, 21 Oct 2015 07:29:10 GMT"
    assert parse_retry_after(in_a_minute, now=None) is None
    assert parse_retry_after("7", now=None) == 7.0
    assert parse_retry_after(in_a_minute, now=1445412490.0) == 60.0
