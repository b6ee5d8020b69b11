"""The gate's risk (`--runway-risk`): one parser and one rule for every door, and a forecast
that judges its limits, and words them, at the risk it was made with.

The readings are the CLI runway tests' (three hourly readings 5 credits apart, then 450, floor
50): at the default 1-in-5 the floor's chance of coming within a day is below the risk (the
decisive time is about 38 hours away), at 1-in-20 it is above it (about 17 hours).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predev_integrations import forecast as public_forecast
from predev_integrations._core import defaults, spending
from predev_integrations._core import forecast as forecast_module
from predev_integrations._core.forecast import (
    KNOWN,
    UNKNOWN,
    Forecast,
    decisive_seconds,
    forecast,
    risk_text,
)
from predev_integrations._core.ranges import (
    MAX_RISK_TEXT,
    RISK,
    chance_text,
    risk_from_text,
    risk_value,
)
from predev_integrations._core.runway import runway_verdict
from predev_integrations._core.verdict import Verdict
from predev_integrations.errors import ConfigError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOUR = 3_600.0
NOW = datetime(2026, 11, 30, 6, tzinfo=timezone.utc).timestamp()
READINGS = [(NOW - h * HOUR, 450.0 + 5 * h) for h in (3, 2, 1, 0)]
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


# The parser: 1-in-N, N% and a plain chance.


@pytest.mark.parametrize(
    ("text", "chance"),
    [
        ("1-in-10", 0.1),
        ("1-in-5", 0.2),
        ("1-in-20", 0.05),
        (" 1-in-3 ", 1 / 3),
        ("1 in 10", 0.1),
        ("1-IN-4", 0.25),
        ("1-in-2.5", 0.4),
        ("10%", 0.1),
        ("12.5%", 0.125),
        ("1%", 0.01),
        ("49.9%", 0.499),
        ("0.1", 0.1),
        (".05", 0.05),
        ("0.01", 0.01),
        ("1-in-100", 0.01),
    ],
)
def test_a_risk_is_written_as_odds_a_percentage_or_a_chance(text: str, chance: float) -> None:
    assert risk_from_text(text) == pytest.approx(chance, rel=1e-12)
    assert risk_value(text, "runway_risk") == pytest.approx(chance, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0", "must be a chance from 1-in-100"),
        ("0.5", "must be a chance from 1-in-100"),
        ("0.7", "must be a chance from 1-in-100"),
        ("1", "must be a chance from 1-in-100"),
        ("50%", "must be a chance from 1-in-100"),
        ("1-in-2", "must be a chance from 1-in-100"),
        ("1-in-101", "must be a chance from 1-in-100"),
        ("0.009", "must be a chance from 1-in-100"),
        ("1-in-0", "is not a chance: 1 in 0"),
        ("1-in-0.0", "is not a chance: 1 in 0"),
        ("abc", "is not a chance"),
        ("nan", "is not a chance"),
        ("inf", "is not a chance"),
        ("-0.1", "is not a chance"),
        ("1e-1", "is not a chance"),
        ("1_0%", "is not a chance"),
        ("\uff11-in-5", "is not a chance"),  # a full-width 1
        ("1-in-\u0665", "is not a chance"),  # an Arabic-Indic 5
        ("", "is not a chance"),
        (".", "is not a chance"),
        ("1..0%", "is not a chance"),
        ("2-in-10", "is not a chance"),
        ("1-in-", "is not a chance"),
        ("%", "is not a chance"),
        ("9" * 5000, "is too long to be a chance"),
        ("1-in-" + "\x1b[31m" * 50, "is too long to be a chance"),
    ],
)
def test_anything_else_is_refused_in_one_short_line(text: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        risk_from_text(text)
    message = str(refused.value)
    assert says in message
    assert "like 1-in-10, 10% or 0.1" in message
    assert "\n" not in message
    assert len(message) < 200
    assert all(unicodedata.category(ch) not in UNSAFE for ch in message)
    with pytest.raises(ConfigError, match=r"^runway_risk must be a chance"):
        risk_value(text, "runway_risk")


@pytest.mark.parametrize(
    "value", [0, 0.0, 0.5, 1, -0.1, math.nan, math.inf, True, None, 10**400, [0.1], b"0.1"]
)
def test_a_value_that_is_no_risk_is_a_config_error_naming_it(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^runway_risk must be a chance") as refused:
        risk_value(value, "runway_risk")
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize(("value", "chance"), [(0.1, 0.1), (0.01, 0.01), (0.499, 0.499)])
def test_a_number_within_the_bounds_is_taken_as_it_is(value: float, chance: float) -> None:
    assert risk_value(value, "runway_risk") == chance


@FAST
@given(st.text(max_size=40))
def test_any_text_is_a_risk_within_the_bounds_or_one_value_error(text: str) -> None:
    try:
        chance = risk_from_text(text)
    except ValueError as refused:
        message = str(refused)
        assert "\n" not in message
        assert len(message) < 200
        assert all(unicodedata.category(ch) not in UNSAFE for ch in message)
        return
    assert RISK.low <= chance < RISK.high
    assert len(text.strip()) <= MAX_RISK_TEXT
    assert text.strip().isascii()


# Its words.


@pytest.mark.parametrize(
    ("chance", "words"),
    [
        (0.2, "1-in-5"),
        (0.1, "1-in-10"),
        (0.05, "1-in-20"),
        (1 / 3, "1-in-3"),
        (0.01, "1-in-100"),
        (0.125, "1-in-8"),
        (0.15, "15%"),
        (0.3, "30%"),
        (0.123, "12.3%"),
        (0.4, "40%"),
    ],
)
def test_a_risk_is_said_as_odds_when_whole_else_as_a_percentage(chance: float, words: str) -> None:
    assert chance_text(chance) == words


def test_the_default_risk_is_one_fact_said_one_way() -> None:
    assert forecast_module.RISK_TEXT == chance_text(defaults.FORECAST_RISK) == "1-in-5"
    assert spending.z_of(defaults.FORECAST_RISK) == forecast_module.RISK_Z


# The forecast at a risk.


def test_the_default_risk_changes_no_number() -> None:
    """The same forecast as before the risk could be set, field for field."""
    assert forecast(READINGS, 50, now=NOW) == forecast(READINGS, 50, now=NOW, risk=0.2)
    assert forecast(READINGS, 50, now=NOW).risk == defaults.FORECAST_RISK
    assert public_forecast(READINGS, 50, now=NOW, risk=0.1).risk == 0.1


@pytest.mark.parametrize(
    ("risk", "verdict", "words"),
    [
        (0.2, Verdict.OK, None),
        (0.3, Verdict.OK, None),
        (0.05, Verdict.LOW, "a 1-in-20 chance of reaching the floor by "),
        (1 / 30, Verdict.LOW, "a 1-in-30 chance of reaching the floor by "),
    ],
)
def test_a_smaller_risk_fails_a_limit_the_default_passes(
    risk: float, verdict: Verdict, words: str | None
) -> None:
    result = forecast(READINGS, 50, now=NOW, risk=risk)
    assert result.status == KNOWN
    assert result.risk == risk
    assert runway_verdict(result, 36 * HOUR, None) is verdict
    if words is not None:
        assert risk_text(result, NOW).startswith(words)
    # the forecast, the band and the rate do not depend on the risk
    default = forecast(READINGS, 50, now=NOW)
    for field in ("seconds_to_floor", "seconds_to_floor_p10", "seconds_to_floor_p90", "path"):
        assert getattr(result, field) == getattr(default, field)


def test_the_words_are_the_risk_the_forecast_was_made_with() -> None:
    stricter = forecast(READINGS, 50, now=NOW, risk=0.05)
    default = forecast(READINGS, 50, now=NOW)
    assert (decisive_seconds(stricter) or 0) < (decisive_seconds(default) or 0)
    assert "a 1-in-20 chance" in risk_text(stricter, NOW)
    assert "a 1-in-5 chance" in risk_text(default, NOW)
    assert "a 15% chance" in risk_text(forecast(READINGS, 50, now=NOW, risk=0.15), NOW)
    assert stricter != default  # the risk is part of what a forecast is


def test_every_result_keeps_its_risk() -> None:
    assert forecast([], 50, now=NOW, risk=0.05).risk == 0.05
    assert forecast(READINGS[:2], 50, now=NOW, risk=0.05).status == UNKNOWN
    assert forecast(READINGS[:2], 50, now=NOW, risk=0.05).risk == 0.05
    assert Forecast(UNKNOWN, reason="x").risk == defaults.FORECAST_RISK


@pytest.mark.parametrize("risk", [0.0, 0.009, 0.5, 0.9, 1.0, -0.1, math.nan, math.inf])
def test_a_risk_outside_the_bounds_is_a_value_error(risk: float) -> None:
    with pytest.raises(ValueError, match=r"risk must be a chance from 0\.01 up to"):
        forecast(READINGS, 50, now=NOW, risk=risk)


#: Hours before now of up to two weeks of readings, and a burn that varies between them.
schedules = st.lists(st.integers(0, 14 * 24 * 4), min_size=3, max_size=30, unique=True)


@FAST
@given(
    schedules,
    st.lists(st.integers(0, 300), min_size=30, max_size=30),
    st.integers(100, 100_000),
    st.floats(min_value=0.01, max_value=0.499),
    st.floats(min_value=0.01, max_value=0.499),
)
def test_a_larger_risk_never_gives_an_earlier_decisive_time(
    quarters: list[int], spends: list[int], floor_gap: int, a: float, b: float
) -> None:
    """On the same readings, a larger risk's limit time is never sooner: a limit a risk
    passes, every larger risk passes too (and a smaller one may fail)."""
    low, high = min(a, b), max(a, b)
    times = sorted(NOW - q * HOUR / 4 for q in quarters)
    balance, readings = float(floor_gap + sum(spends)), []
    for at, spend in zip(times, spends, strict=False):
        balance -= spend
        readings.append((at, balance))
    floor = readings[-1][1] - floor_gap
    earlier = forecast(readings, floor, now=NOW, risk=low)
    later = forecast(readings, floor, now=NOW, risk=high)
    assert earlier.status == later.status
    first, second = decisive_seconds(earlier), decisive_seconds(later)
    if first is None or second is None:
        assert first is second is None
        return
    assert first <= second
    assert second <= (later.seconds_to_floor or 0.0)
