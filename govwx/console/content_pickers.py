"""Pickers the article editor (content, floor 3) opens on what it may not import: the
service guides of the catalogue, for a 办事指南 card."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.services import catalogue

PICK = 60


def _guide_url(account: Account, code: str) -> str:
    """The guide's H5 page: absolute when the site is served over HTTPS (the only links
    WeChat opens), else its path here."""
    if settings.GOVWX_PUBLIC_URL.startswith("https://"):
        return catalogue.guide_url(account, code)
    return reverse("hub:guide", kwargs={"appid": account.appid, "code": code})


@console_view("content.edit")
def guides(request: HttpRequest, account: Account) -> JsonResponse:
    """The account's service guides whose name or code holds `q`, in catalogue order."""
    q = request.GET.get("q", "").strip().lower()[:64]
    found = [
        s
        for s in catalogue.services_for(account)
        if not q or q in s.name.lower() or q in s.code.lower()
    ][:PICK]
    return JsonResponse(
        {
            "items": [
                {"code": s.code, "title": s.name, "url": _guide_url(account, s.code)} for s in found
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )
