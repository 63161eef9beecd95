"""Benchmark: first load of `/` in headless Chromium with a cold cache, partial vs full plotly.js.

    python bench/bench_first_load.py

Two builds are collected and served in the same run, each by its own process (the settings of a
deployment: DEBUG=0, collectstatic into a fresh STATIC_ROOT, WhiteNoise serving it):
- **today** (the baseline): the full plotly.min.js 3.7.0 (npm `plotly.js-dist-min`, fetched
  once into var/bench/) under the name the templates use, stored as before this change
  (whitenoise's CompressedStaticFilesStorage: no hashed names, so a minute's cache);
- **partial**: the repo as it is: the vendored cartesian bundle, hashed names, gzip + Brotli;
- **partial-gzip**: the same without the .br copies, as nginx (docker-compose.yml) serves it.

A logged-in superuser opens `/` in a new browser context. Reported: the JS + CSS bytes the
browser parses (decoded bodies), the bytes transferred for the whole load (encoded bodies +
headers), the shortest `max-age` among those assets and whether all are `immutable`, and the
load time (informational: this machine is shared). Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FULL_PACKAGE, FULL_VERSION = "plotly.js-dist-min", "3.7.0"
# The same file the plotly Python package 6.x ships as package_data/plotly.min.js.
FULL_SHA256 = "8ef4c6ab1369f0019611cbcd2d5b8aafef23e5d19ef58c39d4b4249831fe2180"
CACHE = REPO / "var" / "bench"
PARSED_TARGET, TRANSFER_TARGET, YEAR = 1_500_000, 600_000, 31_536_000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic"]


def full_bundle() -> Path:
    """The full plotly.min.js of the same plotly.js version, from the npm registry (once)."""
    bundle = CACHE / f"plotly-{FULL_VERSION}.min.js"
    if not bundle.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            subprocess.run(
                ["npm", "pack", "--silent", f"{FULL_PACKAGE}@{FULL_VERSION}"],
                cwd=work,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            tarball = Path(work) / f"{FULL_PACKAGE}-{FULL_VERSION}.tgz"
            subprocess.run(["tar", "-xzf", str(tarball), "-C", work], check=True)
            shutil.copy(Path(work) / "package" / "plotly.min.js", bundle)
    if hashlib.sha256(bundle.read_bytes()).hexdigest() != FULL_SHA256:
        bundle.unlink()
        raise SystemExit(f"{FULL_PACKAGE}@{FULL_VERSION}: checksum mismatch")
    return bundle


def serve_and_measure(build: str, workdir: Path) -> dict:
    """In this (child) process: collect the build, serve it, load `/` once in Chromium."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="fleet.settings",
        DEBUG="0",
        DATABASE_URL=f"sqlite:///{workdir}/db.sqlite3",
        LOG_LEVEL="WARNING",
        DJANGO_ALLOW_ASYNC_UNSAFE="true",
    )
    import django
    from django.conf import settings

    django.setup()
    settings.STATIC_ROOT = str(workdir / "static")
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    if build == "today":
        overlay = workdir / "overlay" / "vendor"
        overlay.mkdir(parents=True)
        shutil.copy(full_bundle(), overlay / "plotly-cartesian.min.js")
        settings.STATICFILES_DIRS = [str(overlay.parent)]  # found before the app's copy
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
        }

    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.test import Client

    call_command("migrate", "--no-input", "-v", "0")
    call_command("collectstatic", "--no-input", "-v", "0", "--ignore", "admin")
    if build in ("today", "partial-gzip"):
        # Today's install had no Brotli; nginx (docker-compose) serves only the .gz copies.
        for copy in Path(settings.STATIC_ROOT).rglob("*.br"):
            copy.unlink()
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        return load_once(base, session)
    finally:
        server.shutdown()


def load_once(base: str, session: str) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.tools import CHROMIUM

    responses = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()  # a new context: an empty cache
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("response", lambda response: responses.append(response))
        tab.goto(f"{base}/", wait_until="load")
        tab.wait_for_function("window.Plotly !== undefined", timeout=15_000)
        timing = tab.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n.loadEventEnd - n.startTime; }"
        )
        assets, transferred = [], 0
        for response in responses:
            sizes = response.request.sizes()
            transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            if response.request.resource_type in ("script", "stylesheet"):
                headers = response.headers
                lifetime = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
                assets.append(
                    {
                        "url": response.url[len(base) :],
                        "parsed": len(response.body()),
                        "encoding": headers.get("content-encoding", "identity"),
                        "max_age": int(lifetime.group(1)) if lifetime else 0,
                        "immutable": "immutable" in headers.get("cache-control", ""),
                    }
                )
        browser.close()
    return {
        "assets": assets,
        "parsed": sum(a["parsed"] for a in assets),
        "transferred": transferred,
        "max_age": min(a["max_age"] for a in assets),
        "immutable": all(a["immutable"] for a in assets),
        "load_ms": timing,
        "errors": errors,
    }


def measure(build: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"first-load-{build}-") as work:
        out = subprocess.run(
            [sys.executable, __file__, "--child", build, work],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for run_all; same run")
    # run_all passes each database in turn: the bytes of a page load do not depend on it, so
    # this runs once, on its own SQLite file, and skips the PostgreSQL pass.
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--child", nargs=2, metavar=("BUILD", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(serve_and_measure(args.child[0], Path(args.child[1]))))
        return

    from bench.common import Figure, database_label, report

    if database_label(args.database_url) != "sqlite":
        print("first_load: measured once, on SQLite (the database does not change the bytes)")
        return

    full_bundle()  # fetched before either build is timed
    today, partial, gzipped = measure("today"), measure("partial"), measure("partial-gzip")
    for name, run in (("today", today), ("partial", partial), ("partial-gzip", gzipped)):
        for asset in run["assets"]:
            print(f"  {name:<8} {asset}")
        if run["errors"]:
            print(f"  {name}: JS errors {run['errors']}")
    figures = [
        Figure(
            "JS + CSS parsed, first load of /",
            partial["parsed"] / 1e3,
            "kB",
            today["parsed"] / 1e3,
            "full plotly.min.js",
            "≤ 1,500 kB",
            partial["parsed"] <= PARSED_TARGET,
        ),
        Figure(
            "bytes transferred, first load of /",
            partial["transferred"] / 1e3,
            "kB",
            today["transferred"] / 1e3,
            "full plotly.min.js, gzip",
            "≤ 600 kB",
            partial["transferred"] <= TRANSFER_TARGET,
            note=", ".join(sorted({a["encoding"] for a in partial["assets"]})),
        ),
        Figure(
            "bytes transferred, gzip only (nginx)",
            gzipped["transferred"] / 1e3,
            "kB",
            today["transferred"] / 1e3,
            "full plotly.min.js, gzip",
            "≤ 600 kB",
            gzipped["transferred"] <= TRANSFER_TARGET,
        ),
        Figure(
            "shortest asset max-age",
            partial["max_age"],
            "s",
            today["max_age"],
            "unhashed names",
            "a year, immutable",
            partial["max_age"] >= YEAR and partial["immutable"],
        ),
        Figure(
            "load event, cold cache (shared machine)",
            partial["load_ms"],
            "ms",
            today["load_ms"],
            "full plotly.min.js",
        ),
    ]
    report("first_load", "sqlite://", figures, {"page": "/", "user": "superuser, empty fleet"})


if __name__ == "__main__":
    main()
