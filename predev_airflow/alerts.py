"""The words of a low-credit alert, for whichever notifier a team already uses.

`alert_message(payload)` turns a `PreDevCreditsLowTrigger` event's payload (as the DAG run
receives it, from `triggering_asset_events`) into a subject, a plain-text body (Slack, Teams,
Apprise) and an HTML body (SMTP): the balance, the threshold, the runway and where to top up
(the connection's `topup_url`, carried in the payload, %-encoded by the core's link rule; the
solo dashboard when it is missing or not an https link). The payload comes back from the
metadata database, so every field is checked and every string cleaned before it reaches a
message (braces too: notifiers render their fields as Jinja templates); a missing or odd
field reads as "unknown". No Airflow import.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from predev_integrations._core.defaults import FORECAST_RISK, TOP_UP_URL
from predev_integrations._core.forecast import duration_text
from predev_integrations._core.ranges import chance_text, risk_value
from predev_integrations._core.sanitize import clean
from predev_integrations._core.urls import normalize_topup_url
from predev_integrations.errors import ConfigError

__all__ = ["AlertMessage", "alert_message"]


@dataclass(frozen=True)
class AlertMessage:
    subject: str
    text: str
    topup_url: str = TOP_UP_URL

    @property
    def html(self) -> str:
        """The text as HTML paragraphs, escaped, the top-up address as a link."""
        paragraphs = [html.escape(line) for line in self.text.split("\n") if line]
        link = html.escape(self.topup_url)
        return "".join(f"<p>{p}</p>" for p in paragraphs).replace(
            link, f'<a href="{link}">{link}</a>'
        )


def alert_message(payload: Mapping[str, Any]) -> AlertMessage:
    """Subject and body for one low-credit event."""
    conn = _text(payload.get("predev_conn_id"), 60) or "predev_default"
    balance = _credits(payload.get("balance"))
    threshold = _credits(payload.get("threshold"))
    runway = _runway(payload)
    if payload.get("fired_by") == "runway":
        minimum = _seconds(payload.get("min_runway"))
        first = (
            f"pre.dev credits on {conn!r} will run out soon: {runway}, below the alert's "
            f"minimum runway of {minimum}. {balance} credits left (alert threshold {threshold})."
            f"{_risk(payload.get('runway_risk'), minimum)}"
        )
        subject = f"pre.dev credits run out soon on {conn}: {runway}"
    else:
        first = (
            f"pre.dev credits are low on {conn!r}: {balance} credits left, below the alert "
            f"threshold of {threshold}."
        )
        subject = f"pre.dev credits low on {conn}: {balance} left (threshold {threshold})"
        first += f"\nRunway: {runway}."
    topup_url = _topup_url(payload.get("topup_url"))
    text = f"{first}\nTop up at {topup_url}"
    return AlertMessage(subject=clean(subject, 160), text=text, topup_url=topup_url)


def _topup_url(value: object) -> str:
    """The payload's link by the rule the connection's extra was read with (https, no
    backslash or control character, and every quote, brace, `$`, angle bracket or space
    %-encoded, so no notifier's Jinja or a pasted JSON string can act on it); the solo
    dashboard when that rule refuses it."""
    try:
        return normalize_topup_url(value)
    except ConfigError:
        return TOP_UP_URL


def _text(value: object, limit: int) -> str:
    """Foreign text as one clean line, without the braces a Jinja template would act on."""
    if not isinstance(value, str):
        return ""
    return clean(value, limit).replace("{", "(").replace("}", ")")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _credits(value: object) -> str:
    number = _number(value)
    if number is None:
        return "an unknown number of"
    return str(int(number)) if number.is_integer() else f"{number:.2f}".rstrip("0")


def _approx(value: float) -> str:
    return str(round(value)) if value >= 10 else f"{value:.2g}"


def _seconds(value: object) -> str:
    number = _number(value)
    return "unknown" if number is None or number < 0 else duration_text(number)


def _risk(value: object, minimum: str) -> str:
    """The rule's chance as a sentence on its own line: the watcher's `runway_risk` (carried
    only when one was given), else the gate's default; nothing for one the core's rule
    refuses (the payload comes back from the database)."""
    try:
        risk = FORECAST_RISK if value is None else risk_value(value, "runway_risk")
    except ConfigError:
        return ""
    return (
        f"\nIt fires when there is at least a {chance_text(risk)} chance of running out "
        f"within {minimum}."
    )


def _runway(payload: Mapping[str, Any]) -> str:
    """`~3.3 days at ~45/day (runs out around 2026-12-03T14:00:00Z)`, or why it is unknown."""
    status = payload.get("runway_status")
    seconds = _number(payload.get("runway_seconds"))
    burn = _number(payload.get("burn_per_hour"))
    if status == "known" and seconds is not None and seconds >= 0 and burn is not None:
        per_day = burn * 24
        rate = f"~{_approx(per_day)}/day" if per_day < 1_000 else f"~{_approx(burn)}/hour"
        when = _text(payload.get("runs_out_at"), 25)
        until = f" (runs out around {when})" if when else ""
        return f"{duration_text(seconds)} left at {rate}{until}"
    if status == "not_spending":
        return "no spending seen lately"
    reason = _text(payload.get("runway_reason"), 80)
    why = f" ({reason})" if reason else ""
    return f"unknown{why}"
