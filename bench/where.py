"""Part 3: where the CLI's time goes — imports on each path, the CA bundle, the handshake."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from . import imports
from .cli_runs import HTTPX_ONE_LINER
from .env import CACHE_TTL, Stage
from .table import Row

PROBE = Path(__file__).with_name("probe.py")


def probe(stage: Stage, tries: int) -> dict[str, object]:
    """TLS costs timed inside the runtime venv (see probe.py)."""
    proc = subprocess.run(
        [stage.runtime.python, str(PROBE), str(tries)],
        env=stage.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _imports(stage: Stage, repeats: int) -> dict[str, imports.PathCost]:
    env, cwd, python = stage.env(), stage.work, stage.runtime.python

    def runs(argv: list[str]) -> list[list[imports.Import]]:
        return [imports.run(python, argv, env, cwd) for _ in range(repeats)]

    started = {imp.name for imp in imports.run(python, ["-c", "pass"], env, cwd)}
    httpx = {imp.name for imp in imports.run(python, ["-c", HTTPX_ONE_LINER], env, cwd)}
    hit, live = runs([stage.cli, "--cache-ttl", CACHE_TTL]), runs([stage.cli])
    return {
        "hit": imports.cost(hit, started),
        "live": imports.cost(live, started),
        "live-httpx": imports.cost(live, httpx),
    }


def _spent(stage: Stage, name: str, imported: float) -> str:
    """Wall time beyond `python -c pass` against its import share, when part 1 ran."""
    if not {name, "pass"} <= stage.medians.keys():
        return ""
    extra = (stage.medians[name] - stage.medians["pass"]) * 1000
    return f"; wall time beyond `python -c pass`: {extra:.1f} ms, of which imports ≈ {imported:.1f}"


def rows(stage: Stage, repeats: int) -> list[Row]:
    stage.fill_cache()
    cost = _imports(stage, repeats)
    hit, live, beyond_httpx = cost["hit"], cost["live"], cost["live-httpx"]
    avoidable = imports.avoidable_on_cache_hit(hit)
    banned_hit = imports.loaded(hit, imports.FORBIDDEN["cache hit"])
    banned_live = imports.loaded(live, imports.FORBIDDEN["live"])
    tls = probe(stage, max(repeats, 5) * 4)
    how = f"`-X importtime`, median of {repeats} runs (it inflates times a little)"
    stage.sections += [
        imports.render_map("Cache hit: imports beyond `python -c pass`", hit, True),
        imports.render_map(
            "Live check: imports beyond the bare httpx one-liner", beyond_httpx, False
        ),
        imports.render_map("Live check: imports beyond `python -c pass`", live, False),
    ]
    return [
        Row(
            "3",
            "Cache hit: imports beyond `python -c pass`",
            f"{hit.total_ms:.1f} ms",
            f"{hit.modules} modules",
            "",
            "no " + ", ".join(imports.FORBIDDEN["cache hit"]),
            not banned_hit,
            f"{how}; avoidable {sum(avoidable.values()):.1f} ms: {imports.heavy(avoidable)}"
            + (f"; LOADED: {', '.join(banned_hit)}" if banned_hit else "")
            + _spent(stage, "hit", hit.total_ms),
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
        Row(
            "3",
            "Live check: imports beyond `python -c pass`",
            f"{live.total_ms:.1f} ms",
            f"{live.modules} modules",
            "",
            "— (reference)",
            None,
            f"heavy (ms): {imports.heavy(live.per_package)}" + _spent(stage, "live", live.total_ms),
        ),
        Row(
            "3",
            f"CA bundle load ({tls['ca_certs']} CAs: certifi + the bench CA)",
            f"{tls['ca_bundle_ms']:.1f} ms",
            f"{tls['empty_context_ms']:.2f} ms (empty context)",
            "",
            "— (reference)",
            None,
            "`ssl.create_default_context(cafile=...)`, in-process median; every live check pays it",
        ),
        Row(
            "3",
            f"TLS handshake on loopback ({tls['tls']})",
            f"{tls['handshake_ms']:.1f} ms",
            f"{tls['connect_ms']:.2f} ms (TCP connect)",
            "",
            "— (reference)",
            None,
            "ECDSA P-256 server certificate; in-process, median; the sandbox is Python's ssl",
        ),
    ]
