"""The citizen's pages of the desk (mobile H5, no login: a signed link)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from . import services
from .models import Rating


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    case = services.case_for_rating(token)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.rate_case(
                token, request.POST.get("score", ""), request.POST.get("comment", "")
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            return render(request, "desk/rated.html", {"case": case})
    existing = Rating.objects.filter(case=case).first()
    return render(
        request,
        "desk/rate.html",
        {"case": case, "errors": errors, "existing": existing, "scores": Rating.Score.choices},
        status=400 if errors else 200,
    )
