"""HTTP layer of the ingest API: authenticate, bound and parse the body, call `ingest_batch`.

`fleet.tasks` is imported at the top like any module: Celery is loaded with the `fleet` package
itself (`fleet/__init__.py` imports the app), so deferring the import saved nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fleet.api_schema import NotAList
from fleet.ingest.api import count_batch, decode_items, ingest_batch
from fleet.ingest.keys import authenticate
from fleet.tasks import request_aggregation


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fleet-ingest"'
    return response


@csrf_exempt  # machine clients authenticate with a bearer key, not a session cookie
@require_POST
def post_occurrences(request: HttpRequest) -> JsonResponse:
    key = authenticate(request.headers.get("Authorization", ""))
    if key is None:
        return _error(401, "missing, unknown or revoked ingest key")
    limit = settings.INGEST_MAX_BODY_MB * 1024 * 1024
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "bad Content-Length")
    if declared > limit:
        return _error(413, f"body is over {settings.INGEST_MAX_BODY_MB} MB")
    # Read at most one byte past the limit, so a body without Content-Length is bounded too.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(413, f"body is over {settings.INGEST_MAX_BODY_MB} MB")
    try:
        items = decode_items(body)
    except NotAList:
        return _error(400, "body must be a JSON list of occurrences")
    except (UnicodeDecodeError, ValueError) as exc:
        return _error(400, f"body is not valid JSON: {exc}")
    except RecursionError:
        return _error(400, "body is not valid JSON: nested too deeply")
    if len(items) > settings.INGEST_MAX_BATCH:
        return _error(
            413, f"{len(items)} items; send at most {settings.INGEST_MAX_BATCH} per request"
        )
    result = ingest_batch(key.tenant, items)
    count_batch(result)
    if result.accepted:
        request_aggregation()
    return JsonResponse(result.as_dict(), status=202)
