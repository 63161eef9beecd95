"""Static files as a deployment serves them: collectstatic's hashed, compressed copies, and
the year-long `immutable` lifetime WhiteNoise gives the hashed names."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from django.core.management import call_command
from django.test import Client

from fleet.static_files import ONE_YEAR
from tests.factories import UserFactory

HASHED_PLOTLY = re.compile(
    r'<script defer src="(/static/vendor/plotly-cartesian\.min\.[0-9a-f]{12}\.js)">'
)
HASHED_CSS = re.compile(r'href="(/static/fleet/site\.[0-9a-f]{12}\.css)"')
REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "dashboards/static/vendor/plotly-cartesian.min.js"


@pytest.fixture
def collected(settings, tmp_path) -> Path:
    """collectstatic into an empty STATIC_ROOT, with the storage the settings name."""
    settings.STATIC_ROOT = str(tmp_path)
    call_command("collectstatic", "--no-input", "-v", "0", "--ignore", "admin")
    return tmp_path


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_pages_name_hashed_files_served_compressed_and_cached_a_year(collected):
    assert (collected / "staticfiles.json").exists()
    client = Client()  # a new handler: WhiteNoise reads STATIC_ROOT when it starts
    client.force_login(UserFactory(username="root", is_superuser=True))
    page = client.get("/").content.decode()
    script = HASHED_PLOTLY.search(page).group(1)
    stylesheet = HASHED_CSS.search(page).group(1)

    answer = client.get(script, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert answer.status_code == 200
    assert answer["Cache-Control"] == f"max-age={ONE_YEAR}, public, immutable"
    assert ONE_YEAR == 31536000
    assert answer["Content-Encoding"] == "br"
    assert brotli.decompress(body(answer)) == VENDORED.read_bytes()

    zipped = client.get(stylesheet, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Cache-Control"] == f"max-age={ONE_YEAR}, public, immutable"
    assert gzip.decompress(body(zipped)) == (REPO / "fleet/static/fleet/site.css").read_bytes()

    # The unhashed name still answers, but only for a minute: it may change under the same name.
    plain = client.get("/static/fleet/site.css")
    assert plain.status_code == 200
    assert plain["Cache-Control"] == "max-age=60, public"


def test_a_name_the_manifest_does_not_hold_is_an_error_once_collected(collected):
    from django.contrib.staticfiles.storage import staticfiles_storage

    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        staticfiles_storage.url("fleet/no-such-file.css")


def test_without_collectstatic_pages_name_the_plain_files(settings, tmp_path):
    from django.contrib.staticfiles.storage import staticfiles_storage

    settings.STATIC_ROOT = str(tmp_path)  # no manifest: a test run, runserver
    assert staticfiles_storage.url("fleet/site.css") == "/static/fleet/site.css"
