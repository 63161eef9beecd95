"""Start the test OpenID Connect provider: a fresh database, an RSA signing key made now, the
given users and one registered confidential client, served by gunicorn on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.services import REPO, wait_until

# The ports this suite's SSO tests may use (the other integration tests take free ones).
PORTS = range(7400, 7500)


def port_in_range() -> int:
    for port in PORTS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def new_signing_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class OidcProvider:
    """django-oauth-toolkit's OpenID provider in its own process (tests/oidc_provider/)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = port_in_range()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.process: subprocess.Popen | None = None
        self._log = None
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "PROVIDER_DATABASE": str(workdir / "provider.sqlite3"),
            "PROVIDER_RSA_KEY": new_signing_key(),
            "PROVIDER_ISSUER": self.issuer,
        }

    def _run(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run(
            [sys.executable, *args],
            cwd=REPO,
            env=self.env,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
        )

    def start(self, client: dict, users: list[dict]) -> None:
        self._run("-m", "django", "migrate", "--noinput")
        spec = json.dumps({"client": client, "users": users})
        self._run("-m", "tests.oidc_provider.seed", stdin=spec)
        self._log = (self.workdir / "provider.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tests.oidc_provider.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(self._answers, 60, "the OIDC test provider")
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the test provider exited early:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log(self) -> str:
        path = self.workdir / "provider.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None
