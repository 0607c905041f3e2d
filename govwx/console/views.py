"""Console pages: home, message log, login and the account switcher. Thin: the current
account and the permission come from `console_view`; query, render."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.access import current_role, switch_account
from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view, role_has
from govwx.services.links import broken_for
from govwx.team.services import duty_board
from govwx.wechat.models import InboundMessage

from .display import MESSAGE_TYPES, type_label
from .queries import rows_for, today_stats

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The login page when the login throttle refuses (django-axes' AXES_LOCKOUT_CALLABLE):
    what happened and what to do, in words, with 429 Too Many Requests."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if minutes:
        locked = _(
            "登录失败次数过多，该用户名或本机地址已被暂停登录 %(minutes)s 分钟。"
            "请稍后再试，或请本公众号的管理员在“设置 › 登录锁定”中解除。"
        ) % {"minutes": minutes}
    else:
        locked = _(
            "登录失败次数过多，该用户名或本机地址已被暂停登录。"
            "请本公众号的管理员在“设置 › 登录锁定”中解除。"
        )
    return render(
        request,
        "registration/login.html",
        {
            "locked": locked,
            "username": (request.POST.get("username") or "")[:150],
            "next": request.POST.get("next", ""),
        },
        status=429,
    )


@console_view("home.view")
def home(request: HttpRequest, account: Account) -> HttpResponse:
    # The latest messages are the message log's: only for those who may read it.
    latest = []
    if role_has(current_role(request), "messages.view"):
        latest = list(
            InboundMessage.objects.filter(account=account).order_by("-received_at", "-id")[:10]
        )
    return render(
        request,
        "console/home.html",
        {
            "account": account,
            "stats": today_stats(account),
            "rows": rows_for(account, latest),
            "duty": duty_board(account),
            "broken_links": broken_for(account)
            if role_has(current_role(request), "services.view")
            else [],
        },
    )


@console_view("messages.view")
def message_log(request: HttpRequest, account: Account) -> HttpResponse:
    openid = request.GET.get("openid", "").strip()[:64]
    msg_type = request.GET.get("type", "").strip()
    qs = InboundMessage.objects.filter(account=account)
    if openid:
        qs = qs.filter(openid=openid)
    if msg_type in MESSAGE_TYPES or msg_type == "event":
        qs = qs.filter(msg_type=msg_type)
    else:
        msg_type = ""
    page = Paginator(qs.order_by("-received_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "console/messages.html",
        {
            "account": account,
            "page": page,
            "rows": rows_for(account, list(page.object_list)),
            "openid": openid,
            "msg_type": msg_type,
            "types": [(t, type_label(t)) for t in (*MESSAGE_TYPES, "event")],
            "query": query.urlencode(),
        },
    )


@console_view("home.view")
@require_POST
def switch(request: HttpRequest, current: Account) -> HttpResponse:
    """Any member may switch to another of their accounts (403 for one that is not)."""
    try:
        account_id = int(request.POST.get("account", ""))
    except ValueError:
        account_id = 0
    account = switch_account(request, account_id)
    messages.success(request, _("已切换到公众号“%(name)s”") % {"name": account.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    return HttpResponseRedirect(target)
