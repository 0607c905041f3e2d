"""`{% load desk_failures %}{% intake_failures_notice %}`: a red count of the current
account's messages the desk could not take in, linking to their page, for those who may
see it (the console's home)."""

from __future__ import annotations

from typing import Any

from django import template

from govwx.accounts.access import current_account, current_role
from govwx.accounts.permissions import role_has

from ..failures import count_for

register = template.Library()


@register.inclusion_tag("desk/_intake_failures_notice.html", takes_context=True)
def intake_failures_notice(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return {"intake_failures": 0}
    # the account and role the page's access helper has already read: one query here
    account = current_account(request)
    if account is None or not role_has(current_role(request), "messages.view"):
        return {"intake_failures": 0}
    return {"intake_failures": count_for(account)}
