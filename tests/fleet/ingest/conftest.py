"""Helpers for the ingest tests: small generated exports.

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
