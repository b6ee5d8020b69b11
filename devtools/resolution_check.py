"""Does the dev venv hold what pip would install? `make resolution-check`.

`make install` installs the dev venv with uv, for speed; the figures in CONTRIBUTING.md and the
deployment tests were made on what pip resolves. The two resolvers can pick different versions
from the same requirements where the newest release of one rules out the newest of another
(kombu 5.7.0 pins packaging==26.3: pip took kombu 5.7.0, uv packaging 26.4 and kombu 5.6.2),
and the Makefile's LIKE_PIP steers uv to pip's answer. This compares pip's answer, the report
of a dry run (`pip install --dry-run --ignore-installed --report FILE`), with the venv, package
by package, and exits 1 on any difference.
Development tooling: not part of the installed package.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from packaging.utils import canonicalize_name

#: What `python -m venv` puts in every venv, which pip's report of a fresh install leaves out.
BOOTSTRAP = frozenset({"pip", "setuptools"})


def resolved(report: Mapping[str, Any]) -> dict[str, str]:
    """Name -> version of everything a pip `--report` would install."""
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in report["install"]
    }


def installed() -> dict[str, str]:
    """Name -> version of every distribution this interpreter sees."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def differences(pip: Mapping[str, str], venv: Mapping[str, str]) -> list[str]:
    """One line per package whose version differs, is missing, or only the venv has."""
    lines = []
    for name in sorted(set(pip) | set(venv)):
        want, have = pip.get(name), venv.get(name)
        if want == have or (want is None and name in BOOTSTRAP):
            continue
        lines.append(f"{name}: pip {want or '(not installed)'}, venv {have or '(missing)'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m devtools.resolution_check PIP_REPORT.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as file:
        pip = resolved(json.load(file))
    found = differences(pip, installed())
    for line in found:
        print(line)
    print(
        f"resolution-check: {len(pip)} packages, "
        + (f"{len(found)} differ from pip's resolution" if found else "the same as pip's")
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
