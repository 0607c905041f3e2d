"""Template context for every console page: the accounts the user may switch between,
the current account and what the user may do there."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govwx.accounts.access import (
    current_account,
    current_role,
    current_role_label,
    user_accounts,
)
from govwx.accounts.permissions import perms_for
from govwx.team.services import alerts_for


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Callables: the template calls them only where a page shows the switcher (not in
    # the admin), and the results are cached on the request.
    return {
        "console_accounts": lambda: user_accounts(request),
        "current_account": lambda: current_account(request),
        # The permissions the user's role grants on the current account, for hiding
        # what they cannot use: {% if "rules.edit" in perms_here %}.
        "perms_here": lambda: perms_for(current_role(request)),
        "alert_count": lambda: alerts_for(user).count(),
        # the role held here, as the top bar shows it: 「部门联络员（市城管局）」
        "role_here": lambda: current_role_label(request),
    }
