"""Retry policy as pure functions: which failures to retry, how long to wait, when to stop.

The clients pass in the clock, the wall-clock time and the random source (and do the
sleeping themselves), so the policy is exactly testable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ApiError, HttpStatusError
from . import defaults
from .ranges import RETRIES, SECONDS, number_value

#: An HTTP date is 29 characters; anything much longer is not a Retry-After value.
MAX_RETRY_AFTER_TEXT = 64


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` is the number of attempts after the first; `deadline` bounds everything."""

    retries: int = defaults.RETRIES
    timeout: float = defaults.TIMEOUT
    deadline: float = defaults.DEADLINE
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0

    def __post_init__(self) -> None:
        for name, bounds in (("retries", RETRIES), ("timeout", SECONDS), ("deadline", SECONDS)):
            number_value(getattr(self, name), name, bounds)


def parse_retry_after(value: str | None, *, now: float | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None.

    `now` is the caller's wall-clock time (Unix seconds); the date form needs it, and gives
    None without it. Never read from the clock here.
    """
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_RETRY_AFTER_TEXT:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    if now is None:
        return None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        stamp = when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):  # e.g. the year 99999
        return None
    return max(0.0, stamp - now)


def backoff_delay(policy: RetryPolicy, retry_number: int, rand: float) -> float:
    """Capped exponential backoff with full jitter; `retry_number` counts from 0, rand in [0,1)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2**retry_number))
    return float(ceiling * rand)


def next_delay(
    policy: RetryPolicy, error: ApiError, *, attempts: int, elapsed: float, rand: float
) -> float | None:
    """How long to sleep before the next attempt, or None to give up and raise `error`.

    `attempts` is how many attempts have been made so far (>= 1).
    """
    if not error.retryable or attempts > policy.retries:
        return None
    delay = backoff_delay(policy, attempts - 1, rand)
    retry_after = error.retry_after if isinstance(error, HttpStatusError) else None
    if retry_after is not None:
        delay = min(retry_after, policy.retry_after_cap)
    # Another attempt only makes sense if it can start, and get some time, before the deadline.
    if elapsed + delay + min(policy.timeout, 0.05) >= policy.deadline:
        return None
    return delay


def attempt_timeout(policy: RetryPolicy, elapsed: float) -> float:
    """Per-request timeout, shortened so the request cannot outlive the deadline."""
    return max(0.001, min(policy.timeout, policy.deadline - elapsed))


class RetryState:
    """Bookkeeping for one `get_balance()` call, shared by the sync and async clients."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Callable[[], float],
        rand: Callable[[], float],
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._rand = rand
        self._start = clock()
        self.attempts = 0

    def elapsed(self) -> float:
        return self._clock() - self._start

    def start_attempt(self) -> float:
        """Count an attempt and return its timeout."""
        self.attempts += 1
        return attempt_timeout(self.policy, self.elapsed())

    def delay_or_raise(self, error: ApiError) -> float:
        """The sleep before the next attempt; re-raises `error` when the policy says stop."""
        delay = next_delay(
            self.policy, error, attempts=self.attempts, elapsed=self.elapsed(), rand=self._rand()
        )
        if delay is None:
            error.attempts = self.attempts
            raise error
        return delay
