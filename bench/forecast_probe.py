"""Run inside the runtime venv: the runway's in-process costs at the largest history we keep.

`python forecast_probe.py N` prints one JSON object of medians over N tries (ms): parsing a
full history file, appending a reading to it (read, merge, atomic replace, under the lock),
and `forecast()` over it (the newest 500 fitted: about 125 000 pairwise slopes).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from predev_integrations._cli import history
from predev_integrations._core.forecast import MAX_FIT, forecast


def timed(action: Callable[[], object], tries: int) -> float:
    samples = []
    for _ in range(tries):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(tries: int) -> dict[str, object]:
    count = history.MAX_READINGS
    now = time.time()
    # A reading every 10 minutes over the last week, falling steadily: the fit runs in full.
    readings = [(now - 600.0 * (count - i), 450.0 + count - i) for i in range(count)]
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
        "fitted": min(count, MAX_FIT),
        "file_bytes": len(raw),
        "parse_ms": timed(lambda: history.parse(raw), tries),
        "append_ms": append_ms,
        "forecast_ms": timed(lambda: forecast(readings, 50, now=now), tries),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
