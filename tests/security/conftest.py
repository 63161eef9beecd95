import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """These tests log in dozens of times; the real hasher's cost is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def write_export(tmp_path):
    """Write a small ConfigMgr-style export (header and rows given) and return its path."""

    def write(*rows: str, name: str = "export.csv") -> object:
        path = tmp_path / name
        lines = (
            ["MachineName,LastEnforcementTime,ErrorCode", *rows]
            if rows
            else [
                "MachineName,LastEnforcementTime,ErrorCode",
                "PC-1,2025-02-12 10:00:00,0x8024000B",
            ]
        )
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def hostile_fleet(db):
    from tests.security.hostile import hostile_fleet as make

    return make()
