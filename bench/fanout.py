"""Part 4: N deferred sensors' triggers in one event loop, next to N bare httpx pollers.

Each (mode, N) runs in a fresh process (`bench.fanout_child`) so RSS figures are its own;
the sandbox in this process counts the requests.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from typing import Any

from .env import PYTHON, ROOT, Stage
from .table import Row, failed, not_built

REQUESTS_TARGET = 1.0
RSS_TARGET_KIB = 20.0
TARGET_N = 1000  # the target; smaller N pay page and arena granularity per trigger
TRIGGER_MODULE = "predev_airflow.triggers.credits"


def child(stage: Stage, mode: str, n: int, interval: float, intervals: int) -> dict[str, Any]:
    home = stage.tmp / "airflow-home"
    home.mkdir(exist_ok=True)
    out = stage.tmp / f"fanout-{mode}-{n}.json"
    env = stage.env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW_CONN_PREDEV_DEFAULT=json.dumps(
            {"conn_type": "predev", "host": stage.url, "password": stage.key}
        ),
    )
    argv = [PYTHON, "-m", "bench.fanout_child", mode, str(n), str(interval), str(intervals)]
    proc = subprocess.run(
        [*argv, str(out)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,  # the triggers' own log lines
        stderr=subprocess.PIPE,
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip().splitlines()[-1])
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def rows(stage: Stage, counts: tuple[int, ...], interval: float, intervals: int) -> list[Row]:
    measure = "Trigger fan-out"
    if importlib.util.find_spec(TRIGGER_MODULE) is None:
        return [not_built("4", measure, TRIGGER_MODULE)]
    result: list[Row] = []
    for n in counts:
        try:
            ours = child(stage, "trigger", n, interval, intervals)
            bare = child(stage, "httpx", n, interval, intervals)
        except Exception as exc:
            result.append(failed("4", f"{measure}, N = {n}", exc))
            continue
        req, req_bare = ours["requests_per_interval"], bare["requests_per_interval"]
        rss, rss_bare = ours["rss_per_poller_kib"], bare["rss_per_poller_kib"]
        window = f"{intervals} intervals of {interval:g} s"
        result += [
            Row(
                "4",
                f"{measure}, N = {n}: requests per poll interval",
                f"{req:.2f}",
                f"{req_bare:.1f} (N bare httpx pollers)",
                f"{req / req_bare:.3f}x" if req_bare else "n/a",
                f"≤ {REQUESTS_TARGET:g}",
                req <= REQUESTS_TARGET + 0.05,  # a request on the window's edge
                f"{window}; one event loop, one connection",
            ),
            Row(
                "4",
                f"{measure}, N = {n}: added RSS per trigger",
                f"{rss:.1f} KiB",
                f"{rss_bare:.1f} KiB per bare poller",
                f"{rss / rss_bare:.3f}x" if rss_bare > 0 else "n/a",
                f"< {RSS_TARGET_KIB:g} KiB" if n >= TARGET_N else f"(target at N = {TARGET_N})",
                rss < RSS_TARGET_KIB if n >= TARGET_N else None,
                f"VmRSS delta / N after a warm-up poller; start-up of N: "
                f"{ours['startup_s']:.2f} s vs {bare['startup_s']:.2f} s",
            ),
        ]
    return result
