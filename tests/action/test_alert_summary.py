"""The Action's alert outputs and job summary, from the CLI's `alert` object (its JSON contract).

The CLI reports the alert in `Outcome.as_dict()["alert"]`; `AlertOutcome` stands in for it
here, so these tests pin the Action's side of the contract alone.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from predev_integrations._core.defaults import ENTERPRISE_TOP_UP_URL, TOP_UP_URL
from predev_integrations._core.forecast import KNOWN, Forecast, forecast
from predev_integrations._core.outcome import Outcome
from predev_integrations._core.urls import LINK_UNSAFE, normalize_topup_url
from predev_integrations._core.verdict import Verdict
from predev_integrations._github import alert
from predev_integrations._github.summary import (
    LINE_COLOURS,
    MAX_GRID_POINTS,
    MAX_LABELS,
    balance_chart,
    github_outputs,
    github_summary,
)
from predev_integrations.errors import ConfigError
from tests.action.alert_paths import LINK_TAILS

NOW = 1_796_018_400.0  # Mon 30 Nov 2026 06:00 UTC
HOUR = 3_600.0
SAVING = {alert.SAVE_ENV: "true", alert.ENABLED_ENV: "true"}
PULL_REQUEST = {
    alert.SAVE_ENV: "false",
    alert.ENABLED_ENV: "true",
    "GITHUB_EVENT_NAME": "pull_request",
    "INPUT_ALERT_BELOW": "200",
}
#: What `alert-message` may hold: letters, digits and plain punctuation, one line; no quote,
#: backslash, brace, bracket, angle bracket, pipe, backtick or `$`.
SAFE_MESSAGE = re.compile(r"[A-Za-z0-9 .,:;~()/%?=&#@!*+_\-]*")


class AlertOutcome(Outcome):
    """An outcome whose JSON carries the CLI's `alert` object."""

    def __init__(self, status: str, alert_fields: dict[str, Any] | None, **kwargs: Any) -> None:
        super().__init__(status, **kwargs)
        self.alert_fields = alert_fields

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "alert": self.alert_fields}


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "fired": False,
        "recovered": False,
        "rule": None,
        "message": None,
        "active": False,
        "below": 200,
        "runway_below_seconds": None,
        "rearm_above": 220,
        "stateful": True,
    }
    return {**base, **changes}


FIRED = fields(fired=True, rule="balance", active=True, message="server words ::error::x")
RECOVERED = fields(recovered=True, message="back")
QUIET_LOW = fields(active=True)


def low(balance: float, alert_fields: dict[str, Any] | None, **kwargs: Any) -> AlertOutcome:
    return AlertOutcome(Verdict.OK, alert_fields, balance=balance, **kwargs)


@pytest.mark.parametrize(
    ("alert_fields", "env", "expected"),
    [
        (None, SAVING, ("false", "false", False)),
        (FIRED, SAVING, ("true", "false", True)),
        (RECOVERED, SAVING, ("false", "true", True)),
        (QUIET_LOW, SAVING, ("false", "false", False)),
        (fields(stateful=False), SAVING, ("false", "false", False)),
        (FIRED, {}, ("true", "false", True)),  # outside the Action the CLI decides
        (FIRED, PULL_REQUEST, ("false", "false", False)),  # a config file's alert, held
        (RECOVERED, PULL_REQUEST, ("false", "false", False)),
        (fields(fired="true", recovered=1), SAVING, ("false", "false", False)),  # not JSON true
    ],
)
def test_alert_outputs_are_true_only_on_the_run_that_crosses_or_re_arms(
    alert_fields: dict[str, Any] | None, env: dict[str, str], expected: tuple[str, str, bool]
) -> None:
    outputs = github_outputs(low(180, alert_fields), env)
    assert (outputs["alert"], outputs["recovered"], bool(outputs["alert-message"])) == expected


