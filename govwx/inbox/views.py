"""The Django view of the callback, `/wx/<appid>/callback` (see gateway.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .gateway import handle


@csrf_exempt
def callback(request: HttpRequest, appid: str) -> HttpResponse:
    try:
        length: int | None = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(b"bad Content-Length", status=400)
    answer = handle(appid, request.method or "", request.GET, length, request.read)
    return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
