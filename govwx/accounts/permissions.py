"""The one permission table: what each staff role may do on an account.

A role is held per account (`Membership`); a department liaison's case permissions
reach only their own department's cases (enforced where cases are read:
`desk.services.get_case_for_user` and `cases_for_user`). docs/permissions.md is this
table in words, and a test keeps the two the same.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .access import current_account
from .models import Account, Membership
from .services import role_for

R = Membership.Role
ALL = frozenset(R.values)
OFFICE = frozenset({R.ADMIN, R.OPERATOR, R.SUPERVISOR})
STAFF = frozenset({R.ADMIN, R.OPERATOR, R.EDITOR, R.REVIEWER, R.SUPERVISOR})

# permission -> (what it lets a person do, the roles that have it)
PERMISSIONS: dict[str, tuple[Any, frozenset[str]]] = {
    "home.view": (_("首页：今日概况"), ALL),
    "alerts.view": (_("提醒：查看并确认发给自己的提醒"), ALL),
    "messages.view": (_("消息记录：查看粉丝消息"), OFFICE),
    "rules.view": (_("自动回复：查看规则、试一试"), STAFF),
    "rules.edit": (_("自动回复：新建、修改、删除规则和关注/默认/菜单回复"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR})),
    "cases.view": (_("诉求：查看诉求（部门联络员仅本部门）"), OFFICE | {R.LIAISON}),
    "cases.handle": (_("诉求：接收、退回、申请改派、答复、备注、办结（部门联络员仅本部门）"), OFFICE | {R.LIAISON}),
    "cases.route": (_("诉求：转办、协办、延期、催办、关闭"), OFFICE),
    "cases.supervise": (_("诉求：督办"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "cases.export": (_("诉求：导出 CSV、统计"), OFFICE),
    "rota.view": (_("值班：查看值班表、导出、打印、交班记录"), ALL),
    "rota.duty": (_("值班：与他人换班、写交班记录（本人的班次）"), OFFICE),
    "rota.manage": (_("值班：建表、班次、排班、替班"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "team.view": (_("团队：成员、技能、缺口"), STAFF),
    "team.manage": (_("团队：设置成员技能"), frozenset({R.ADMIN})),
    "projects.view": (_("专项工作组：查看"), STAFF),
    "projects.manage": (_("专项工作组：组建、成果、关联诉求、结项归档"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "channels.manage": (_("通知渠道：邮件、Webhook、企业微信群机器人"), frozenset({R.ADMIN})),
    "workload.view": (_("工作量：按人、按班次统计与导出"), frozenset({R.ADMIN, R.SUPERVISOR})),
}  # fmt: skip


def role_has(role: str | None, perm: str) -> bool:
    if perm not in PERMISSIONS:
        raise KeyError(f"unknown permission {perm!r}")
    return role is not None and role in PERMISSIONS[perm][1]


def can(user: Any, account: Account, perm: str) -> bool:
    """Whether the user's role on the account grants `perm` (superusers: everything)."""
    return role_has(role_for(user, account), perm)


def require(user: Any, account: Account, perm: str) -> None:
    """Raise PermissionDenied unless `can(user, account, perm)`: for services."""
    if not can(user, account, perm):
        raise PermissionDenied(f"没有权限 / not permitted: {perm}")


def console_view(
    perm: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A console page that needs `perm` on the current account: the view is called as
    view(request, account, ...). Not logged in: the login page; no account: the
    no-account page; a role without `perm`: 403."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            account = current_account(request)
            if account is None:
                return render(request, "console/no_account.html")
            if not can(request.user, account, perm):
                raise PermissionDenied(f"没有权限 / not permitted: {perm}")
            return view(request, account, *args, **kwargs)

        wrapped.permission = perm  # type: ignore[attr-defined]
        return wrapped

    return decorate