def test_the_message_is_our_words_never_the_cli_s_or_the_server_s() -> None:
    outcome = low(180, FIRED, min_credits=50)
    outcome.runway = forecast([(NOW - h * HOUR, 180 + 5 * h) for h in (3, 2, 1)], 50, now=NOW)
    outcome.now = NOW
    message = github_outputs(outcome, SAVING)["alert-message"]
    assert message == (
        "pre.dev credits low: 180 remaining, below the alert level 200; burning ~120/day, "
        "floor in ~27 hours (Tue 1 Dec 08:55 UTC; likely Mon 30 Nov to Fri 4 Dec). "
        f"Top up at {TOP_UP_URL}"
    )
    assert "server" not in message


@pytest.mark.parametrize(
    ("alert_fields", "expected"),
    [
        (
            fields(fired=True, rule="runway", runway_below_seconds=5 * HOUR),
            "pre.dev credits running out: 180 remaining; runway unknown, within the alert "
            f"runway 5h. Top up at {TOP_UP_URL}",
        ),
        (
            fields(fired=True, rule=None, below=None),
            f"pre.dev credits low: 180 remaining; runway unknown. Top up at {TOP_UP_URL}",
        ),
        (
            RECOVERED,
            "pre.dev credits recovered: 180 remaining, at or above 220 again; runway unknown.",
        ),
    ],
)
def test_each_kind_of_message(alert_fields: dict[str, Any], expected: str) -> None:
    assert github_outputs(low(180, alert_fields), SAVING)["alert-message"] == expected


@pytest.mark.parametrize(
    ("outcome_url", "input_url", "shown"),
    [
        (None, "", TOP_UP_URL),
        (None, ENTERPRISE_TOP_UP_URL, ENTERPRISE_TOP_UP_URL),
        (ENTERPRISE_TOP_UP_URL, "", ENTERPRISE_TOP_UP_URL),  # a config file's, no input
        (None, "http://plain.example/", TOP_UP_URL),  # refused: not https
        (None, "javascript:alert(1)", TOP_UP_URL),
        (None, 'https://x.example/"a b"', "https://x.example/%22a%20b%22"),
        (None, "https://x.example/{a}'`<b>|$", "https://x.example/%7Ba%7D%27%60%3Cb%3E%7C%24"),
        (None, "https://x.example/a\\b", TOP_UP_URL),  # a backslash: refused
    ],
)
def test_the_top_up_link_is_the_configured_one_checked_and_made_inert(
    outcome_url: str | None, input_url: str, shown: str
) -> None:
    outcome = low(180, FIRED)
    if outcome_url is not None:
        outcome.topup_url = outcome_url  # the CLI's
    env = {**SAVING, "INPUT_TOPUP_URL": input_url}
    message = github_outputs(outcome, env)["alert-message"]
    assert message.endswith(f"Top up at {shown}")
    assert SAFE_MESSAGE.fullmatch(message)
    assert f"<{shown}>" in github_summary(outcome, env)


@given(
    balance=st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20),
    below=st.none() | st.floats() | st.integers() | st.text(max_size=20),
    rearm=st.none() | st.floats() | st.text(max_size=20),
    rule=st.none() | st.sampled_from(["balance", "runway"]) | st.text(max_size=20),
    seconds=st.none() | st.floats() | st.text(max_size=5),
    fired=st.booleans(),
    url=st.text(max_size=60),
)
def test_any_alert_object_gives_one_inert_line(
    balance: float,
    below: object,
    rearm: object,
    rule: object,
    seconds: object,
    fired: bool,
    url: str,
) -> None:
    """Whatever the alert object and the top-up input hold, the message is one safe line."""
    alert_fields = fields(
        fired=fired,
        recovered=not fired,
        rule=rule,
        below=below,
        rearm_above=rearm,
        runway_below_seconds=seconds,
        message="::error::{{ pwned }}\n\"'",
    )
    outputs = github_outputs(low(balance, alert_fields), {**SAVING, "INPUT_TOPUP_URL": url})
    message = outputs["alert-message"]
    assert message
    assert SAFE_MESSAGE.fullmatch(message), message
    assert "pwned" not in message
    assert len(message) <= 400


