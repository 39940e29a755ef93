"""Sending mail over SMTP (smtplib): self-service unlock links now, reminders later. Built by bootstrap
only when ARCHIVE_SMTP_HOST is set; without it the archive sends nothing."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage


class SmtpMailer:
    """archive.ports.Mailer over one SMTP server (a local relay: no login, no TLS here)."""

    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            server.send_message(message)
