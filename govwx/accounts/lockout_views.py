"""设置 › 登录锁定 (/settings/lockouts/): the account's members whose failed logins are
counted by the login throttle, and lifting a lockout. Thin: `lockouts.py` decides."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .access import current_role
from .lockouts import lift_lockout, lockouts_for
from .models import Account
from .permissions import console_view, role_has


@console_view("settings.view")
def lockouts(request: HttpRequest, account: Account) -> HttpResponse:
    return render(
        request,
        "accounts/lockouts.html",
        {
            "account": account,
            "rows": lockouts_for(account),
            "limit": settings.AXES_FAILURE_LIMIT,
            "address_limit": settings.GOVWX_LOGIN_ADDRESS_LIMIT,
            "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "can_manage": role_has(current_role(request), "settings.manage"),
        },
    )


@require_POST
@console_view("settings.manage")
def lift(request: HttpRequest, account: Account) -> HttpResponse:
    username = request.POST.get("username", "")[:150]
    try:
        failures = lift_lockout(account, username, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(
            request,
            _("已解除 %(user)s 的登录锁定（清除 %(n)s 次失败记录），现在可以重新登录。")
            % {"user": username, "n": failures},
        )
    return redirect("org_settings:lockouts")
