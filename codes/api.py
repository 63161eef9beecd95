"""JSON API for the catalog: `/api/v1/codes/<code>` accepts any notation a page URL does."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from codes.knowledge_page import knowledge_page, page_json
from codes.parse import CodeError, parse_code


@require_GET
def code_detail(request: HttpRequest, code: str) -> JsonResponse:
    """The decode and the curated knowledge of one code; login (session) required."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Authentication required: log in first."}, status=401)
    try:
        parsed = parse_code(code)
    except CodeError as exc:
        return JsonResponse({"error": f"Not an error code: {exc}"}, status=404)
    return JsonResponse(page_json(knowledge_page(parsed.value, parsed.extension)))
