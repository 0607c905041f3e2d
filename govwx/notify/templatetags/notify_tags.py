"""`{% load notify_tags %}{% failing_channels %}`: a red notice of the current account's
failing notification channels, for any console page (the alerts page)."""

from __future__ import annotations

from typing import Any

from django import template

from govwx.accounts.access import current_account
from govwx.accounts.permissions import can

from ..services import failing

register = template.Library()


@register.inclusion_tag("notify/_failing.html", takes_context=True)
def failing_channels(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {"failing_channels": []}
    account = current_account(request)
    if account is None:
        return {"failing_channels": []}
    return {
        "failing_channels": failing(account),
        "can_manage_channels": can(user, account, "channels.manage"),
    }
