"""The console's current account: which of the user's accounts the pages show.

The choice lives in the session. Every read of it goes back through the accounts
access helper, so a stale or forged session value never reaches another account.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import accounts_for_user, get_account_for_user

SESSION_KEY = "console_account_id"
# Roles that may use the console's account pages.
CONSOLE_ROLES: tuple[str, ...] = (Membership.Role.ADMIN, Membership.Role.OPERATOR)


def user_accounts(request: HttpRequest) -> list[Account]:
    """The accounts the user may switch between (superusers: all), once per request."""
    cached = getattr(request, "_console_accounts", None)
    if cached is None:
        cached = list(accounts_for_user(request.user).only("id", "name"))
        request._console_accounts = cached  # type: ignore[attr-defined]
    return cached


def current_account(request: HttpRequest) -> Account | None:
    """The account the console shows, checked through the access helper; None if the
    user has no account the console may show."""
    if hasattr(request, "_console_account"):
        return request._console_account  # type: ignore[attr-defined, no-any-return]
    account: Account | None = None
    if getattr(request.user, "is_authenticated", False):
        wanted: Any = request.session.get(SESSION_KEY)
        candidates = [a.pk for a in user_accounts(request)]
        if wanted in candidates:
            candidates.remove(wanted)
            candidates.insert(0, wanted)
        for pk in candidates:
            try:
                account = get_account_for_user(request.user, pk, roles=CONSOLE_ROLES)
                break
            except (Http404, PermissionDenied):
                continue
    request._console_account = account  # type: ignore[attr-defined]
    return account


def switch_account(request: HttpRequest, account_id: int) -> Account:
    """Make `account_id` the current account; 404/403 if the user may not use it."""
    account = get_account_for_user(request.user, account_id, roles=CONSOLE_ROLES)
    request.session[SESSION_KEY] = account.pk
    request._console_account = account  # type: ignore[attr-defined]
    return account
