"""gunicorn settings for every way the web process runs: `make demo` (scripts/demo.sh), the
Docker image and docker-compose.yml. Use it with `gunicorn -c fleet/gunicorn.conf.py`.

Gevent workers, so that a slow client cannot hold the web process. A sync worker is held for the
whole request, body included (two clients announcing a body and sending nothing stop two sync
workers); a gthread worker holds a thread from the first byte of the request until its body is
read, with no timeout at all. A gevent worker holds a greenlet, of which it has
`worker_connections`: measured on loopback with 2 workers, 2 silent uploads stop sync, 7 stop
2 gthread workers of 4 threads, and gevent still answers /healthz at 198 (docs/scaling.md).
psycopg 3 waits cooperatively once gevent has patched `select`; SQLite calls do block the worker
for their duration, as they block a sync worker. Behind docker-compose.yml's nginx, slow clients
never reach gunicorn at all; these settings are the defence when nothing is in front.

Environment: WEB_CONCURRENCY (worker processes, default 2), WEB_WORKER_CONNECTIONS (concurrent
connections per worker, default 500), WEB_TIMEOUT (seconds a worker may block, default 30).
"""

import os


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"fleet-errors: bad setting: {name}={raw!r} is not a positive integer")
    return int(raw)


wsgi_app = "fleet.wsgi:application"
bind = ["127.0.0.1:8000"]  # demo.sh and the image pass --bind
worker_class = "gevent"
workers = _env_int("WEB_CONCURRENCY", 2)
# Each connection costs a greenlet and a file descriptor; 500 stays under the usual limit of
# 1024 descriptors per process with room for database, broker and upload files.
worker_connections = _env_int("WEB_WORKER_CONNECTIONS", 500)
# The gevent worker reads every request's headers under this timeout, the first one included:
# a client that opens a connection and sends its headers slowly (or not at all) is dropped.
keepalive = 5
# A worker that blocks longer than this (a CPU-bound request never yields to the others) is
# killed and replaced by the arbiter.
timeout = _env_int("WEB_TIMEOUT", 30)
graceful_timeout = 30
accesslog = "-"
