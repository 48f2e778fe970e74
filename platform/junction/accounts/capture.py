"""A local SMTP server that keeps what it receives: the demo's outbox.

The demo points Junction's mail at it and prints each message's links, so a sign-up can
be finished without a real mail server. Nothing leaves the machine.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class CapturedMail:
    to: list[str]
    subject: str
    body: str

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.body)


class _Keep:
    def __init__(self, received: Callable[[CapturedMail], None]) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        part = parsed.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        self.received(CapturedMail(list(envelope.rcpt_tos), str(parsed["Subject"]), body))
        return "250 kept"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MailCapture:
    """An SMTP server on 127.0.0.1 (a free port unless given) keeping every message."""

    def __init__(
        self, port: int = 0, on_message: Callable[[CapturedMail], None] | None = None
    ) -> None:
        self.messages: list[CapturedMail] = []
        self._lock = threading.Lock()
        self._on_message = on_message
        self._controller = Controller(
            _Keep(self._received), hostname="127.0.0.1", port=port or _free_port()
        )

    def _received(self, mail: CapturedMail) -> None:
        with self._lock:
            self.messages.append(mail)
        if self._on_message is not None:
            self._on_message(mail)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    def to(self, address: str) -> list[CapturedMail]:
        with self._lock:
            return [
                mail for mail in self.messages if address.lower() in (a.lower() for a in mail.to)
            ]
