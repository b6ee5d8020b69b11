"""Part 3: where the time goes — imports on each path, the CA bundle, the handshake.

For each command of part 1: its wall time beyond `python -c pass` (from part 1, if it ran),
next to its imports (`-X importtime`, which overstates them: it times and prints every
import, so the shares are upper bounds and are not subtracted) and the CA-bundle load and
TLS handshake every live check pays (timed in-process by probe.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from . import imports
from .cli_runs import HTTPX_ONE_LINER, STDLIB, VENDOR_SNIPPET
from .env import CACHE_TTL, Stage
from .table import Row

PROBE = Path(__file__).with_name("probe.py")
LIVE = {  # part 1's case -> what it is called here
    "live": "Live CLI check",
    "httpx": "Bare httpx one-liner",
    "requests": "Vendor's requests snippet",
    "stdlib": "Standard library",
}


def probe(stage: Stage, tries: int) -> dict[str, Any]:
    """TLS costs timed inside the runtime venv (see probe.py)."""
    proc = subprocess.run(
        [stage.runtime.python, "-I", str(PROBE), str(tries)],  # -I: bench/ not on sys.path
        env=stage.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _imports(stage: Stage, repeats: int) -> dict[str, imports.PathCost]:
    env, cwd = stage.env(), stage.work
    runtime, requests = stage.runtime.python, stage.requests.python

    def runs(python: str, argv: list[str]) -> list[list[imports.Import]]:
        return [imports.run(python, argv, env, cwd) for _ in range(repeats)]

    started = {imp.name for imp in imports.run(runtime, ["-c", "pass"], env, cwd)}
    httpx = runs(runtime, ["-c", HTTPX_ONE_LINER])
    live = runs(runtime, [stage.cli])
    return {
        "hit": imports.cost(runs(runtime, [stage.cli, "--cache-ttl", CACHE_TTL]), started),
        "live": imports.cost(live, started),
        "live-httpx": imports.cost(live, {imp.name for imp in httpx[0]}),
        "httpx": imports.cost(httpx, started),
        "requests": imports.cost(runs(requests, ["-c", VENDOR_SNIPPET]), started),
        "stdlib": imports.cost(runs(runtime, ["-c", STDLIB]), started),
    }


def split(stage: Stage, case: str, imported: float, tls: float) -> tuple[str, str]:
    """(wall time beyond `python -c pass` if part 1 ran, what it holds)."""
    beyond = "n/a (part 1 not run)"
    if {case, "pass"} <= stage.medians.keys():
        beyond = f"{(stage.medians[case] - stage.medians['pass']) * 1000:.1f} ms"
    parts = f"of which imports ≤ {imported:.1f} ms"
    return beyond, parts + (f", CA bundle + handshake {tls:.1f} ms" if tls else "")


def rows(stage: Stage, repeats: int) -> list[Row]:
    stage.fill_cache()
    cost = _imports(stage, repeats)
    hit, beyond_httpx = cost["hit"], cost["live-httpx"]
    avoidable = imports.avoidable_on_cache_hit(hit)
    banned_hit = imports.loaded(hit, imports.FORBIDDEN["cache hit"])
    banned_live = imports.loaded(cost["live"], imports.FORBIDDEN["live"])
    tls = probe(stage, max(repeats, 5) * 4)
    ca_ms, handshake_ms = float(tls["ca_bundle_ms"]), float(tls["handshake_ms"])
    how = f"`-X importtime`, median of {repeats} runs"
    stage.sections += [
        imports.render_map("Cache hit: imports beyond `python -c pass`", hit, True),
        imports.render_map(
            "Live check: imports beyond the bare httpx one-liner", beyond_httpx, False
        ),
        imports.render_map("Live check: imports beyond `python -c pass`", cost["live"], False),
    ]
    wall, parts = split(stage, "hit", hit.total_ms, 0.0)
    result = [
        Row(
            "3",
            "Cache hit: time beyond `python -c pass`",
            wall,
            f"{hit.modules} modules imported",
            "",
            "no " + ", ".join(imports.FORBIDDEN["cache hit"]),
            not banned_hit,
            f"{parts}; avoidable imports {sum(avoidable.values()):.1f} ms: "
            f"{imports.heavy(avoidable)}; {how}"
            + (f"; LOADED: {', '.join(banned_hit)}" if banned_hit else ""),
        ),
        Row(
            "3",
            "Live check: imports beyond the bare httpx one-liner",
            f"{beyond_httpx.total_ms:.1f} ms",
            f"{beyond_httpx.modules} modules",
            "",
            "no " + ", ".join(imports.FORBIDDEN["live"]),
            not banned_live,
            f"heavy (ms): {imports.heavy(beyond_httpx.per_package)}"
            + (f"; LOADED: {', '.join(banned_live)}" if banned_live else ""),
        ),
    ]
    for case, name in LIVE.items():
        wall, parts = split(stage, case, cost[case].total_ms, ca_ms + handshake_ms)
        result.append(
            Row(
                "3",
                f"{name}: time beyond `python -c pass`",
                wall,
                f"{cost[case].modules} modules imported",
                "",
                "— (reference)",
                None,
                f"{parts}; heavy imports (ms): {imports.heavy(cost[case].per_package, 4)}",
            )
        )
    return [
        *result,
        Row(
            "3",
            f"CA bundle load ({tls['ca_certs']} CAs: certifi + the bench CA)",
            f"{ca_ms:.1f} ms",
            f"{tls['empty_context_ms']:.2f} ms (empty context)",
            "",
            "— (reference)",
            None,
            "`ssl.create_default_context(cafile=...)`, in-process median; every live check pays it",
        ),
        Row(
            "3",
            f"TLS handshake on loopback ({tls['tls']})",
            f"{handshake_ms:.1f} ms",
            f"{tls['connect_ms']:.2f} ms (TCP connect)",
            "",
            "— (reference)",
            None,
            "ECDSA P-256 server certificate; in-process, median; the sandbox is Python's ssl",
        ),
    ]
