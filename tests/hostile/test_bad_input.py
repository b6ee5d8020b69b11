"""Classes 5, 6 and 11: bad numbers, bad hosts, bad YAML and odd answers end in one readable
line with a documented exit code (2 for our inputs, 3 for the server's), never "internal error"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import DEADLINE_SLACK, RawServer, Run, http_response, replying

HUGE_INT = "1" + "0" * 400  # an integer literal beyond float range
OK = http_response(200, b'{"success": true, "creditsRemaining": 450}')


@pytest.fixture
def ok_server(serve: Callable[..., RawServer]) -> RawServer:
    return serve(replying(OK))


@pytest.mark.parametrize(
    "args",
    [
        *(
            [flag, HUGE_INT]
            for flag in (
                "--min-credits",
                "--warn-below",
                "--timeout",
                "--deadline",
                "--cache-ttl",
                "--retries",
                "--alert-below",
                "--alert-rearm-above",
            )
        ),
        ["--alert-runway", HUGE_INT + "s"],
        ["--topup-url", "https://" + "a" * 5_000 + ".example/"],
        ["--topup-url", "https://pre.dev/\x1b]0;pwned\x07"],
        ["--min-credits", "1" + "0" * 30],
        ["--timeout", "1e10"],
        ["--deadline", "1e10"],
        ["--cache-ttl", "1e300"],
        ["--retries", "10000000000"],
        ["--min-credits", "nan"],
        ["--base-url", "https://☃.net"],
        ["--base-url", "https://a..b"],
        ["--base-url", "https://" + "a" * 64 + ".example"],
        ["--base-url", "https://exa mple.com"],
        ["--config", "."],
    ],
)
def test_bad_flags_are_usage_errors(
    args: list[str], ok_server: RawServer, run_cli: Callable[..., Run]
) -> None:
    result = run_cli(*args, env={"PREDEV_BASE_URL": ok_server.url}, bound=30)
    assert result.code == 2, result.stderr
    assert len(result.stderr) < 400


def test_config_dir_says_it_is_a_directory(
    ok_server: RawServer, run_cli: Callable[..., Run]
) -> None:
    result = run_cli("--base-url", ok_server.url, "--config", "/tmp", bound=30)
    assert result.code == 2
    assert "is a directory" in result.stderr


@pytest.mark.parametrize(
    "yaml_text",
    [
        f"min_credits: {HUGE_INT}\n",
        f"cache_ttl: {HUGE_INT}\n",
        f"warn_below: -{HUGE_INT}\n",
        f"alert_below: {HUGE_INT}\n",
        "alert_rearm_above: .nan\n",
        "alert_runway: " + "9" * 5_000 + "d\n",
        "topup_url: [https://pre.dev]\n",
        "min_credits: 1e400\n",
        "min_credits: 2001-01-01\n",
        "min_credits: " + "[" * 5000 + "]" * 5000 + "\n",
        "? [a, b]\n: 1\n",
        "min_credits: !!binary aGVsbG8=\n",
        "min_credits: !!python/object:os.system x\n",
    ],
)
def test_bad_yaml_values_are_configuration_errors(
    yaml_text: str, ok_server: RawServer, run_cli: Callable[..., Run], tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(yaml_text)
    result = run_cli("--base-url", ok_server.url, "--config", str(config), bound=30)
    assert result.code == 2, result.stderr
    assert len(result.stderr) < 400


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\nmin_credits: *a9\n"


@pytest.mark.parametrize(
    ("yaml_text", "says"),
    [
        (_alias_bomb(), "anchor or alias"),
        ("min_credits: '" + "x" * (10 << 20) + "'\n", "larger than"),
        ("min_credits: '" + "x" * 60_000 + "'\n", "must be a number"),
        ('on_error: "' + "\\e[31m\\a" * 20 + '"\n', "must be fail or warn"),
    ],
    # Short ids: pytest puts the id in $PYTEST_CURRENT_TEST, and a 10 MiB one is too long for
    # the environment of the CLI the test starts (E2BIG) on pytest versions that don't cut it.
    ids=["alias-bomb", "10-MiB-value", "60-KB-value", "escape-sequences"],
)
def test_hostile_config_files_fail_fast_with_a_short_line(
    yaml_text: str,
    says: str,
    ok_server: RawServer,
    run_cli: Callable[..., Run],
    tmp_path: Path,
) -> None:
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / ".predev-credits.yml"
    config.write_text(yaml_text)
    result = run_cli("--base-url", ok_server.url, "--config", str(config), bound=5)
    assert result.code == 2
    assert says in result.stderr
    assert len(result.stderr) < 400
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize(
    "answer",
    [
        http_response(200, b"[" * 30_000 + b"]" * 30_000),
        http_response(200, b'{"success": true, "creditsRemaining": ' + HUGE_INT.encode() + b"}"),
        http_response(200, b'{"success": true, "creditsRemaining": 1' + b"0" * 5000 + b"}"),
        http_response(200, b'{"success": true, "creditsRemaining": -1e999}'),
        http_response(401, b'{"error": ' + b"[" * 60_000 + b"}"),
        http_response(503, b"", {"Retry-After": "Fri, 31 Dec 99999999999999999999 23:59:59 GMT"}),
        http_response(503, b"", {"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"}),
        http_response(429, b"", {"Retry-After": "9" * 5000}),
        http_response(200, b"", {"Content-Length": "9" * 5000}),
    ],
)
def test_absurd_answers_are_api_errors(
    answer: bytes, serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    server = serve(replying(answer))
    result = run_cli("--base-url", server.url, "--deadline", "5", bound=15)
    assert result.code == 3, result.stderr
    assert len(result.stderr) < 600
    # The deadline bounds the check, which starts after the interpreter's start-up: timed from
    # the first accept, so a loaded machine's slow start cannot fail it (it did once: 6.2 s).
    assert server.first_connection_at is not None
    assert result.ended - server.first_connection_at < 5 + DEADLINE_SLACK


def test_a_socks_proxy_without_the_extra_is_a_configuration_error(
    run_cli: Callable[..., Run],
) -> None:
    import importlib.util

    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed here")
    result = run_cli(
        "--base-url",
        "https://api.invalid",
        env={"ALL_PROXY": "socks5://127.0.0.1:1", "NO_PROXY": None},
        bound=30,
    )
    assert result.code == 2
    assert "proxy" in result.stderr


def test_304_is_not_called_a_redirect(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    server = serve(replying(http_response(304, b"", {"Location": "https://elsewhere"})))
    result = run_cli("--base-url", server.url, bound=30)
    assert result.code == 3
    assert "304" in result.stderr
    assert "redirect" not in result.stderr.replace("not a redirect", "")


def test_status_999_is_not_retried_as_a_server_error(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    server = serve(replying(http_response(999, json.dumps({"error": "odd"}).encode())))
    result = run_cli("--base-url", server.url, "--retries", "2", bound=30)
    assert result.code == 3
    assert "HTTP 999" in result.stderr
    assert server.connections == 1
    assert "gave up after" not in result.stderr


def test_durations_print_sensibly(
    serve: Callable[..., RawServer], run_cli: Callable[..., Run]
) -> None:
    def silent(conn: object, stop: object) -> None:
        stop.wait(10)  # type: ignore[attr-defined]

    server = serve(silent)
    result = run_cli("--base-url", server.url, "--timeout", "1.86202", "--retries", "0", bound=5)
    assert result.code == 3
    assert "Timed out after 1.9 s" in result.stderr
