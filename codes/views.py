"""Knowledge pages. The knowledge-base work grows these; the URLs are stable."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from codes.decode import CodeError, parse_code
from codes.models import ErrorCode


@login_required
def code_list(request: HttpRequest) -> HttpResponse:
    codes = ErrorCode.objects.all()[:200]
    return render(request, "codes/code_list.html", {"codes": codes})


@login_required
def code_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        parsed = parse_code(code)
    except CodeError as exc:
        raise Http404(str(exc)) from None
    if code != parsed.hex:
        return redirect("codes:detail", code=parsed.hex)
    entry = ErrorCode.objects.filter(value=parsed.value).first()
    return render(request, "codes/code_detail.html", {"parsed": parsed, "entry": entry})