@given(
    tail=LINK_TAILS,
    alert_fields=st.sampled_from([FIRED, RECOVERED, QUIET_LOW]),
    status=st.sampled_from([Verdict.OK, Verdict.LOW]),
)
def test_any_accepted_link_reaches_every_output_and_the_summary_only_encoded(
    tail: str, alert_fields: dict[str, Any], status: Verdict
) -> None:
    """The link as `normalize_topup_url` gives it is the one form every output, the message and
    the summary carry: none of them holds a character of LINK_UNSAFE from it."""
    raw = "https://pre.dev/" + tail
    try:
        link = normalize_topup_url(raw)
    except ConfigError:
        return
    env = {**SAVING, "INPUT_TOPUP_URL": raw}
    outcome = AlertOutcome(status, alert_fields, balance=180, min_credits=190)
    outputs = github_outputs(outcome, env)
    for value in outputs.values():
        assert not (LINK_UNSAFE - {" "}) & set(value)
        assert "\n" not in value
    if alert_fields is FIRED:
        assert outputs["alert-message"].endswith(f"Top up at {link}")
    text = github_summary(outcome, env)
    autolinks = re.findall(r"<(https://[^>]*)>", text)
    named = status == Verdict.LOW or alert_fields is not RECOVERED  # a recovery names no link
    assert set(autolinks) == ({link} if named else set())


# --- the summary ------------------------------------------------------------------------------


def summary(alert_fields: dict[str, Any] | None, env: dict[str, str], balance: float = 180) -> str:
    return github_summary(low(balance, alert_fields), env)


def test_the_summary_says_the_alert_fired_and_where_to_top_up() -> None:
    text = summary(FIRED, {**SAVING, "INPUT_TOPUP_URL": ENTERPRISE_TOP_UP_URL})
    assert (
        "**🔔 Low-credit alert fired on this run:** pre.dev credits low: 180 remaining, below "
        "the alert level 200" in text
    )
    assert f"Top up at <{ENTERPRISE_TOP_UP_URL}>" in text
    assert "back above 220" in text


@pytest.mark.parametrize(
    ("alert_fields", "env", "said"),
    [
        (RECOVERED, SAVING, "**✅ Low-credit alert recovered on this run:**"),
        (QUIET_LOW, SAVING, "**Low-credit alert:** sent on an earlier run; quiet until"),
        (fields(), SAVING, "**Low-credit alert:** armed; nothing to report."),
        (fields(stateful=False), SAVING, "**Low-credit alert:** off: without a history"),
        (
            None,
            PULL_REQUEST,
            "**Low-credit alert:** not checked on this run: a pull\\_request run restores the "
            "history but never saves it",
        ),
        (FIRED, PULL_REQUEST, "not checked on this run: a pull\\_request run"),
        (
            None,
            {**PULL_REQUEST, "INPUT_HISTORY": "false"},
            'not checked on this run: the history input is "false"',
        ),
    ],
)
def test_the_summary_says_what_the_alert_did_on_every_run(
    alert_fields: dict[str, Any] | None, env: dict[str, str], said: str
) -> None:
    text = summary(alert_fields, env)
    assert said in text
    assert "fired on this run" not in text or (alert_fields is FIRED and env is SAVING)


def test_no_alert_configured_no_alert_line() -> None:
    assert "Low-credit alert" not in summary(None, SAVING)
    assert "Low-credit alert" not in summary(None, {**PULL_REQUEST, "INPUT_ALERT_BELOW": ""})


def test_a_low_balance_names_the_configured_top_up_link() -> None:
    outcome = AlertOutcome(Verdict.LOW, None, balance=10, min_credits=50)
    text = github_summary(outcome, {"INPUT_TOPUP_URL": ENTERPRISE_TOP_UP_URL})
    assert f"Top up at <{ENTERPRISE_TOP_UP_URL}> before generating specs." in text


# --- the chart --------------------------------------------------------------------------------


