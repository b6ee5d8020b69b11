"""The Action's low-credit alert: which runs may fire it, and the words of its outputs.

Only a run that saves the history may fire: the alert state (armed or not) lives in the
history file, and a run that cannot save it (a `pull_request` run restores the default
branch's state but never saves) would forget that it alerted, so ten pull requests opened
while low would alert ten times. `held` says why a run may not fire; such a run passes no
alert flag to the CLI, and its outputs say `alert=false` even if a config file asked for one.

`message` words an alert from numbers we parsed and our own words, never from text the
server sent: a consumer may paste `alert-message` into a Slack payload or an issue, so it is
one line without quotes, backslashes, braces, angle brackets or backticks.
"""

from __future__ import annotations

from .._core.outcome import number

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
#: Characters a top-up link keeps in `alert-message` and the summary; others are %-encoded.
_URL_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#@!$&*+,;=%"
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
    value = _finite(alert.get(name))
    return "" if value is None else number(_whole(value))


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


def _finite(value: object) -> float | None:
    from .._core.forecast import finite_number

    return finite_number(value)


def topup_url(outcome: Outcome, env: Mapping[str, str]) -> str:
    """The top-up link: the Action's `topup-url` input (the check got it as `--topup-url`, which
    beats a config file's), else the one the check used (config `topup_url`, else the solo
    dashboard); always a checked https link."""
    from .._core.defaults import TOP_UP_URL
    from .._core.urls import normalize_topup_url
    from ..errors import ConfigError

    for candidate in (env.get("INPUT_TOPUP_URL", ""), outcome.topup_url):
        if isinstance(candidate, str) and candidate.strip():
            try:
                return safe_link(normalize_topup_url(candidate))
            except ConfigError:
                continue
    return TOP_UP_URL


def safe_link(url: str) -> str:
    """`url` with every character outside a conservative set %-encoded (UTF-8): no quote,
    backslash, brace, bracket, angle bracket, backtick or space survives into an output."""
    out: list[str] = []
    for ch in url:
        if ch in _URL_SAFE:
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


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
    """The alert (or recovery) in one line: balance, threshold, runway, where to top up."""
    balance = _finite(outcome.balance)
    now = f"{number(_whole(balance))} remaining" if balance is not None else "balance unknown"
    runway = _runway(outcome)
    if _flag(alert, "fired"):
        below = _finite(alert.get("below"))
        seconds = _finite(alert.get("runway_below_seconds"))
        if alert.get("rule") == "runway" and seconds is not None:
            from .._core.forecast import duration_text

            head = f"pre.dev credits: under {duration_text(seconds)[1:]} of runway left"
        elif below is not None:
            head = f"pre.dev credits fell below {number(_whole(below))}"
        else:
            head = "pre.dev credits are low"
        tail = f"; {runway}" if runway else ""
        return _line(f"{head}: {now}{tail}. Top up at {link}")
    rearm = _finite(alert.get("rearm_above"))
    level = f", back above {number(_whole(rearm))}" if rearm is not None else ""
    return _line(f"pre.dev credits recovered: {now}{level}; the low-credit alert is armed again.")


def _whole(value: float | None) -> float | int | None:
    """450.0 -> 450, 12.3456 -> 12.35: numbers as a person reads them."""
    if value is None:
        return None
    rounded = round(value, 2)
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def _runway(outcome: Outcome) -> str | None:
    """`floor in ~3.3 days (Thu 3 Dec 14:00 UTC)` when the runway is known, else None."""
    result = outcome.runway
    if result is None:
        return None
    from .._core.forecast import KNOWN, describe

    if result.status != KNOWN:
        return None
    return describe(result, outcome.now)


def _line(text: str) -> str:
    """One line, at most 400 characters, with nothing a consumer's template could trip on."""
    from .._core.sanitize import clean

    return "".join(ch for ch in clean(text, limit=400) if ch not in "\"'`\\{}<>|[]\r\n")
