"""The pre-commit hooks, driven by a real pre-commit and real git commits and pushes.

Each test makes a throwaway git repo whose `.pre-commit-config.yaml` points at this checkout
(`repo:` its path, `rev:` HEAD). pre-commit clones it and pip-installs it into its own venv,
offline, from the wheelhouse `make install` builds; one PRE_COMMIT_HOME per module, so that venv
is built once. The API is the loopback sandbox; every run is checked for the key (output, cache,
repo files) and for tracebacks.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from predev_integrations._cli import history
from predev_integrations._cli.main import PRESETS
from predev_integrations._core.secret import Secret
from predev_integrations.sandbox import Sandbox

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
HOOK = "predev-credits-check"
PUSH_HOOK = "predev-credits-check-push"
PRE_COMMIT = (sys.executable, "-m", "pre_commit")
RUN_COMMIT_HOOKS = (*PRE_COMMIT, "run")
RUN_PUSH_HOOKS = (*PRE_COMMIT, "run", "--hook-stage", "pre-push")
COMMIT = ("git", "commit", "-q", "--allow-empty", "-m", "change")
#: Slack on top of the preset's own deadline: interpreter start-up on a busy 2-core machine.
SLACK_SECONDS = 10.0
_DURATION = re.compile(r"- duration: ([0-9.]+)s")


def _git(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


@dataclass
class Run:
    code: int
    output: str
    seconds: float

    def hook_seconds(self) -> float:
        """The hook's own time as pre-commit reports it (`verbose: true` in the manifest)."""
        found = _DURATION.findall(self.output)
        assert len(found) == 1, self.output
        return float(found[0])


Runner = Callable[..., Run]


