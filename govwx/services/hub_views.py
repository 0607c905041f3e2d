"""The citizens' H5 pages of an account's service hub, opened from the custom menu or a
reply: public (no login), mobile first, allowed inside a frame of the same origin (the
sandbox's phone shows them so).

Each page reads the account's merged catalogue once (`catalogue.services_for`): a
fixed number of queries however many services there are."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from govwx.accounts.models import Account

from . import catalogue
from .models import Category, Office, Service

MAX_QUERY = 50


def _account(appid: str) -> Account:
    try:
        return Account.objects.select_related("organisation").get(appid=appid, is_active=True)
    except Account.DoesNotExist as exc:
        raise Http404("no such account") from exc


def _grouped(services: list[Service]) -> list[dict[str, object]]:
    """Categories in their fixed order, each with its services; empty ones left out."""
    by: dict[str, list[Service]] = {}
    for s in services:
        by.setdefault(s.category, []).append(s)
    return [
        {"value": value, "label": label, "services": by[value]}
        for value, label in Category.choices
        if value in by
    ]


@require_safe
@xframe_options_sameorigin
def hub(request: HttpRequest, appid: str) -> HttpResponse:
    account = _account(appid)
    groups = _grouped(catalogue.services_for(account))
    return render(request, "services/h5/hub.html", {"account": account, "groups": groups})


@require_safe
@xframe_options_sameorigin
def category(request: HttpRequest, appid: str, category: str) -> HttpResponse:
    account = _account(appid)
    if category not in Category.values:
        raise Http404("no such category")
    services = [s for s in catalogue.services_for(account) if s.category == category]
    return render(
        request,
        "services/h5/category.html",
        {"account": account, "label": Category(category).label, "services": services},
    )


def geo_uri(office: Office) -> str:
    """A geo: URI (RFC 5870) for the phone's own map app; no external map service."""
    lat, lon = office.latitude, office.longitude
    label = quote(office.name, safe="")
    return f"geo:{lat},{lon}?q={lat},{lon}({label})"


def tel_uri(phone: str) -> str:
    """The first number of a phone field, as a tel: link ("0571-1234 转 8" dials 05711234)."""
    first = phone.replace("，", ",").replace("、", ",").split(",")[0].split("转")[0]
    return "tel:" + "".join(c for c in first if c.isdigit() or c == "+")


@require_safe
@xframe_options_sameorigin
def guide(request: HttpRequest, appid: str, code: str) -> HttpResponse:
    account = _account(appid)
    service = catalogue.service_for(account, code)
    if service is None:
        raise Http404("no such service")
    shown = {o.code: o for o in catalogue.offices_for(account)}
    offices = []
    for row in sorted(service.offices.all(), key=lambda o: o.code):
        office = shown.get(row.code)  # the account's own version of the office, if any
        if office is None:
            continue  # withdrawn here
        offices.append(
            {
                "office": office,
                "tel": tel_uri(office.phone) if office.phone else "",
                "geo": geo_uri(office) if office.latitude is not None else "",
            }
        )
    return render(
        request,
        "services/h5/guide.html",
        {"account": account, "service": service, "offices": offices},
    )


@require_safe
@xframe_options_sameorigin
def office(request: HttpRequest, appid: str, code: str) -> HttpResponse:
    """An office: where it is, when it is open, how to call, and what it handles (the
    page the nearest-offices reply links to)."""
    account = _account(appid)
    found = next((o for o in catalogue.offices_for(account) if o.code == code), None)
    if found is None:
        raise Http404("no such office")
    handled = [
        s for s in catalogue.services_for(account) if code in {o.code for o in s.offices.all()}
    ]
    return render(
        request,
        "services/h5/office.html",
        {
            "account": account,
            "office": found,
            "tel": tel_uri(found.phone) if found.phone else "",
            "geo": geo_uri(found) if found.latitude is not None else "",
            "services": handled,
        },
    )


def matches(services: list[Service], q: str) -> list[Service]:
    """Services whose name, keywords or summary contain the query (ignoring case): a
    keyword equal to the query first, then by name, keyword, summary."""
    needle = q.casefold()
    ranked: list[tuple[int, int, Service]] = []
    for i, s in enumerate(services):
        keywords = [k.casefold() for k in s.keywords or [] if isinstance(k, str)]
        if needle in keywords:
            rank = 0
        elif needle in s.name.casefold():
            rank = 1
        elif any(needle in k for k in keywords):
            rank = 2
        elif needle in s.summary.casefold():
            rank = 3
        else:
            continue
        ranked.append((rank, i, s))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [s for _r, _i, s in ranked]


@require_safe
@xframe_options_sameorigin
def search(request: HttpRequest, appid: str) -> HttpResponse:
    account = _account(appid)
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    results = matches(catalogue.services_for(account), q) if q else []
    return render(
        request,
        "services/h5/search.html",
        {"account": account, "q": q, "results": results, "title": _("搜索")},
    )
