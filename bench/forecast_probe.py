"""Run inside the runtime venv: the runway's in-process costs at the largest history we keep.

`python forecast_probe.py N` prints one JSON object of medians over N tries (ms): parsing a
full history file (a check every 10 seconds for five weeks, thinned as the CLI keeps it),
appending a reading to it (read, merge, thin, atomic replace, under the lock), and
`forecast()` over it (the spending model over four weeks of hours, and the walk to the floor).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from predev_integrations._cli import history
from predev_integrations._core.forecast import forecast


def timed(action: Callable[[], object], tries: int) -> float:
    samples = []
    for _ in range(tries):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(tries: int) -> dict[str, object]:
    now = time.time()
    count = int(35 * 86_400 / 10)  # as bench/env.py's largest_history, which needs no venv
    # Whole credits, as the API reports them (`"creditsRemaining": 450`) and the history keeps.
    every: list[tuple[float, float]] = [
        (now - 10.0 * (count - i), 450 + (count - i) // 40) for i in range(count)
    ]
    readings = history.thin(every, now)
    count = len(readings)
    text = history.serialize(readings)
    raw = text.encode()
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/history.json"

        def append() -> None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            history.append(path, now, 450.0)

        append_ms = timed(append, tries)
    result = forecast(readings, 50, now=now)
    assert result.status == "known", result
    return {
        "readings": count,
        "span_days": round((readings[-1][0] - readings[0][0]) / 86_400, 1),
        "file_bytes": len(raw),
        "parse_ms": timed(lambda: history.parse(raw), tries),
        "append_ms": append_ms,
        "forecast_ms": timed(lambda: forecast(readings, 50, now=now), tries),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
