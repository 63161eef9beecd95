"""Fixtures for tests/fleet: the real SMTP server lives in tests/fleet/smtp.py."""

from tests.fleet.psa_server import psa_server  # noqa: F401 - fixture
from tests.fleet.receiver import (  # noqa: F401 - fixtures
    chat_receiver,
    refused_url,
    webhook_receiver,
)
from tests.fleet.smtp import smtp_server  # noqa: F401 - fixture
