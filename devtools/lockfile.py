"""Read the Action's lock (`action-requirements.txt`, written by `make lock`) without pip.

Used by the lock and install tests. A lock line is `name==version [; marker]` followed by
`--hash=sha256:...` options, continued with backslashes; comments start with `#`.
Development tooling: not part of the installed package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LOCK = Path(__file__).resolve().parents[1] / "action-requirements.txt"

_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: tuple[str, ...]

    def applies(self, environment: dict[str, str] | None = None) -> bool:
        """True when pip would install this line on `environment` (default: this Python)."""
        return self.marker is None or self.marker.evaluate(environment)


def parse(text: str) -> list[Pin]:
    """Every pinned line; raises ValueError for a line that is not `name==version`."""
    pins = []
    for raw in text.replace("\\\n", " ").splitlines():
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        requirement = Requirement(_HASH.sub("", entry).strip())
        [spec] = requirement.specifier  # exactly one `==` pin
        if spec.operator != "==" or "*" in spec.version:
            raise ValueError(f"not an exact pin: {entry[:80]!r}")
        pins.append(
            Pin(
                canonicalize_name(requirement.name),
                Version(spec.version),
                requirement.marker,
                tuple(_HASH.findall(entry)),
            )
        )
    return pins


def read(path: Path = LOCK) -> list[Pin]:
    return parse(path.read_text(encoding="utf-8"))
