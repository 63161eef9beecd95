"""Helpers for the ingest tests: small generated exports and a broker that is down.

The committed export files and their expected counts are in `tests.fleet.ingest.exports`."""

from pathlib import Path

import pytest

# Its asserts explain themselves in a failing test's report, as a test module's do.
pytest.register_assert_rewrite("tests.fleet.ingest.exports")


@pytest.fixture
def write_file(tmp_path):
    """Write `text` in `encoding` to a temp file and return its path."""

    def write(text: str, name: str = "export.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.fixture
def dead_broker(tmp_path):
    """Point Celery at a port nothing listens on: queueing fails fast, as when Redis is down."""
    from tests.services import RedisServer, broker

    with broker(RedisServer(tmp_path).url):
        yield
