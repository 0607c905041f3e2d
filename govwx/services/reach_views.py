"""The console's pages on how citizens reach services: two taps (两步可达) and the menu's
use (菜单统计). Thin: one reading function each, then render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view

from . import analytics
from . import reach as taps


@console_view("services.view")
def reach_page(request: HttpRequest, account: Account) -> HttpResponse:
    report = taps.report(account)
    return render(
        request,
        "services/reach.html",
        {"account": account, "report": report, "limit": taps.LIMIT},
    )


@console_view("services.view")
def analytics_page(request: HttpRequest, account: Account) -> HttpResponse:
    period, errors = analytics.parse_period(request.GET.get("from"), request.GET.get("to"))
    usage = analytics.usage(account, period)
    return render(
        request,
        "services/analytics.html",
        {
            "account": account,
            "period": period,
            "errors": errors,
            "usage": usage,
            "rows": [(i, i.counts(usage.days)) for i in usage.items],
            "chart": analytics.chart(usage),
        },
        status=400 if errors else 200,
    )
