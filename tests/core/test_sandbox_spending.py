"""The sandbox spends on its own, in whole credits, so a runway has something to fit offline."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from predev_integrations.sandbox import Sandbox, SandboxState


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def state_with_clock(**fields: object) -> tuple[SandboxState, Clock]:
    clock = Clock()
    state = SandboxState()
    state.clock = clock
    state.update({"balance": 450, **fields})  # spending counts from the new balance
    return state, clock


@pytest.mark.parametrize(
    ("hours", "balance"), [(0, 450), (0.1, 450), (0.2, 449), (1, 445), (24, 330), (90, 0)]
)
def test_burn_per_hour_spends_whole_credits_over_time(hours: float, balance: float) -> None:
    state, clock = state_with_clock(burn_per_hour=5)
    clock.now += hours * 3_600
    assert state.current_balance() == balance


def test_a_new_balance_restarts_the_spending() -> None:
    state, clock = state_with_clock(burn_per_hour=5)
    clock.now += 3_600
    state.update({"balance": 100})
    assert state.current_balance() == 100


def test_spend_per_request_is_taken_after_each_balance_served(api_key: str) -> None:
    with Sandbox(key=api_key, balance=450, spend_per_request=10) as sandbox:
        headers = {"Authorization": f"Bearer {api_key}"}
        seen = [
            httpx.get(f"{sandbox.url}/credits-balance", headers=headers).json()["creditsRemaining"]
            for _ in range(3)
        ]
        wrong = httpx.get(f"{sandbox.url}/credits-balance", headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401
        assert seen == [450, 440, 430]
        assert sandbox.state.current_balance() == 420  # a refused request spends nothing


@pytest.mark.parametrize("value", [-1, "5", True, float("nan")])
def test_spending_must_be_a_number_at_least_0(value: object) -> None:
    with pytest.raises(ValueError, match="must be a number >= 0"):
        SandboxState(burn_per_hour=value)


@pytest.mark.parametrize(
    "flag", ["--burn-per-hour=-1", "--spend-per-request=x", "--burn-per-hour=inf"]
)
def test_the_command_line_refuses_bad_spending(flag: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "predev_integrations.sandbox", flag],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "is not a number" in proc.stderr


def test_a_spend_takes_credits_at_once_and_is_logged_in_order(api_key: str) -> None:
    with Sandbox(key=api_key, balance=700) as sandbox:
        spent = httpx.post(f"{sandbox.url}/_sandbox/spend", json={"credits": 50, "by": "spec 1"})
        assert spent.status_code == 200
        assert spent.json()["balance"] == 650
        refused = httpx.post(f"{sandbox.url}/_sandbox/spend", json={"credits": -5})
        assert refused.status_code == 400
        assert sandbox.log == [{"path": "/_sandbox/spend", "credits": 50, "by": "spec 1"}]
        assert sandbox.requests == 0  # spending is not a balance request
