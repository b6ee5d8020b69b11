"""The Action's low-credit alert: which runs may fire it, and the words of its outputs.

Only a run that saves the history may fire: the alert state (armed or not) lives in the
history file, and a run that cannot save it (a `pull_request` run restores the default
branch's state but never saves) would forget that it alerted, so ten pull requests opened
while low would alert ten times. `held` says why a run may not fire; such a run passes no
alert flag to the CLI, and its outputs say `alert=false` even if a config file asked for one.

`alert-message` is the core's one message (`_core.alert.message`) of the crossing the CLI's
`alert` object records, worded from its numbers, the forecast and the checked top-up link,
never from a `message` field or text the server sent: the same line the CLI's JSON
`alert.message` holds, safe in a Slack payload, an issue or a shell string.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._core.outcome import Outcome

#: The check step's copies of the history step's outputs (action.yml), read from the env.
SAVE_ENV = "PREDEV_HISTORY_SAVE"
ENABLED_ENV = "PREDEV_HISTORY_ENABLED"
#: The inputs that configure the alert; each becomes its CLI flag only on a saving run.
ALERT_FLAGS = {
    "alert-below": "--alert-below",
    "alert-runway": "--alert-runway",
    "alert-rearm-above": "--alert-rearm-above",
}
#: What a held run's summary says after "The low-credit alert is not checked on this run: ".
HELD_HISTORY_OFF = (
    'the history input is "false", and without a history no run can tell the run that '
    "crossed the threshold from the runs after it."
)
HELD_NO_HISTORY = (
    "this runner keeps no history (Windows, or a history directory that could not be made "
    "private), so it cannot tell the run that crossed the threshold from the runs after it."
)
HELD_NOT_SAVING = (
    "a {event} run restores the history but never saves it, so it could not record that it "
    "alerted and every such run would alert again. Only push, schedule and workflow_dispatch "
    "runs on the default branch save the history and fire the alert."
)


def held(env: Mapping[str, str]) -> str | None:
    """Why this run may not fire the alert, as a sentence of ours; None when it may.

    Outside the Action (no history step ran: SAVE_ENV unset) the CLI decides alone.
    """
    save = env.get(SAVE_ENV)
    if save is None or save == "true":
        return None
    from .history import history_enabled

    keep, _ = history_enabled(env.get("INPUT_HISTORY", ""))
    if not keep:
        return HELD_HISTORY_OFF
    if env.get(ENABLED_ENV) != "true":
        return HELD_NO_HISTORY
    return HELD_NOT_SAVING.format(event=_event(env.get("GITHUB_EVENT_NAME", "")))


def configured(env: Mapping[str, str]) -> bool:
    """True when an alert input is set (the config file may set one too: the CLI knows)."""
    names = ("INPUT_" + name.upper().replace("-", "_") for name in ALERT_FLAGS)  # as inputs.py
    return any(env.get(name, "").strip() for name in names)


def number_field(alert: Mapping[str, object], name: str) -> str:
    """A number of the alert object as we print it, or "" when it holds none."""
    from .._core.alert import credits_text

    return credits_text(alert.get(name)) or ""


def _event(name: str) -> str:
    """An event name as we print it: lowercase letters and `_`, else "non-saving"."""
    if name and len(name) <= 40 and all(ch in "abcdefghijklmnopqrstuvwxyz_" for ch in name):
        return name
    return "non-saving"


def fields(outcome: Outcome) -> dict[str, object] | None:
    """The CLI's `alert` object (its `--format json` contract), or None without one."""
    alert = outcome.as_dict().get("alert")
    return alert if isinstance(alert, dict) else None


def _flag(alert: Mapping[str, object], name: str) -> bool:
    return alert.get(name) is True


def topup_url(outcome: Outcome, env: Mapping[str, str]) -> str:
    """The top-up link: the Action's `topup-url` input (the check got it as `--topup-url`, which
    beats a config file's), else the one the check used (config `topup_url`, else the solo
    dashboard); always a checked https link, %-encoded by the core's one rule."""
    from .._core.defaults import TOP_UP_URL
    from .._core.urls import normalize_topup_url
    from ..errors import ConfigError

    for candidate in (env.get("INPUT_TOPUP_URL", ""), outcome.topup_url):
        if isinstance(candidate, str) and candidate.strip():
            try:
                return normalize_topup_url(candidate)
            except ConfigError:
                continue
    return TOP_UP_URL


def outputs(outcome: Outcome, env: Mapping[str, str]) -> dict[str, str]:
    """`alert`, `recovered` ("true" only on the run that crosses / re-arms) and
    `alert-message` (one line on those runs, else empty). A held run never fires."""
    alert = fields(outcome)
    if alert is None or held(env) is not None:
        return {"alert": "false", "recovered": "false", "alert-message": ""}
    fired, recovered = (
        _flag(alert, "fired"),
        _flag(alert, "recovered") and not _flag(alert, "fired"),
    )
    text = message(outcome, alert, topup_url(outcome, env)) if fired or recovered else ""
    return {
        "alert": "true" if fired else "false",
        "recovered": "true" if recovered else "false",
        "alert-message": text,
    }


def message(outcome: Outcome, alert: Mapping[str, object], link: str) -> str:
    """The alert (or recovery) in one line: `_core.alert.message` of this crossing."""
    from .._core.alert import message as alert_message
    from .._core.alert import runway_text

    rule = alert.get("rule")
    return alert_message(
        fired=_flag(alert, "fired"),
        rule=rule if isinstance(rule, str) else None,
        balance=outcome.balance,
        below=alert.get("below"),
        rearm_above=alert.get("rearm_above"),
        runway_below_seconds=alert.get("runway_below_seconds"),
        runway=runway_text(outcome.runway, outcome.now),
        link=link,
    )
