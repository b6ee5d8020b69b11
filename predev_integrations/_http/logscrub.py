"""Scrub what httpx and httpcore log about our requests: server text, and the key if echoed.

httpx logs every answer's reason phrase at INFO (`HTTP Request: GET ... "HTTP/1.1 401 <reason>"`)
and httpcore logs the answer's headers at DEBUG; both are server-controlled and reach Airflow
task logs. During an attempt the key is held in a context variable, and a filter on those
loggers rewrites each record as one clean, redacted line. Records of other code's requests
(no key set in their context) pass untouched.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from .._core.sanitize import safe_text
from .._core.secret import Secret

#: httpcore logs through per-module loggers, and a logger's filters do not apply to its
#: children, so each is named.
LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_KEY: contextvars.ContextVar[Secret | None] = contextvars.ContextVar("predev_log_key", default=None)


class _Scrub(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        key = _KEY.get()
        if key is not None:
            record.msg = safe_text(record.getMessage(), key, 500)
            record.args = ()
        return True


_FILTER = _Scrub()


def install() -> None:
    """Add the filter to the HTTP libraries' loggers, once."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@contextlib.contextmanager
def scrubbing(key: Secret) -> Iterator[None]:
    """Within the block, HTTP library log records are cleaned and redacted of `key`."""
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)
