"""Core of predev-integrations: ask pre.dev for the prototype-credit balance and judge it.

Kept import-light on purpose: the CLI imports this package on every commit, so heavy
modules (httpx, yaml) are only loaded by the submodules that need them.
"""

from __future__ import annotations

from .__version__ import __version__

#: The `typing` module's flag without importing typing (~7 ms of imports a cache hit does not
#: need); type checkers treat any `TYPE_CHECKING` as true. The modules a cache hit loads use
#: the same idiom.
TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - names for type checkers only
    from typing import Any

    from ._core.forecast import Forecast, Reading, forecast, parse_duration
    from ._core.retry import RetryPolicy
    from ._core.secret import Secret
    from ._core.verdict import Verdict, evaluate
    from ._http.client import AsyncCreditsClient, CreditsClient

__all__ = [
    "AsyncCreditsClient",
    "CreditsClient",
    "Forecast",
    "Reading",
    "RetryPolicy",
    "Secret",
    "Verdict",
    "__version__",
    "evaluate",
    "forecast",
    "parse_duration",
]

#: Public name -> the private module that defines it (the layers are described in
#: CONTRIBUTING.md; `errors` is the one public submodule).
_LAZY = {
    "CreditsClient": "._http.client",
    "AsyncCreditsClient": "._http.client",
    "Forecast": "._core.forecast",
    "Reading": "._core.forecast",
    "forecast": "._core.forecast",
    "parse_duration": "._core.forecast",
    "RetryPolicy": "._core.retry",
    "Secret": "._core.secret",
    "evaluate": "._core.verdict",
    "Verdict": "._core.verdict",
}


def __getattr__(name: str) -> Any:
    """Resolve public names on first use so `import predev_integrations` stays cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
