"""The console's current account: which of the user's accounts the pages show, and the
user's role there.

Every member of an account, whatever their role, has a current account; what they may
do on it is decided by the permission table (`permissions.py`). The choice lives in the
session. Every read of it goes back through the accounts access helper, so a stale or
forged session value never reaches another account.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import accounts_for_user, get_account_for_user, role_for

SESSION_KEY = "console_account_id"


def user_accounts(request: HttpRequest) -> list[Account]:
    """The accounts the user may switch between (superusers: all), once per request."""
    cached = getattr(request, "_console_accounts", None)
    if cached is None:
        cached = list(accounts_for_user(request.user).only("id", "name"))
        request._console_accounts = cached  # type: ignore[attr-defined]
    return cached


def _remember(request: HttpRequest, account: Account | None) -> Account | None:
    request._console_account = account  # type: ignore[attr-defined]
    membership = None
    role = None
    if account is not None:
        user: Any = request.user
        if user.is_authenticated and not user.is_superuser:
            # one query for the role and the department the top bar names
            membership = (
                Membership.objects.filter(user=user, account=account)
                .select_related("department")
                .first()
            )
            role = membership.role if membership is not None else None
        else:
            role = role_for(user, account)
    request._console_role = role  # type: ignore[attr-defined]
    request._console_membership = membership  # type: ignore[attr-defined]
    return account


def current_account(request: HttpRequest) -> Account | None:
    """The account the console shows: the one chosen in the session if the user still
    has a role there, else their first account; None if they have none."""
    if hasattr(request, "_console_account"):
        return request._console_account  # type: ignore[attr-defined, no-any-return]
    account: Account | None = None
    if getattr(request.user, "is_authenticated", False):
        wanted: Any = request.session.get(SESSION_KEY)
        candidates = [a.pk for a in user_accounts(request)]
        if candidates:
            pk = wanted if wanted in candidates else candidates[0]
            account = Account.objects.get(pk=pk)
    return _remember(request, account)


def current_role(request: HttpRequest) -> str | None:
    """The user's role on the current account (superusers: admin), once per request."""
    current_account(request)
    return request._console_role  # type: ignore[attr-defined, no-any-return]


def current_role_label(request: HttpRequest) -> str:
    """The role held on the current account as people say it: 「部门联络员（市城管局）」."""
    role = current_role(request)
    if role is None:
        return ""
    m: Membership | None = getattr(request, "_console_membership", None)
    label = str(Membership.Role(role).label)
    if m is not None and m.department is not None:
        label += f"（{m.department.name}）"
    return label


def switch_account(request: HttpRequest, account_id: int) -> Account:
    """Make `account_id` the current account; 404/403 if the user may not use it."""
    account = get_account_for_user(request.user, account_id)
    request.session[SESSION_KEY] = account.pk
    _remember(request, account)
    return account
