"""The Action's history across workflow runs: where it lives, its cache keys, who may save it.

`action.yml` restores the history with actions/cache/restore on every run and saves it with
actions/cache/save only when `plan` says so: a run that no pull request can steer, that is a
`push`, `schedule` or `workflow_dispatch` run on the default branch. A `pull_request` or
`pull_request_target` run (or any other event) never saves, so a pull request cannot plant
readings that the default branch's runs would then trust (cache poisoning). What a restore
brings back is still outside input: the CLI's history reader validates every byte of it.

Pure: the environment, the OS and a nonce are arguments.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: Every key starts with this; a restore matches the newest key with the prefix. The version
#: changes with the file format, so an old format is never restored into a new reader.
KEY_PREFIX = "predev-credits-history-v1"
#: The events whose runs may save: none of them runs code or data from a pull request.
SAVING_EVENTS = ("push", "schedule", "workflow_dispatch")
#: The directory under $RUNNER_TEMP, and the files in it that are cached (never the balance
#: cache entries, which a restore must not bring back).
DIRECTORY = "predev-credits-history"
FILES = "history-*.json"

HISTORY_TYPO = 'history is neither "true" nor "false"; the history stays on.'


def may_save(event: str, ref: str, default_branch: str) -> bool:
    """True for a push, schedule or manual run on the default branch; False for anything else.

    A schedule's payload does not always name the default branch; GitHub runs schedules only
    on it, so there the branch need only be a branch. Every other event must name it.
    """
    if event not in SAVING_EVENTS or not ref.startswith("refs/heads/"):
        return False
    branch = ref.removeprefix("refs/heads/")
    if not branch:
        return False
    if not default_branch:
        return event == "schedule"
    return branch == default_branch


def history_enabled(value: str) -> tuple[bool, list[str]]:
    """The `history` input: on unless "false"; a typo warns and keeps it on."""
    text = value.strip().lower()
    if text in ("", "true"):
        return True, []
    if text == "false":
        return False, []
    return True, [HISTORY_TYPO]


def plan(env: Mapping[str, str], *, posix: bool, nonce: str) -> tuple[dict[str, str], list[str]]:
    """The step outputs that drive the cache steps, and warnings.

    `enabled` (restore), `save`, `dir` (the CLI's cache directory), `path` (the cached files),
    `key` (unique: run id, attempt and `nonce`) and `restore-prefix`. Off when the `history`
    input is "false", or on a runner without POSIX file ownership (Windows): the CLI keeps no
    history there.
    """
    enabled, warnings = history_enabled(env.get("INPUT_HISTORY", ""))
    enabled = enabled and posix
    temp = env.get("RUNNER_TEMP", "")
    if not temp or any(ch in temp for ch in "\r\n\0"):  # a path we could not pass on safely
        temp, enabled = "", False
    directory = f"{temp}/{DIRECTORY}" if temp else ""
    runner_os = _word(env.get("RUNNER_OS", "")) or "unknown"
    prefix = f"{KEY_PREFIX}-{runner_os}-"
    run = f"{_word(env.get('GITHUB_RUN_ID', ''))}-{_word(env.get('GITHUB_RUN_ATTEMPT', ''))}"
    save = enabled and may_save(
        env.get("GITHUB_EVENT_NAME", ""),
        env.get("GITHUB_REF", ""),
        env.get("PREDEV_DEFAULT_BRANCH", ""),
    )
    outputs = {
        "enabled": "true" if enabled else "false",
        "save": "true" if save else "false",
        "dir": directory,
        "path": f"{directory}/{FILES}" if directory else "",
        "key": f"{prefix}{run}-{_word(nonce)}",
        "restore-prefix": prefix,
    }
    return outputs, warnings


def _word(text: str) -> str:
    """Letters, digits, `.`, `_` and `-` only, at most 40: a safe piece of a cache key."""
    kept = "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in "._-"))
    return kept[:40]
