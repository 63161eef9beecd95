"""A request that finds the connection pool exhausted gets a 503 it can retry, not a 500.

Under gevent, fleet/settings.py gives each web worker a psycopg pool of DB_POOL_MAX PostgreSQL
connections. A request waits up to DB_POOL_TIMEOUT seconds for one; past that the pool raises
`PoolTimeout`, which Django's database layer re-raises as its own `OperationalError`. That is
overload, not a bug: the client should come back shortly, and the log should say which limit
was reached rather than show a traceback.

Two places catch it. `PoolTimeoutMiddleware.process_exception` sees what a view or its template
raised; `server_error` (the site's `handler500`) sees what a middleware raised before the view
ran, such as the session read that picks a signed-in person's language: Django turns those
into a response inside the middleware chain, out of reach of `process_exception`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from psycopg_pool import PoolTimeout

log = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again: a burst that filled the pool is
# usually gone by then.
RETRY_AFTER_SECONDS = 5


def is_pool_timeout(exception: BaseException) -> bool:
    """True for the pool's timeout, raw or wrapped in Django's `OperationalError`."""
    return isinstance(exception, PoolTimeout) or isinstance(exception.__cause__, PoolTimeout)


def busy_response(request: HttpRequest) -> HttpResponse:
    message = (
        f"the database is busy: no connection came free within {settings.DB_POOL_TIMEOUT} s; "
        f"try again in {RETRY_AFTER_SECONDS} s"
    )
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": message}, status=503)
    else:
        response = HttpResponse(message + "\n", status=503, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PoolTimeoutMiddleware:
    """Answer 503 with Retry-After when a view or its template timed out waiting for a
    pooled connection. Not loaded without a pool (SQLite, sync workers, Celery)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.DATABASES["default"].get("OPTIONS", {}).get("pool"):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_pool_timeout(exception):
            return None
        return answer_busy(request)


def answer_busy(request: HttpRequest) -> HttpResponse:
    """Log which limit was reached, and answer 503."""
    pool = getattr(connection, "pool", None)  # only PostgreSQL's wrapper has one
    stats = pool.get_stats() if pool else {}
    log.warning(
        "%s %s: no database connection within %s s (pool of %s in this worker, %s requests "
        "waiting); answered 503. Raise DB_POOL_MAX or add web capacity if this recurs.",
        request.method,
        request.path,
        settings.DB_POOL_TIMEOUT,
        settings.DB_POOL_MAX,
        stats.get("requests_waiting", "?"),
    )
    return busy_response(request)


class WithoutPoolTimeouts(logging.Filter):
    """On `django.request`: drop the 500 record (and its traceback) of a pool timeout that
    `server_error` answered 503; `answer_busy` has logged it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        return exception is None or not is_pool_timeout(exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 handler: a pool timeout raised outside a view is still a 503."""
    exception = sys.exc_info()[1]
    if exception is not None and is_pool_timeout(exception):
        return answer_busy(request)
    return defaults.server_error(request)