@pytest.fixture(scope="module")
def hook_rev() -> str:
    """The committed state of this checkout is what pre-commit installs."""
    rev = _git("rev-parse", "HEAD", cwd=CHECKOUT)
    _git("cat-file", "-e", f"{rev}:.pre-commit-hooks.yaml", cwd=CHECKOUT)
    return rev


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(WHEELHOUSE.glob("httpx-*.whl")):
        pytest.fail(f"no offline wheels in {WHEELHOUSE}; run `make install` first.")
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def hook_env(
    api_key: str, sandbox: Sandbox, pre_commit_home: Path, tmp_path: Path
) -> dict[str, str]:
    """Only loopback traffic: pip offline from the wheelhouse, the API at the sandbox."""
    drop = ("PREDEV_", "GITHUB_", "PIP_", "PRE_COMMIT", "GIT_", "SKIP", "VIRTUALENV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        PREDEV_API_KEY=api_key,
        PREDEV_BASE_URL=sandbox.url,
        PREDEV_CACHE_DIR=str(tmp_path / "cache"),
        PRE_COMMIT_HOME=str(pre_commit_home),
        PRE_COMMIT_COLOR="never",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # virtualenv seeds pip from its bundled wheels; keep it from checking PyPI for newer ones.
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        VIRTUALENV_OVERRIDE_APP_DATA=str(pre_commit_home / "virtualenv-app-data"),
        NO_PROXY="127.0.0.1,localhost,::1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


@pytest.fixture
def make_repo(tmp_path: Path, hook_rev: str, hook_env: dict[str, str]) -> Callable[..., Path]:
    """A git repo with one commit whose `.pre-commit-config.yaml` uses both hooks (same args)."""

    def make(args: list[str] | None = None, config_file: str | None = None) -> Path:
        repo = tmp_path / "repo"
        repo.mkdir()
        hooks: list[dict[str, object]] = [{"id": HOOK}, {"id": PUSH_HOOK}]
        if args is not None:
            for hook in hooks:
                hook["args"] = args
        config = {"repos": [{"repo": str(CHECKOUT), "rev": hook_rev, "hooks": hooks}]}
        (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        if config_file is not None:
            (repo / ".predev-credits.yml").write_text(config_file)
        _git("init", "-q", "-b", "main", cwd=repo, env=hook_env)
        _git("add", ".", cwd=repo, env=hook_env)
        _git("commit", "-q", "--no-verify", "-m", "initial", cwd=repo, env=hook_env)
        return repo

    return make


@pytest.fixture
def run(api_key: str, hook_env: dict[str, str], tmp_path: Path) -> Runner:
    """Run a command in the repo; the key must show in no output, cache file or repo file."""

    def run_(*cmd: str, env: Mapping[str, str] | None = None, timeout: float = 300) -> Run:
        started = time.monotonic()
        proc = subprocess.run(
            cmd,
            cwd=tmp_path / "repo",
            env={**hook_env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        seconds = time.monotonic() - started
        output = proc.stdout.decode()
        assert api_key not in output, "the API key leaked into the hook's output"
        assert "Traceback" not in output, output
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert api_key.encode() not in path.read_bytes(), f"the key leaked into {path}"
        return Run(proc.returncode, output, seconds)

    return run_


@pytest.fixture
def closed_port_url() -> str:
    """A loopback port nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_server_url() -> Iterator[str]:
    """Accepts TCP connections (the kernel does) but never answers: like a dead proxy."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- the tests ---------------------------------------------------------------------------


def head(repo: Path) -> str:
    return _git("rev-parse", "HEAD", cwd=repo)


def test_manifest_is_valid_and_keeps_defaults_out_of_args() -> None:
    proc = subprocess.run(
        [*PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = {h["id"]: h for h in yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["predev-credits-check-push"]["stages"] == ["pre-push"]
    for hook in hooks.values():
        # pre-commit replaces `args` with the user's, so defaults must come from the preset.
        assert "args" not in hook
        assert hook["entry"].startswith("predev-credits-check --preset ")
        assert (hook["pass_filenames"], hook["always_run"], hook["require_serial"]) == (
            False,
            True,
            True,
        )


def test_commit_above_the_floor_goes_through(
    make_repo: Any, run: Runner, sandbox: Sandbox, api_key: str
) -> None:
    repo = make_repo(args=["--min-credits", "50"])
    assert run(*PRE_COMMIT, "install").code == 0
    before = head(repo)
    result = run(*COMMIT)
    assert result.code == 0, result.output
    assert "pre.dev credits: 450 remaining (floor 50): ok." in result.output
    assert head(repo) != before
    [request] = sandbox.log  # the key came from the environment, and went only to the API
    assert request["authorization"] == f"Bearer {api_key}"
    assert request["user_agent"].endswith("(pre-commit)")


def test_commit_below_the_floor_is_blocked(make_repo: Any, run: Runner) -> None:
    repo = make_repo(args=["--min-credits", "500"])
    assert run(*PRE_COMMIT, "install").code == 0
    before = head(repo)
    result = run(*COMMIT)
    assert result.code != 0
    assert "- exit code: 1" in result.output
    assert "pre.dev credits: 450 remaining (floor 500): LOW, below the floor" in result.output
    assert head(repo) == before


def test_push_below_the_floor_is_blocked_by_the_push_hook(
    make_repo: Any, run: Runner, tmp_path: Path
) -> None:
    make_repo(args=["--min-credits", "500"])
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], check=True)
    assert run("git", "remote", "add", "origin", str(tmp_path / "remote.git")).code == 0
    assert run(*PRE_COMMIT, "install", "--hook-type", "pre-push").code == 0
    result = run("git", "push", "-q", "origin", "main")
    assert result.code != 0
    assert "- hook id: predev-credits-check-push" in result.output
    assert "- hook id: predev-credits-check\n" not in result.output  # commit hook stays out
    assert _git("for-each-ref", cwd=tmp_path / "remote.git") == ""  # nothing arrived


def test_push_hook_passes_above_the_floor(make_repo: Any, run: Runner, sandbox: Sandbox) -> None:
    make_repo()
    result = run(*RUN_PUSH_HOOKS)
    assert result.code == 0, result.output
    assert "pre.dev credits: 450 remaining (floor 1): ok." in result.output
    assert [r["user_agent"].endswith("(pre-push)") for r in sandbox.log] == [True]


def test_a_second_run_within_the_ttl_makes_no_request(
    make_repo: Any, run: Runner, sandbox: Sandbox
) -> None:
    make_repo(args=["--min-credits", "50"])
    first, second = run(*RUN_COMMIT_HOOKS), run(*RUN_COMMIT_HOOKS)
    assert (first.code, second.code) == (0, 0)
    assert "450 remaining (floor 50)" in first.output
    assert "450 remaining (cached) (floor 50)" in second.output
    assert sandbox.requests == 1


def test_the_warn_line_names_the_runway_when_it_is_known(
    make_repo: Any, run: Runner, sandbox: Sandbox, api_key: str, hook_env: dict[str, str]
) -> None:
    """Three earlier hourly readings (465, 460, 455) in the hook's history, then 450 live:
    5 credits an hour, the floor of 50 in 80 hours. Both the live run and the cache hit that
    follows name it on their warn line; the hook still lets the commit through."""
    directory = hook_env["PREDEV_CACHE_DIR"]
    path = history.history_path(directory, sandbox.url, Secret(api_key))
    now = time.time()
    for hours_ago, balance in ((3, 465), (2, 460), (1, 455)):
        history.append(path, now - hours_ago * 3_600, balance)
    make_repo(args=["--min-credits", "50", "--warn-below", "500"])
    live, hit = run(*RUN_COMMIT_HOOKS), run(*RUN_COMMIT_HOOKS)
    assert (live.code, hit.code) == (0, 0)
    day = r"\w{3} \d{1,2} \w{3}"
    runway = (
        rf"burning ~120/day, floor in ~3\.4 days \({day} \d\d:\d\d UTC; likely {day} to {day}\)"
    )
    assert re.search(
        rf"450 remaining \(floor 50, warn below 500\): warn, running low; {runway}; top up soon",
        live.output,
    )
    assert re.search(
        rf"450 remaining \(cached\) \(floor 50, warn below 500\): warn, running low; {runway};",
        hit.output,
    )
    assert sandbox.requests == 1
    assert len(history.load(path)) == 4  # the cache hit added nothing


def test_warn_runway_warns_a_commit_days_ahead(
    make_repo: Any, run: Runner, sandbox: Sandbox, api_key: str, hook_env: dict[str, str]
) -> None:
    path = history.history_path(hook_env["PREDEV_CACHE_DIR"], sandbox.url, Secret(api_key))
    now = time.time()
    for hours_ago, balance in ((3, 465), (2, 460), (1, 455)):
        history.append(path, now - hours_ago * 3_600, balance)
    make_repo(args=["--min-credits", "50", "--warn-runway", "7d"])
    result = run(*RUN_COMMIT_HOOKS)
    assert result.code == 0, result.output
    assert "floor in ~3.4 days" in result.output
    assert "a 1-in-5 chance of reaching the floor by " in result.output
    assert ", within --warn-runway 7d; top up soon" in result.output


@pytest.mark.parametrize(("risk", "code"), [("1-in-5", 0), ("1-in-20", 1)])
def test_runway_risk_in_args_sets_the_chance_a_commit_is_blocked_at(
    make_repo: Any,
    run: Runner,
    sandbox: Sandbox,
    api_key: str,
    hook_env: dict[str, str],
    risk: str,
    code: int,
) -> None:
    """The readings put the floor's 1-in-5 time 44-46 hours away, its 1-in-20 time 23-26
    (by the minute of the hour they are read at): `--min-runway 36h` lets the commit through
    at the one and blocks it at the other."""
    path = history.history_path(hook_env["PREDEV_CACHE_DIR"], sandbox.url, Secret(api_key))
    now = time.time()
    for hours_ago, balance in ((3, 465), (2, 460), (1, 455)):
        history.append(path, now - hours_ago * 3_600, balance)
    make_repo(args=["--min-credits", "50", "--min-runway", "36h", "--runway-risk", risk])
    result = run(*RUN_COMMIT_HOOKS)
    assert (result.code != 0) == bool(code), result.output
    if code:
        assert "a 1-in-20 chance of reaching the floor by " in result.output
        assert ", within --min-runway 36h; top up at " in result.output


@pytest.mark.parametrize("down", ["closed_port_url", "silent_server_url"])
def test_unreachable_api_warns_and_lets_the_commit_through(
    make_repo: Any, run: Runner, down: str, request: pytest.FixtureRequest
) -> None:
    make_repo(args=["--min-credits", "50"])
    result = run(*RUN_COMMIT_HOOKS, env={"PREDEV_BASE_URL": request.getfixturevalue(down)})
    assert result.code == 0, result.output
    assert "warning: could not read the credit balance" in result.output
    assert "Continuing because --on-error is warn." in result.output
    seconds = result.hook_seconds()
    print(f"{down}: hook {seconds:.2f} s, whole pre-commit run {result.seconds:.2f} s")
    assert seconds < PRESETS["pre-commit"]["deadline"] + SLACK_SECONDS


@pytest.mark.parametrize(
    ("stage_run", "skip_hint"),
    [
        (RUN_COMMIT_HOOKS, "SKIP=predev-credits-check git commit ..."),
        (RUN_PUSH_HOOKS, "SKIP=predev-credits-check-push git push ..."),
    ],
)
def test_missing_key_fails_with_one_line_on_how_to_fix_or_skip(
    make_repo: Any, run: Runner, sandbox: Sandbox, stage_run: tuple[str, ...], skip_hint: str
) -> None:
    make_repo()
    result = run(*stage_run, env={"PREDEV_API_KEY": ""})
    assert result.code != 0
    assert "- exit code: 2" in result.output
    [line] = [ln for ln in result.output.splitlines() if "PREDEV_API_KEY" in ln]
    assert line.startswith("predev-credits-check: error: The environment variable PREDEV_API_KEY")
    assert "export PREDEV_API_KEY=..." in line
    assert line.endswith(f"To skip this hook once: {skip_hint}")
    assert sandbox.requests == 0


def test_skip_named_in_the_hint_skips_the_hook(make_repo: Any, run: Runner) -> None:
    make_repo()
    env = {"PREDEV_API_KEY": "", "SKIP": "predev-credits-check"}
    result = run(*RUN_COMMIT_HOOKS, env=env)
    assert result.code == 0, result.output
    assert "Skipped" in result.output


@pytest.mark.parametrize(
    ("config_file", "args", "expected"),
    [
        # the file's floor beats the built-in default
        ("min_credits: 500\n", None, "450 remaining (floor 500): LOW"),
        # a flag beats the file
        ("min_credits: 500\n", ["--min-credits", "100"], "450 remaining (floor 100): ok."),
    ],
)
def test_repo_config_file_sets_the_floor_and_flags_override_it(
    make_repo: Any, run: Runner, config_file: str, args: list[str] | None, expected: str
) -> None:
    make_repo(args=args, config_file=config_file)
    result = run(*RUN_COMMIT_HOOKS)
    assert expected in result.output
    assert result.code == (1 if "LOW" in expected else 0)


def test_repo_config_file_beats_the_preset_on_errors(
    make_repo: Any, run: Runner, closed_port_url: str
) -> None:
    make_repo(config_file="on_error: fail\n")
    result = run(*RUN_COMMIT_HOOKS, env={"PREDEV_BASE_URL": closed_port_url})
    assert result.code == 1
    assert "- exit code: 3" in result.output
    assert "predev-credits-check: error: " in result.output


def test_repo_config_file_beats_the_preset_on_caching(
    make_repo: Any, run: Runner, sandbox: Sandbox
) -> None:
    make_repo(config_file="cache_ttl: 0\n")
    assert [run(*RUN_COMMIT_HOOKS).code for _ in range(2)] == [0, 0]
    assert sandbox.requests == 2
