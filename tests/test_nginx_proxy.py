"""scripts/nginx/default.conf.template, rendered as the official nginx image renders it and run
by Debian's nginx (unprivileged, free loopback ports) in front of a real gunicorn."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import RequestFactory

from fleet.accounts.login_throttle import client_address
from tests.services import (
    REPO,
    GunicornServer,
    free_port,
    http_get,
    silent_upload,
    wait_until,
)

NGINX = Path("/usr/sbin/nginx")
TEMPLATE = REPO / "scripts" / "nginx" / "default.conf.template"

pytestmark = pytest.mark.integration


def require_tools() -> None:
    missing = [str(tool) for tool in (NGINX, Path("/usr/bin/envsubst")) if not tool.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed: run `make test`, which installs them"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def render(env: dict[str, str]) -> str:
    """What the image's 20-envsubst-on-templates.sh does: substitute only the variables that are
    set, so nginx's own $host, $remote_addr... stay as they are."""
    shell_format = " ".join(f"${{{name}}}" for name in env)
    return subprocess.run(
        ["envsubst", shell_format],
        input=TEMPLATE.read_text(),
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class Nginx:
    """Debian's nginx on a rendered copy of the template, in one unprivileged process."""

    def __init__(self, workdir: Path, upstream_port: int, max_upload_mb: int = 200) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.static_root = workdir / "static"
        self.static_root.mkdir()
        self.env = {
            "MAX_UPLOAD_MB": str(max_upload_mb),
            "PROXY_PORT": f"127.0.0.1:{self.port}",
            "WEB_UPSTREAM": f"127.0.0.1:{upstream_port}",
            "STATIC_ROOT": str(self.static_root),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        site = self.workdir / "default.conf"
        site.write_text(render(self.env))
        temp = {name: self.workdir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        (self.workdir / "nginx.conf").write_text(
            f"""
daemon off;
master_process off;
pid {self.workdir}/nginx.pid;
error_log {self.workdir}/error.log info;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {self.workdir}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
"""
        )
        self.process = subprocess.Popen(
            [str(NGINX), "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._listening, 15, "nginx")

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{(self.workdir / 'error.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def nginx_in_front(tmp_path: Path) -> Iterator[Callable[..., Nginx]]:
    require_tools()
    started: list[Nginx] = []

    def start(upstream_port: int, **kwargs) -> Nginx:
        workdir = tmp_path / f"nginx{len(started)}"
        workdir.mkdir()
        proxy = Nginx(workdir, upstream_port, **kwargs)
        proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture
def weakest_gunicorn(tmp_path: Path) -> Iterator[GunicornServer]:
    """The production config with ONE sync worker: a single slow body reaching it would stop
    every other request, so any request that gets through proves nginx held the slow ones."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/web.sqlite3", "DEBUG": "0"}
    server = GunicornServer(
        tmp_path / "gunicorn.log", env, ("--worker-class", "sync", "--workers", "1")
    )
    server.start()
    yield server
    server.stop()


def post(port: int, path: str, body: bytes, timeout: float = 30) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_template_leaves_nothing_unrendered_and_keeps_nginx_variables(tmp_path):
    require_tools()
    rendered = render(
        {"MAX_UPLOAD_MB": "7", "PROXY_PORT": "80", "WEB_UPSTREAM": "web:8000", "STATIC_ROOT": "/s"}
    )
    assert "${" not in rendered
    assert "client_max_body_size 7m;" in rendered
    assert "The upload is over the 7 MB limit" in rendered
    assert "X-Forwarded-For $proxy_add_x_forwarded_for;" in rendered
    assert "proxy_request_buffering on;" in rendered


def test_slow_uploads_wait_in_nginx_and_never_reach_gunicorn(weakest_gunicorn, nginx_in_front):
    proxy = nginx_in_front(weakest_gunicorn.port)
    slow = [silent_upload(proxy.port) for _ in range(4)]
    try:
        time.sleep(1)
        answer = http_get(proxy.port, "/healthz", timeout=20)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        # Straight to the one sync worker, a single silent upload holds it: the control.
        direct = silent_upload(weakest_gunicorn.port)
        try:
            time.sleep(1)
            with pytest.raises(TimeoutError):
                http_get(weakest_gunicorn.port, "/healthz", timeout=3)
        finally:
            direct.close()
    finally:
        for sock in slow:
            sock.close()


def test_an_upload_over_max_upload_mb_gets_nginx_413_naming_the_limit(
    weakest_gunicorn, nginx_in_front
):
    proxy = nginx_in_front(weakest_gunicorn.port, max_upload_mb=1)
    answer = post(proxy.port, "/imports/new/", b"x" * (1024 * 1024 + 1))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"The upload is over the 1 MB limit (MAX_UPLOAD_MB)." in answer
    # Under the limit, the body goes through to Django (which refuses it for its own reasons).
    below = post(proxy.port, "/login/", b"username=a&password=b")
    assert below.startswith(b"HTTP/1.1 403"), below[:300]
    assert b"CSRF" in below


def test_static_files_are_served_by_nginx_with_their_compressed_copies(nginx_in_front):
    # The upstream port has no gunicorn behind it: whatever answers is nginx alone.
    proxy = nginx_in_front(free_port())
    css = b"body { color: #333; }\n" * 50
    (proxy.static_root / "fleet").mkdir()
    (proxy.static_root / "fleet" / "site.css").write_bytes(css)
    (proxy.static_root / "fleet" / "site.css.gz").write_bytes(gzip.compress(css))

    plain = http_get(proxy.port, "/static/fleet/site.css", timeout=10)
    head, _, body = plain.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == css
    assert b"Content-Type: text/css" in head
    assert b"X-Content-Type-Options: nosniff" in head

    zipped = http_get(
        proxy.port, "/static/fleet/site.css", timeout=10, headers="Accept-Encoding: gzip\r\n"
    )
    head, _, body = zipped.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head
    assert gzip.decompress(body) == css
    assert b"Cache-Control: max-age=60, public" in head  # an unhashed name may change
    assert http_get(proxy.port, "/static/missing.css", timeout=10).startswith(b"HTTP/1.1 404")


def test_hashed_static_files_are_cached_a_year_by_nginx_as_by_whitenoise(nginx_in_front):
    proxy = nginx_in_front(free_port())
    js = b"window.x = 1;\n" * 100
    (proxy.static_root / "vendor").mkdir()
    hashed = proxy.static_root / "vendor" / "plotly-cartesian.min.d97ecab40660.js"
    hashed.write_bytes(js)
    hashed.with_name(hashed.name + ".gz").write_bytes(gzip.compress(js))

    answer = http_get(
        proxy.port,
        "/static/vendor/plotly-cartesian.min.d97ecab40660.js",
        timeout=10,
        headers="Accept-Encoding: gzip\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    # fleet/static_files.py's WhiteNoise header, word for word.
    assert b"Cache-Control: max-age=31536000, public, immutable" in head
    assert head.count(b"Cache-Control") == 1
    assert b"X-Content-Type-Options: nosniff" in head
    assert gzip.decompress(body) == js


class _EchoHeaders(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def echo_upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_client_cannot_forge_its_address_or_https_through_nginx(
    echo_upstream, nginx_in_front, settings
):
    proxy = nginx_in_front(echo_upstream)
    answer = http_get(
        proxy.port,
        "/whoami",
        timeout=10,
        headers="X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n",
    )
    seen = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"

    # What Django makes of those headers with the web service's settings (TRUSTED_PROXY=1).
    settings.TRUSTED_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get(
        "/login/",
        REMOTE_ADDR="172.18.0.5",  # the proxy's address on the compose network
        HTTP_X_FORWARDED_FOR=seen["x-forwarded-for"],
        HTTP_X_FORWARDED_PROTO=seen["x-forwarded-proto"],
    )
    assert client_address(request) == "127.0.0.1"
    assert not request.is_secure()


def test_debian_nginx_and_envsubst_are_installed_by_make_test():
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("test-system-deps:", 1)[1].split("\n\n", 1)[0]
    assert "/usr/sbin/nginx:nginx" in recipe
    assert "/usr/bin/envsubst:gettext-base" in recipe


def test_without_the_proxy_a_forged_forwarded_for_is_ignored(settings):
    # `make demo` and any gunicorn without nginx: TRUSTED_PROXY stays 0, the peer is counted.
    settings.TRUSTED_PROXY = False
    request = RequestFactory().get(
        "/login/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert client_address(request) == "198.51.100.7"