def chart_lines(chart: list[str]) -> tuple[list[str], list[list[float]]]:
    """The x axis's labels (blank ones as "") and the lines' values, in the order drawn."""
    [axis] = [line for line in chart if line.startswith("    x-axis")]
    labels = [label.strip(BLANK) for label in re.findall(r'"([^"]*)"', axis)]
    lines = [
        [float(v) for v in line[len("    line [") : -1].split(", ")]
        for line in chart
        if line.startswith("    line [")
    ]
    return labels, lines


BLANK = "\u200b\u200c"  # the zero-width characters an unnamed point's label is made of
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def label_time(label: str) -> float:
    """`06:20`, `30 Nov`, `30 Nov 06:20` as the Unix time it stands for (2026, UTC; a time
    alone on 30 Nov)."""
    day, _, clock = label.rpartition(" ") if ":" in label else (label, "", "00:00")
    date = day or "30 Nov"
    number, month = date.split()
    hour, minute = (int(part) for part in clock.split(":"))
    month_index = MONTHS.index(month) + 1
    stamp = datetime(2026, month_index, int(number), hour, minute, tzinfo=timezone.utc)
    return stamp.timestamp()


def test_irregular_readings_are_drawn_on_an_even_grid_through_the_newest_reading() -> None:
    """Readings 10 min, then 5 h apart: 63 points 5 minutes apart, the last the newest
    reading (`now`), a few named with their true times, not 3 evenly spaced points."""
    readings = [(NOW, 500.0), (NOW + 600, 490.0), (NOW + 5 * HOUR + 600, 390.0)]
    labels, lines = chart_lines(balance_chart(readings, 50))
    assert len(labels) == 63
    assert labels[-1] == "now"
    named = {i: label for i, label in enumerate(labels) if label and label != "now"}
    assert 2 <= len(named) + 1 <= MAX_LABELS
    assert all(label_time(label) == NOW + 300 * i for i, label in named.items())
    balance, floor = lines
    assert balance[:3] == [500, 495, 490]
    assert balance[38] == pytest.approx(430)  # interpolated, at NOW + 3 h 10 min
    assert balance[-1] == 390
    assert floor == [50.0] * 63


def known(seconds: float, p10: float | None, p90: float | None, balance: float) -> Forecast:
    return Forecast(
        KNOWN,
        burn_per_hour=(balance - 50) / (seconds / HOUR),
        seconds_to_floor=seconds,
        floor_at=NOW + seconds,
        seconds_to_floor_p10=p10,
        seconds_to_floor_p90=p90,
        path=(
            (NOW, balance),
            (NOW + seconds / 2, balance - (balance - 50) * 0.6),
            (NOW + seconds, 50),
        ),
    )


def test_the_band_ends_are_the_expected_path_run_faster_and_slower() -> None:
    """The early end is the path reaching the floor at P10, the late end at P90: a path that
    spends 60 % in its first half does so in the first half of each end too, so the early end
    is never above the path (a straight line to the floor at P10 would be, for a while)."""
    readings = [(NOW - h * HOUR, 450 + 10 * h) for h in (4, 3, 2, 1, 0)]
    runway = known(40 * HOUR, 30 * HOUR, 60 * HOUR, 450)
    labels, lines = chart_lines(balance_chart(readings, 50, runway))
    times = [NOW + (i - labels.index("now")) * 2 * HOUR for i in range(len(labels))]
    assert (times[0], times[-1]) == (NOW - 4 * HOUR, NOW + 60 * HOUR)  # to the late end
    late, early, expected, floor = lines  # drawn in this order: the balance over the band
    at = {when: i for i, when in enumerate(times)}
    now = at[NOW]
    assert expected[: now + 1] == early[: now + 1] == late[: now + 1] == [490, 470, 450]
    assert expected[at[NOW + 20 * HOUR]] == pytest.approx(210)  # along the path
    assert early[at[NOW + 16 * HOUR]] == pytest.approx(210 - 160 / 15, abs=0.01)  # 2 decimals
    assert early[at[NOW + 30 * HOUR]] == 50  # the early end
    assert late[at[NOW + 30 * HOUR]] == pytest.approx(210)
    assert late[at[NOW + 60 * HOUR]] == 50  # the late end
    assert all(e <= x <= y for e, x, y in zip(early, expected, late, strict=True))
    assert floor == [50.0] * len(times)


