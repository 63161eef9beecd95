import subprocess
import sys
from pathlib import Path

import pytest

from fleet.env import ImproperEnvironment, check_oidc, env_bool, env_int, parse_database_url

REPO = Path(__file__).resolve().parents[2]


def test_sqlite_url_resolves_relative_to_the_project(tmp_path):
    db = parse_database_url("sqlite:///var/x.sqlite3", tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var" / "x.sqlite3")
    assert db["TEST"]["NAME"] == str(tmp_path / "var" / "test_x.sqlite3")


def test_postgres_url_gives_each_part(tmp_path):
    db = parse_database_url("postgres://fleet:s%40cret@db.internal:5433/fleetdb", tmp_path)
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "fleet",
        "s@cret",
        "db.internal",
        "5433",
        "fleetdb",
    )


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgres://u@h:notaport/db", "postgres://u@h/", "sqlite://"]
)
def test_unusable_database_urls_are_refused(url, tmp_path):
    with pytest.raises(ImproperEnvironment, match="DATABASE_URL"):
        parse_database_url(url, tmp_path)


def test_booleans_and_integers_are_strict(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperEnvironment, match="X_FLAG"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env_bool("X_FLAG", False) is True
    monkeypatch.setenv("X_NUM", "12x")
    with pytest.raises(ImproperEnvironment, match="X_NUM"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperEnvironment, match="at least 1"):
        env_int("X_NUM", 1, minimum=1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "perhaps"),
        ("DATABASE_URL", "oracle://x/y"),
        ("SMTP_PORT", "twenty-five"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("DB_POOL_MAX", "0"),
        ("DB_POOL_TIMEOUT", "soon"),
        ("FIELD_ENCRYPTION_KEY", "not-a-fernet-key"),
        ("WEBHOOK_TIMEOUT", "0"),
        ("OIDC_ISSUER", "https://login.microsoftonline.com/tid/v2.0"),
        ("OIDC_TIMEOUT", "0"),
    ],
)
def test_a_bad_setting_stops_manage_py_with_one_clear_line(name, value):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", name: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"fleet-errors: bad setting: {name}=")
    assert "Traceback" not in result.stderr


def test_require_secret_key_refuses_the_development_key():
    base = {"PATH": "/usr/bin:/bin", "REQUIRE_SECRET_KEY": "1"}
    refused = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("fleet-errors: bad setting: SECRET_KEY is empty")
    accepted = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env={**base, "SECRET_KEY": "k" * 60},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert accepted.returncode == 0, accepted.stderr


ENDPOINTS = ("OIDC_AUTHORIZATION_ENDPOINT", "OIDC_TOKEN_ENDPOINT", "OIDC_JWKS_URI")


@pytest.mark.parametrize(
    ("client_id", "issuer", "named", "scopes", "says"),
    [
        ("", "https://idp.example", (), "openid", "OIDC_ISSUER=.* is set but OIDC_CLIENT_ID"),
        ("", "", ("OIDC_TOKEN_ENDPOINT",), "openid", "OIDC_TOKEN_ENDPOINT=.* is set but"),
        ("fleet", "", ("OIDC_TOKEN_ENDPOINT",), "openid", "OIDC_AUTHORIZATION_ENDPOINT, "),
        ("fleet", "idp.example", (), "openid", "OIDC_ISSUER='idp.example' is not an http"),
        ("fleet", "https://idp.example", (), "email profile", "must include openid"),
    ],
)
def test_half_a_single_sign_on_configuration_is_refused(client_id, issuer, named, scopes, says):
    endpoints = {
        name: (f"https://idp.example/{name}" if name in named else "") for name in ENDPOINTS
    }
    with pytest.raises(ImproperEnvironment, match=says):
        check_oidc(client_id=client_id, issuer=issuer, endpoints=endpoints, scopes=scopes)


def test_an_issuer_or_all_three_endpoints_is_enough():
    empty = dict.fromkeys(ENDPOINTS, "")
    check_oidc(client_id="", issuer="", endpoints=empty, scopes="openid")
    check_oidc(client_id="f", issuer="https://idp.example", endpoints=empty, scopes="openid")
    every = {name: f"https://idp.example/{name}" for name in ENDPOINTS}
    check_oidc(client_id="f", issuer="", endpoints=every, scopes="openid email")
