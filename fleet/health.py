"""Health endpoints for load balancers, compose and monitoring.

`/healthz` is liveness: the process answers and its database does. `/readyz` is readiness: it
reports the database and the Celery broker separately, and answers 503 when either is down, so
a load balancer stops routing to a web process whose imports and alerts would not be queued.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

# Short enough that /readyz answers within a load balancer's probe timeout when Redis is gone
# or unreachable; a connection refused fails at once anyway.
BROKER_TIMEOUT_SECONDS = 1.0


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        log.warning("readiness: the database does not answer", exc_info=True)
        return "down"
    return "ok"


def broker_status() -> str:
    """Ping the broker once, without Celery's publish retries (they would take seconds)."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return "ok"  # in-process transport, used by some tests: nothing to reach
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        log.warning("readiness: the broker at %s does not answer", _without_password(url))
        return "down"
    finally:
        client.close()
    return "ok"


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_status(), "broker": broker_status()}
    ready = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "down", **checks}, status=200 if ready else 503
    )


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