@pytest.mark.parametrize(
    ("p10", "p90", "count"), [(None, None, 1), (30 * HOUR, None, 2), (math.nan, math.inf, 1)]
)
def test_without_a_band_only_the_path_is_drawn(
    p10: float | None, p90: float | None, count: int
) -> None:
    readings = [(NOW - h * HOUR, 450 + 10 * h) for h in (2, 1, 0)]
    chart = balance_chart(readings, 50, known(40 * HOUR, p10, p90, 450))
    _, lines = chart_lines(chart)
    assert len(lines) == count + 1  # and the floor
    [key] = [line for line in chart if line.startswith("**Key:**")]
    assert key.count("·") == count


def test_a_runway_of_years_is_cut_at_a_horizon_and_says_so() -> None:
    readings = [(NOW - h * HOUR, 450 + h) for h in (2, 1, 0)]
    chart = balance_chart(readings, 50, known(400 * 86_400.0, None, None, 450))
    labels, _ = chart_lines(chart)
    assert label_time([label for label in labels if label][-1]) <= NOW + 7 * 86_400.0
    assert chart[-1].endswith("The chart ends before the floor is reached.")


def test_the_colours_are_fixed_in_the_chart_and_named_in_its_key() -> None:
    """Mermaid colours lines by their order, so the palette follows the lines drawn: late,
    early, the balance, the floor; the key under the chart names each in its colour."""
    readings = [(NOW - h * HOUR, 450 + 10 * h) for h in (4, 3, 2, 1, 0)]
    chart = balance_chart(readings, 50, known(40 * HOUR, 30 * HOUR, 60 * HOUR, 450))
    [init] = [line for line in chart if line.startswith("%%{init: ")]
    config = json.loads(init[len("%%{init: ") : -len("}%%")])
    palette = config["themeVariables"]["xyChart"]["plotColorPalette"]
    assert palette == ",".join(LINE_COLOURS[n][0] for n in ("late", "early", "balance", "floor"))
    assert chart[chart.index("```", 1) + 2] == (
        "**Key:** 🟦 blue: balance, then from *now* the expected path · 🟧 orange: early end "
        "of the likely range (P10) · 🟩 green: late end (P90) · 🟥 red: floor (50)"
    )
    _, lines = chart_lines(balance_chart(readings, 50))
    assert len(lines) == 2
    assert '"plotColorPalette":"#0550ae,#cf222e"' in balance_chart(readings, 50)[1]


@given(
    readings=st.lists(
        st.tuples(
            st.floats(0, 4e9) | st.just(math.nan),
            st.floats(-1e6, 1e6) | st.just(math.inf),
        ),
        max_size=30,
    )
)
def test_any_readings_give_a_valid_chart_or_none(readings: list[tuple[float, float]]) -> None:
    chart = balance_chart(readings, 1, forecast(readings, 1, now=4e9))
    if not chart:
        return
    [axis] = [line for line in chart if line.startswith("    x-axis")]
    assert len(set(re.findall(r'"([^"]*)"', axis))) == len(re.findall(r'"([^"]*)"', axis))
    labels, lines = chart_lines(chart)
    assert 2 <= len(labels) <= MAX_GRID_POINTS
    assert 1 <= len([label for label in labels if label]) <= MAX_LABELS
    assert "now" in labels
    assert all(len(line) == len(labels) for line in lines)
    assert all(math.isfinite(v) for line in lines for v in line)
    *band, expected, _ = lines  # late, early: each on its side of the expected path
    for end in band:
        assert all(a <= b for a, b in zip(end, expected, strict=True)) or all(
            a >= b for a, b in zip(end, expected, strict=True)
        )
