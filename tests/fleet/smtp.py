"""A real aiosmtpd SMTP server on a free loopback port that collects what it receives."""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.services import free_port, wait_until


@dataclass
class Received:
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part in {self.subject!r}"
        return part.get_content()


class _Collector:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd API
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.received.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


class SmtpServer:
    """Keeps its port across stop/start so a test can take the server down and bring it back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 5) -> list[Received]:
        wait_until(lambda: len(self.messages()) >= count, timeout, f"{count} emails")
        return self.messages()


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """Start the server and point Django's SMTP settings at it (tests otherwise use locmem)."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "fleet-errors@example.test"
    settings.SITE_URL = "https://fleet.example.test"
    try:
        yield server
    finally:
        server.stop()
