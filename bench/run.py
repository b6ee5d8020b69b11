"""Run the parts in order and print one markdown table of figures from this single run,
then the import map (where the CLI's start-up goes) from the same run."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import action, cli_runs, fanout, precommit, where
from .env import Stage
from .table import Row, failed, render


@dataclass(frozen=True)
class Options:
    repeats: int
    import_repeats: int
    fanout: tuple[int, ...]
    quick: bool


Part = Callable[[Stage, Options], list[Row]]


def _parts() -> dict[str, tuple[str, Part]]:
    return {
        "1": ("Cache hit and live check vs baselines", lambda s, o: cli_runs.rows(s, o.repeats)),
        "3": ("Where the time goes", lambda s, o: where.rows(s, o.import_repeats)),
        "4": (
            "Trigger fan-out",
            lambda s, o: fanout.rows(s, o.fanout, *((0.3, 2) if o.quick else (1.0, 4))),
        ),
        "5": (
            "Action setup",
            lambda s, o: action.rows(s, *((1, 2) if o.quick else (3, 11))),
        ),
        "6": ("Pre-commit", lambda s, o: precommit.rows(s, o.repeats)),
        "7": ("Runway forecast, walk-forward", lambda s, o: _runway(s, 1 if o.quick else 6)),
    }


def _runway(stage: Stage, seeds: int) -> list[Row]:
    """The evaluation runs in this process: it measures how right the forecast is, not how
    fast it starts, so the dev venv serves."""
    from . import runway_eval

    found, section = runway_eval.bench_rows(seeds)
    stage.sections.append(section)
    return found


def _csv_ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny N and few repeats (smoke)")
    parser.add_argument("--repeats", type=int, help="interleaved runs per case (default 31)")
    parser.add_argument("--fanout", type=_csv_ints, help="trigger counts (default 10,100,1000)")
    parts = _parts()
    parser.add_argument(
        "--only",
        type=lambda t: t.split(","),
        help=f"parts to run, of {','.join(parts)} (part 1 gives rows 1 and 2)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(parts))
    if unknown:
        parser.error(f"no part {', '.join(unknown)}; choose from {', '.join(parts)}")
    opts = Options(
        repeats=args.repeats or (2 if args.quick else 31),
        import_repeats=1 if args.quick else 5,
        fanout=args.fanout or ((2,) if args.quick else (10, 100, 1000)),
        quick=args.quick,
    )
    wanted = args.only or list(parts)
    rows: list[Row] = []
    started = time.monotonic()
    with Stage() as stage:
        for key in wanted:
            title, part = parts[key]
            print(f"bench: part {key}: {title} ...", file=sys.stderr, flush=True)
            try:
                rows.extend(part(stage, opts))
            except Exception as exc:
                rows.append(failed(key, title, exc))
    took = time.monotonic() - started
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"predev-integrations benchmarks, {when}; Python {platform.python_version()} on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{opts.repeats} interleaved repeats; took {took:.0f} s.\n"
    )
    print(render(rows))
    for section in stage.sections:
        print(f"\n{section}")
    return 0
