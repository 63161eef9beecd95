"""Security headers on every kind of page, and `check --deploy` clean with production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from fleet.ingest.importer import import_file
from fleet.ingest.models import ImportRecord

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def pages(device) -> list[str]:
    return [
        "/",
        f"/tenants/{device.tenant.slug}/",
        f"/devices/{device.pk}/",
        "/devices/",
        "/api/v1/devices",
        f"/api/v1/devices/{device.pk}",
        "/codes/",
        "/codes/0x8024000B/",
        "/triage/",
        "/alerts/",
        "/imports/",
        "/imports/new/",
        "/charts/top_codes.csv",
        "/api/v1/codes/0x8024000B",
    ]


def test_every_page_sends_the_security_headers(logged_in, device):
    for url in pages(device) + ["/login/", "/admin/login/", "/healthz"]:
        response = logged_in.get(url)
        assert response.status_code == 200, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        policy = response["Content-Security-Policy"]
        assert "script-src 'self' 'nonce-" in policy, url
        assert "'unsafe-eval'" not in policy and "frame-ancestors 'none'" in policy, url
        assert "object-src 'none'" in policy, url


def test_policy_allows_no_inline_script_but_the_one_with_this_responses_nonce(
    logged_in, tenant, write_export
):
    record, _ = import_file(write_export(), tenant)
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportRecord.Status.RUNNING)
    response = logged_in.get(reverse("ingest:detail", args=[record.pk]))
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b([^>]*)>", response.content.decode())
    inline = [attrs for attrs in scripts if "src=" not in attrs and "json" not in attrs]
    assert inline == [f' nonce="{nonce}"']
    # A new nonce every response: a leaked one is useless.
    again = logged_in.get(reverse("ingest:detail", args=[record.pk]))
    assert nonce not in again["Content-Security-Policy"]


def test_every_template_script_is_external_json_or_nonced():
    for template in ROOT.glob("*/templates/**/*.html"):
        for attrs in re.findall(r"<script\b([^>]*)>", template.read_text()):
            assert "src=" in attrs or "application/json" in attrs or "csp_nonce" in attrs, (
                f"{template}: inline <script{attrs}> would be blocked by the policy"
            )


def test_hsts_is_sent_over_https_when_secure_cookies_are_on(settings, logged_in):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = logged_in.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in logged_in.get("/")  # never over plain HTTP


def test_plain_http_is_redirected_when_asked_but_not_the_health_check(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/codes/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


def _settings_in_subprocess(env: dict[str, str], *code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *code],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "fleet.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://fleet.example.com",
        "SITE_URL": "https://fleet.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
        "SECURE_COOKIES": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_PRELOAD": "1",
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = production_env(tmp_path)
    result = _settings_in_subprocess(
        env, "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_the_development_defaults(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite3"}
    result = _settings_in_subprocess(
        env, "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode != 0
    for check in ("security.W009", "security.W012", "security.W016", "security.W004"):
        assert check in result.stderr  # secret key, session cookie, CSRF cookie, HSTS


def test_secure_cookies_turn_on_hsts_for_a_year(tmp_path):
    env = production_env(tmp_path)
    result = _settings_in_subprocess(
        env,
        "-c",
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'fleet.settings'; "
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))",
    )
    assert result.stdout.split() == ["31536000", "True", "True", "True", "None"]
