"""The runway in the CLI: recorded readings, --min-runway/--warn-runway, JSON, --show-history.

The sandbox answers 450; the tests seed three earlier readings an hour apart (465, 460, 455),
as if hourly checks had run, so the live reading makes a steady 5 credits/hour: with the
floor at 50, the expected path reaches it 400 / 5 = 80 hours away; the runway shown, the
median, is a little later (~3.4 days), and three hours of readings put the band's early end
(what limits compare) about a day away.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from predev_integrations._cli import history
from predev_integrations._cli.show_history import pattern_line, render
from predev_integrations._core.forecast import Forecast, forecast
from predev_integrations._core.secret import Secret
from predev_integrations.sandbox import Sandbox

RunCli = Callable[..., Any]
DAY_ = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} \w{3}( \d{4})?"
DATE = rf"\({DAY_} \d\d:\d\d UTC; likely {DAY_}( to {DAY_})?\)"
RUNWAY = rf"burning ~120/day, floor in ~3\.4 days {DATE}"
RISK = rf"a 1-in-5 chance of reaching the floor by {DAY_}"


@pytest.fixture
def history_file(cache_dir: Path, sandbox: Sandbox, api_key: str) -> Path:
    return Path(history.history_path(cache_dir, sandbox.url, Secret(api_key)))


@pytest.fixture
def seeded(history_file: Path) -> Path:
    """Three hourly readings before now, 5 credits apart, ending at 455."""
    now = time.time()
    for hours_ago, balance in ((3, 465), (2, 460), (1, 455)):
        history.append(history_file, now - hours_ago * 3_600, balance)
    return history_file


def test_the_runway_joins_the_line_when_it_is_known(run_cli: RunCli, seeded: Path) -> None:
    result = run_cli("--min-credits", "50")
    assert result.code == 0
    assert re.fullmatch(
        rf"pre\.dev credits: 450 remaining \(floor 50\): ok; {RUNWAY}\.\n", result.stdout
    )
    assert len(history.load(seeded)) == 4


@pytest.mark.parametrize(
    ("flags", "code", "verdict"),
    [
        (["--min-runway", "4d"], 1, rf"LOW, {RUNWAY}: {RISK}, within --min-runway 4d; top up at "),
        (["--min-runway", "12h"], 0, rf"ok; {RUNWAY}\.$"),
        (
            ["--warn-runway", "2d"],
            0,
            rf"warn, {RUNWAY}: {RISK}, within --warn-runway 2d; top up soon",
        ),
        (["--min-runway", "12h", "--warn-runway", "1w"], 0, rf"warn, {RUNWAY}: {RISK}, within"),
        (["--min-runway", "4d", "--on-low", "warn"], 0, r"LOW, .* Continuing because low"),
    ],
)
def test_min_and_warn_runway_decide_like_a_balance(
    run_cli: RunCli, seeded: Path, flags: list[str], code: int, verdict: str
) -> None:
    result = run_cli("--min-credits", "50", *flags)
    assert result.code == code
    assert re.search(rf"\(floor 50\): {verdict}", result.stdout.strip()), result.stdout


def test_a_low_balance_stays_the_reason_when_both_apply(run_cli: RunCli, seeded: Path) -> None:
    result = run_cli("--min-credits", "500", "--min-runway", "4d")
    assert result.code == 1
    assert ": LOW, below the floor;" in result.stdout


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("none", "only 1 reading (need 3)"),
        ("flat", "runway unknown: nothing spent over ~3 hours (a week of readings tells"),
        ("wobble", "runway unknown: no steady decline: 43% of the movement goes up (must be"),
    ],
)
def test_an_unknown_runway_never_fails_and_says_why(
    run_cli: RunCli, history_file: Path, setup: str, reason: str
) -> None:
    now = time.time()
    if setup == "flat":
        for hours_ago in (3, 2, 1):
            history.append(history_file, now - hours_ago * 3_600, 450)
    if setup == "wobble":  # down and up within a credit: no steady decline to fit
        for hours_ago, balance in ((5, 450.5), (4, 451), (3, 450), (2, 451), (1, 450.2)):
            history.append(history_file, now - hours_ago * 3_600, balance)
    text = run_cli("--min-credits", "50", "--min-runway", "30d")
    assert text.code == 0
    assert reason in text.stdout
    shown = run_cli("--min-credits", "50", "--show-history", "--format", "json")  # no reading
    runway = json.loads(shown.stdout)["runway"]
    assert runway["status"] != "known"
    assert (runway["seconds_to_floor"], runway["floor_at"]) == (None, None)


def test_a_top_up_keeps_the_rate_it_came_after(run_cli: RunCli, history_file: Path) -> None:
    """100, 95, 90 hourly, then 450 read now: the team still spends 5 an hour."""
    now = time.time()
    for hours_ago, balance in ((3, 100), (2, 95), (1, 90)):
        history.append(history_file, now - hours_ago * 3_600, balance)
    result = run_cli("--min-credits", "50", "--format", "json")
    runway = json.loads(result.stdout)["runway"]
    assert runway["status"] == "known"
    assert runway["burn_per_hour"] == pytest.approx(5)
    assert 80 * 3_600 <= runway["seconds_to_floor"] <= 1.03 * 80 * 3_600


def test_without_a_runway_flag_an_unknown_runway_stays_quiet(run_cli: RunCli) -> None:
    assert run_cli().stdout == "pre.dev credits: 450 remaining (floor 1): ok.\n"


def test_json_has_the_runway_object(run_cli: RunCli, seeded: Path) -> None:
    result = run_cli("--min-credits", "50", "--format", "json")
    runway = json.loads(result.stdout)["runway"]
    assert runway["status"] == "known"
    assert runway["burn_per_hour"] == pytest.approx(5, rel=1e-3)
    assert 80 * 3_600 <= runway["seconds_to_floor"] <= 1.03 * 80 * 3_600
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", runway["floor_at"])
    assert runway["readings"] == 4
    assert runway["reason"] is None


def test_no_history_records_nothing_and_says_why_when_asked(
    run_cli: RunCli, history_file: Path
) -> None:
    assert run_cli("--no-history").code == 0
    assert not history_file.exists()
    result = run_cli("--no-history", "--min-runway", "1d")
    assert result.code == 0
    assert "runway unknown: --no-history is set." in result.stdout


def test_a_cache_hit_records_nothing_and_reads_the_history_only_when_asked(
    run_cli: RunCli, seeded: Path
) -> None:
    assert run_cli("--cache-ttl", "60", "--min-credits", "50").code == 0  # live: 4 readings
    before = seeded.read_bytes()
    hit = run_cli("--cache-ttl", "60", "--min-credits", "50")
    assert hit.stdout == "pre.dev credits: 450 remaining (cached) (floor 50): ok.\n"
    asked = run_cli("--cache-ttl", "60", "--min-credits", "50", "--min-runway", "4d")
    assert asked.code == 1
    assert "(cached)" in asked.stdout
    assert re.search(RUNWAY, asked.stdout)
    assert seeded.read_bytes() == before


def test_show_history_prints_the_table_the_sparkline_and_the_rate(
    run_cli: RunCli, seeded: Path, sandbox: Sandbox
) -> None:
    run_cli("--min-credits", "50")
    result = run_cli("--show-history", "--min-credits", "50")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "pre.dev credit history: 4 readings (floor 50)"
    assert [line.split()[-2:] for line in lines[3:6]] == [
        ["460", "-5"],
        ["455", "-5"],
        ["450", "-5"],
    ]
    assert lines[6].startswith("█▆▃▁  465 -> 450 over ~3 hours")
    # The seeded readings are an exact hour apart, the live one comes seconds after the seeding
    # (more on a loaded machine): the fitted rate is 5/hour less a hair (4.999 seen).
    fitted = re.fullmatch(rf"Fitted rate: ([0-9.]+) credits/hour; {RUNWAY}\.", lines[7])
    assert fitted is not None, lines[7]
    assert float(fitted[1]) == pytest.approx(5, rel=0.01)
    assert lines[8:] == [pattern_line(forecast_of(seeded))]  # the model it found
    assert sandbox.requests == 1  # showing made no request


def forecast_of(path: Path) -> Forecast:
    return forecast(history.load(path), 50, now=time.time())


@pytest.mark.parametrize(
    ("model", "days", "line"),
    [
        (
            "weekly",
            (120.0, 5.5, 0.0, 0.25, 1_234.4, 0.0, 0.0),
            "Pattern: weekly; spend by weekday (UTC): Mon 120 Tue 5.5 Wed 0 Thu 0.25 Fri 1234 "
            "Sat 0 Sun 0.",
        ),
        (None, (1.0,) * 7, "Spend by weekday (UTC): Mon 1 Tue 1 Wed 1 Thu 1 Fri 1 Sat 1 Sun 1."),
        ("daily average", None, "Pattern: daily average."),
        (None, None, None),
    ],
)
def test_show_history_names_the_pattern_the_forecast_found(
    model: str | None, days: tuple[float, ...] | None, line: str | None
) -> None:
    result = Forecast("known", model=model, spend_by_weekday=days)
    assert pattern_line(result) == line
    text = render([(1.0, 10.0)], result, 0, 2.0)
    assert text.splitlines()[-1] == line if line else "Pattern" not in text


def test_show_history_without_readings_says_so(run_cli: RunCli) -> None:
    result = run_cli("--show-history")
    assert result.code == 0
    assert "no readings recorded yet" in result.stdout


def test_show_history_as_json(run_cli: RunCli, seeded: Path) -> None:
    data = json.loads(run_cli("--show-history", "--format", "json").stdout)
    assert [r["balance"] for r in data["readings"]] == [465, 460, 455]
    assert data["runway"]["status"] == "known"
    data = json.loads(run_cli("--show-history", "--min-credits", "50", "--format", "json").stdout)
    expected = forecast_of(seeded).to_json()
    for field in ("model", "spend_by_weekday", "seconds_to_floor_p10", "seconds_to_floor_p90"):
        assert field in data["runway"]  # the band and the pattern, as the forecast found them
    assert data["runway"]["model"] == expected["model"]
    assert data["runway"]["spend_by_weekday"] == expected["spend_by_weekday"]


@pytest.mark.parametrize(
    ("config", "code", "message"),
    [
        ("min_credits: 50\nmin_runway: 4d\n", 1, "within --min-runway 4d"),
        ("min_credits: 50\nwarn_runway: 5d\n", 0, "within --warn-runway 5d"),
        ("min_credits: 50\nmin_runway: null\n", 0, ": ok;"),
        ("min_runway: 4\n", 2, "min_runway is not a duration: a duration must be text"),
        (
            "min_runway: 4 days\n",
            2,
            "min_runway is not a duration: a duration is a number then a unit",
        ),
        ("min_runway: 2d\nwarn_runway: 1d\n", 2, "warn_runway is shorter than min_runway"),
    ],
)
def test_config_file_runway_keys(
    run_cli: RunCli, seeded: Path, tmp_path: Path, config: str, code: int, message: str
) -> None:
    (tmp_path / ".predev-credits.yml").write_text(config)
    result = run_cli()
    assert result.code == code
    assert message in result.stdout + result.stderr


@pytest.mark.parametrize(  # ASCII digits only: an Arabic-Indic 3 and a full-width 3 too
    "value", ["3", "3 d", "-3d", "3D", "\u0663d", "\uff13d", "0s", "400d", "1e3s"]
)
def test_bad_durations_are_usage_errors(run_cli: RunCli, value: str) -> None:
    result = run_cli(f"--min-runway={value}")
    assert result.code == 2
    assert "--min-runway" in result.stderr


def test_flags_beat_the_config_and_are_checked_together(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / ".predev-credits.yml").write_text("warn_runway: 1d\n")
    result = run_cli("--min-runway", "2d")
    assert result.code == 2
    assert "warn_runway is shorter than min_runway" in result.stderr
    assert run_cli("--min-runway", "2d", "--warn-runway", "3d").code == 0


# --runway-risk: the chance in the gate rule (the seeded readings: at 1-in-5 the limit time is
# about 38 hours away, at 1-in-20 about 17, so a 1-day limit passes the one and fails the other).


@pytest.mark.parametrize(
    ("flags", "config", "code", "verdict"),
    [
        ([], "", 0, rf"ok; {RUNWAY}\.$"),
        (["--runway-risk", "1-in-5"], "", 0, rf"ok; {RUNWAY}\.$"),
        (
            ["--runway-risk", "1-in-20"],
            "",
            1,
            rf"LOW, {RUNWAY}: a 1-in-20 chance of reaching the floor by {DAY_}, within "
            r"--min-runway 36h; top up at ",
        ),
        (["--runway-risk=5%"], "", 1, r"LOW, .*: a 1-in-20 chance of reaching the floor by "),
        (["--runway-risk", "0.05"], "", 1, r"LOW, .*: a 1-in-20 chance of reaching the floor by "),
        ([], "runway_risk: 1-in-20\n", 1, r"LOW, .*: a 1-in-20 chance of reaching the floor by "),
        ([], "runway_risk: 0.05\n", 1, r"LOW, .*: a 1-in-20 chance of reaching the floor by "),
        (["--runway-risk", "1-in-5"], "runway_risk: 1-in-20\n", 0, r"ok; "),  # the flag wins
    ],
    ids=["default", "1-in-5", "1-in-20", "5%", "0.05", "config", "config-number", "flag-wins"],
)
def test_a_smaller_runway_risk_fails_a_limit_the_default_passes(
    run_cli: RunCli,
    seeded: Path,
    tmp_path: Path,
    flags: list[str],
    config: str,
    code: int,
    verdict: str,
) -> None:
    if config:
        (tmp_path / ".predev-credits.yml").write_text(config)
    result = run_cli("--min-credits", "50", "--min-runway", "36h", *flags)
    assert result.code == code, result.stdout + result.stderr
    assert re.search(rf"\(floor 50\): {verdict}", result.stdout.strip()), result.stdout


def test_the_json_limit_time_is_the_risk_s(run_cli: RunCli, seeded: Path) -> None:
    default = json.loads(run_cli("--min-credits", "50", "--format", "json").stdout)["runway"]
    stricter = run_cli("--min-credits", "50", "--format", "json", "--runway-risk", "1-in-20")
    runway = json.loads(stricter.stdout)["runway"]
    assert runway["seconds_to_floor_decisive"] < default["seconds_to_floor_decisive"]
    # the band is the same (a minute later: the second run's now)
    assert runway["seconds_to_floor_p10"] == pytest.approx(
        default["seconds_to_floor_p10"], rel=0.01
    )


@pytest.mark.parametrize(
    "value", ["0", "0.5", "0.7", "50%", "1-in-0", "1-in-1", "abc", "nan", "-inf", "9" * 10_000]
)
def test_a_bad_runway_risk_is_one_usage_error_line(run_cli: RunCli, value: str) -> None:
    result = run_cli("--min-runway", "1d", f"--runway-risk={value}")
    assert result.code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("predev-credits-check: error: argument --runway-risk: ")
    assert "like 1-in-10, 10% or 0.1" in line
    assert len(line) < 300


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ("runway_risk: 0\n", "runway_risk must be a chance from 1-in-100"),
        ("runway_risk: .nan\n", "runway_risk must be a chance from 1-in-100"),
        ("runway_risk: 1-in-0\n", "runway_risk must be a chance like 1-in-10"),
        ("runway_risk: null\n", "runway_risk must be a chance like 1-in-10"),
        ("runway_risk: [0.1]\n", "runway_risk must be a chance like 1-in-10"),
    ],
)
def test_a_bad_config_runway_risk_names_the_file_and_the_key(
    run_cli: RunCli, tmp_path: Path, config: str, says: str
) -> None:
    (tmp_path / ".predev-credits.yml").write_text(config)
    result = run_cli()
    assert result.code == 2
    [line] = (result.stdout + result.stderr).strip().splitlines()
    assert ".predev-credits.yml" in line
    assert says in line


def test_the_alert_runway_rule_fires_at_the_risk_and_keeps_its_state_per_risk(
    run_cli: RunCli, seeded: Path
) -> None:
    """`--alert-runway 36h`: quiet at 1-in-5, fires at 1-in-20, whose state is its own (a
    changed risk starts the rule afresh; the default's key is the one it always was)."""
    quiet = run_cli("--min-credits", "50", "--alert-runway", "36h", "--format", "json")
    assert json.loads(quiet.stdout)["alert"]["fired"] is False
    fired = run_cli(
        "--min-credits",
        "50",
        "--alert-runway",
        "36h",
        "--runway-risk",
        "1-in-20",
        "--format",
        "json",
    )
    alert = json.loads(fired.stdout)["alert"]
    assert (alert["fired"], alert["rule"]) == (True, "runway")
    keys = [state["key"] for state in json.loads(seeded.read_text())["alerts"]]
    assert sorted(keys) == sorted(
        [
            "below=none;rearm=none;runway=129600.0;floor=50.0",
            "below=none;rearm=none;runway=129600.0;floor=50.0;risk=0.05",
        ]
    )


def test_show_history_forecasts_at_the_risk(run_cli: RunCli, seeded: Path) -> None:
    shown = run_cli("--min-credits", "50", "--show-history", "--format", "json")
    stricter = run_cli(
        "--min-credits", "50", "--show-history", "--format", "json", "--runway-risk", "1-in-20"
    )
    default_time = json.loads(shown.stdout)["runway"]["seconds_to_floor_decisive"]
    assert json.loads(stricter.stdout)["runway"]["seconds_to_floor_decisive"] < default_time
