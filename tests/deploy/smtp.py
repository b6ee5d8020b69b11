"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it receives, for the alert
tests: `with MailServer() as mail: ...; mail.messages` (subject and decoded text)."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

from tests.deploy.harness import LOOPBACK, free_port


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str  # every text part, decoded
    raw: bytes


@dataclass
class _Handler:
    mails: list[Mail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = [
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        ]
        mail = Mail(
            sender=str(envelope.mail_from),
            recipients=tuple(envelope.rcpt_tos),
            subject=str(message.get("subject", "")),
            text="\n".join(str(p) for p in parts),
            raw=raw,
        )
        with self.lock:
            self.mails.append(mail)
        return "250 Message accepted for delivery"


class MailServer:
    """An SMTP server on 127.0.0.1 (a free port), no TLS, no auth; started and stopped by
    the `with` block."""

    def __init__(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
        self.port = free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=LOOPBACK, port=self.port)

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._controller.stop()

    @property
    def mails(self) -> list[Mail]:
        with self._handler.lock:
            return list(self._handler.mails)

    def connection(self, sender: str = "airflow@example.com") -> str:
        """`AIRFLOW_CONN_SMTP_DEFAULT` for this server (JSON form)."""
        import json

        extra = {"from_email": sender, "disable_tls": True, "disable_ssl": True, "timeout": 10}
        return json.dumps(
            {"conn_type": "smtp", "host": LOOPBACK, "port": self.port, "extra": extra}
        )
