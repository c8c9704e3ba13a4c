"""Sending email: through SMTP when ``SMTP_URL`` is set, else into an outbox directory.

The outbox (``MAIL_OUTBOX_DIR``, ``instance/outbox`` by default) holds one ``.eml``
file per message: what a developer opens to follow a confirmation link, and what
tests read. Production sets ``SMTP_URL`` (``smtp://user:password@host:587``, STARTTLS;
``smtps://`` for implicit TLS). Messages hold personal data (the address, a token),
so they are never logged.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


def _message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2] or 'localhost'}>"
    message["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(body)
    return message


@dataclass(frozen=True)
class OutboxMailer:
    """Writes each message to ``directory`` as an .eml file (development and tests)."""

    directory: Path
    sender: str

    def send(self, to: str, subject: str, body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(bytes(_message(self.sender, to, subject, body)))
        temporary.replace(self.directory / name)


@dataclass(frozen=True)
class SmtpMailer:
    url: str
    sender: str
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        parts = urlsplit(self.url)
        implicit_tls = parts.scheme == "smtps"
        port = parts.port or (465 if implicit_tls else 587)
        context = ssl.create_default_context()
        if implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                parts.hostname or "", port, timeout=self.timeout, context=context
            )
        else:
            client = smtplib.SMTP(parts.hostname or "", port, timeout=self.timeout)
        with client:
            if not implicit_tls:
                client.starttls(context=context)
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(_message(self.sender, to, subject, body))


def mailer_for(settings) -> Mailer:  # type: ignore[no-untyped-def]
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    return OutboxMailer(Path(settings.mail_outbox_dir), settings.mail_from)
