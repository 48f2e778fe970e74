"""Email: sent over SMTP when it is configured, and never with a secret in the logs.

`JUNCTION_SMTP_URL` names the server: `smtp://user:password@host:587` (STARTTLS when
the server offers it), `smtps://…:465` (TLS from the start), or `smtp://127.0.0.1:1025`
for a local capture server (the demo starts one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from junction.settings import Settings

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:password@host:587 or smtps://…")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


class Mailer:
    def __init__(self, server: SmtpServer | None, sender: str) -> None:
        self.server = server
        self.sender = sender

    @property
    def configured(self) -> bool:
        return self.server is not None

    def require(self) -> None:
        """Refuse at once what would need an email that cannot be sent."""
        if self.server is None:
            raise MailError("email is not configured on this server")

    async def send(self, to: str, subject: str, body: str) -> None:
        if self.server is None:
            # Nowhere to send it: say so (the address and subject only, never the body,
            # which carries a one-time link).
            log.warning("no SMTP server is configured; not sent: %r to %s", subject, to)
        self.require()
        assert self.server is not None
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.tls,
                # STARTTLS when offered, except to a capture server on this machine.
                start_tls=None if server.host not in ("127.0.0.1", "localhost") else False,
                timeout=20,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.error("could not send %r to %s: %s", subject, to, type(exc).__name__)
            raise MailError("the email could not be sent; try again later") from None
        log.info("sent %r to %s", subject, to)


def build_mailer(settings: Settings) -> Mailer:
    url = settings.smtp_url.get_secret_value()
    return Mailer(SmtpServer.parse(url) if url else None, settings.mail_from)
