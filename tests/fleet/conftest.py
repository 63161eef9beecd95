"""Fixtures for tests/fleet: the real SMTP server lives in tests/fleet/smtp.py."""

from tests.fleet.receiver import refused_url, webhook_receiver  # noqa: F401, E402 - fixtures
from tests.fleet.smtp import smtp_server  # noqa: F401 - fixture
