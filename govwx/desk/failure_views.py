"""未能受理的消息: the current account's messages the desk could not turn into a case,
with 重试 per row and 全部重试. Thin: the rows come from `failures`, a retry is one call
of `failures.retry`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from govwx.accounts.access import current_role
from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view, denied, role_has
from govwx.lib.privacy import mask

from . import failures

PAGE_ROWS = 200


@console_view("messages.view")
def intake_failures(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        _retry(request, account)
        return redirect("desk:intake_failures")
    total = failures.count_for(account)
    shown = list(failures.failures_for(account)[:PAGE_ROWS])
    names = failures.nicknames(account, shown)
    rows = [
        {
            "failure": f,
            "msg": f.inbound,
            "follower": names.get(f.inbound.openid, ""),
            "openid": failures.mask_openid(f.inbound.openid),
            "text": mask(failures.message_summary(f.inbound)),
            "error": mask(f.error),
        }
        for f in shown
    ]
    return render(
        request,
        "desk/intake_failures.html",
        {
            "account": account,
            "rows": rows,
            "total": total,
            "can_retry": role_has(current_role(request), "cases.route"),
        },
    )


def _retry(request: HttpRequest, account: Account) -> None:
    if not role_has(current_role(request), "cases.route"):
        raise denied("cases.route")
    mine = failures.failures_for(account)
    if request.POST.get("all"):
        ids = list(mine.values_list("pk", flat=True))
    else:
        wanted = [v for v in request.POST.getlist("failure") if v.isdigit()]
        ids = list(mine.filter(pk__in=wanted).values_list("pk", flat=True))
    try:
        done = failures.retry(ids, request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return
    if done.cases:
        messages.success(request, _("已重新受理 %(n)s 条消息") % {"n": len(done.cases)})
    if done.failed:
        messages.error(
            request,
            _("%(n)s 条消息仍未能受理，错误已更新 / %(n)s still failed: see the errors below")
            % {"n": len(done.failed)},
        )
    if not done.cases and not done.failed:
        messages.info(request, _("这些消息已由他人或系统受理 / already taken in"))
