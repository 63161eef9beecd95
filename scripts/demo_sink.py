"""The demo's webhook sink: receives the demo rules' signed alert POSTs on loopback, checks
each signature as docs/alerts.md tells a receiver to, and logs one line per request.

Usage: python scripts/demo_sink.py PORT SECRET LOGFILE (scripts/demo.sh starts it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/hooks/demo"
MAX_BODY = 1024 * 1024


def serve(port: int, secret: bytes, log_path: str) -> None:
    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != PATH or not 0 < length <= MAX_BODY:
                self.send_error(404 if self.path != PATH else 400)
                return
            body = self.rfile.read(length)
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(self.headers.get("X-Fleet-Signature", ""), expected)
            try:
                alert = json.loads(body)
            except ValueError:
                alert = {}
            line = {
                "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "event": self.headers.get("X-Fleet-Event", ""),
                "signature_valid": valid,
                "tenant": alert.get("tenant"),
                "code": alert.get("code"),
                "rule": alert.get("rule"),
                "reason": alert.get("reason"),
            }
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
            self.send_response(200 if valid else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # one JSON line per request is written above instead

    ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3])
