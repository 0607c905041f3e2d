"""The console's link health page (链接健康) and its 立即检查 button."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view

from .links import request_link_check, states_for


@console_view("services.view")
def links_page(request: HttpRequest, account: Account) -> HttpResponse:
    states = states_for(account)
    return render(
        request,
        "services/links.html",
        {
            "account": account,
            "states": states,
            "broken": sum(1 for s in states if s.broken),
        },
    )


@console_view("services.edit")
@require_POST
def links_check(request: HttpRequest, account: Account) -> HttpResponse:
    n = request_link_check(account, actor=request.user)
    messages.success(
        request,
        _("已开始检查 %(n)s 个链接，结果稍后显示在本页。") % {"n": n},
    )
    return redirect("services:links")
