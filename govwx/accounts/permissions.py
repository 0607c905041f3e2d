"""The one permission table: what each staff role may do on an account.

A role is held per account (`Membership`). The roles in DEPARTMENT_SCOPED (the
department liaison) hold their case permissions for their own department only: they see
the cases their department leads or assists, and act on those it leads (enforced per
case in `desk.services`: `get_case_for_user`, `cases_for_user` and each move).
docs/permissions.md is this table in words, and a test keeps the two the same; another
test walks every console URL and checks each role against the table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .access import current_account, current_role, switch_account, user_accounts
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
    "alerts.account": (_("提醒：查看本公众号的全部提醒（只读，确认仍由收到的人）"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "messages.view": (_("消息记录：查看粉丝消息"), OFFICE),
    "rules.view": (_("自动回复：查看规则、试一试"), STAFF),
    "rules.edit": (_("自动回复：新建、修改、删除规则和关注/默认/菜单回复"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR})),
    "cases.view": (_("诉求：查看诉求（部门联络员仅本部门）"), OFFICE | {R.LIAISON}),
    "cases.handle": (_("诉求：领取、答复、请群众补充、备注、办结（部门联络员仅本部门主办的）"), OFFICE | {R.LIAISON}),
    "cases.accept": (_("诉求：接收、退回、申请改派（主办部门的联络员）"), frozenset({R.LIAISON})),
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
    "services.view": (_("服务大厅：查看服务事项、办事网点、两步可达、链接健康、菜单统计"), STAFF),
    "services.edit": (_("服务大厅：新建、修改、导入服务事项和办事网点"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR})),
    "menu.view": (_("自定义菜单：查看菜单与历史版本"), STAFF),
    "menu.edit": (_("自定义菜单：编辑菜单草稿"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR})),
    "menu.publish": (_("自定义菜单：发布菜单、恢复历史版本"), frozenset({R.ADMIN, R.OPERATOR})),
    "content.view": (_("内容发布：查看文章、修订版本和流程（部门联络员仅本部门的）"), STAFF | {R.LIAISON}),
    "content.edit": (_("内容发布：撰写、修改文章，提交审核（部门联络员仅本部门的信息）"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR, R.LIAISON})),
    "content.verify": (_("内容发布：核实本部门提供的信息（来源部门的联络员）"), frozenset({R.LIAISON})),
    "content.proofread": (_("内容发布：校对"), frozenset({R.ADMIN, R.REVIEWER})),
    "content.approve": (_("内容发布：签发日常信息（委托授权）"), frozenset({R.ADMIN})),
    "content.major": (_("内容发布：签发政策解读和重大信息（领导）"), frozenset({R.SUPERVISOR})),
    "content.publish": (_("内容发布：定时发布、群发、删除已发布的文章"), frozenset({R.ADMIN, R.OPERATOR})),
    "content.plan": (_("内容发布：选题计划"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR, R.SUPERVISOR})),
    "content.policy": (_("内容发布：发布规则（谁签发、须核实、权威发布时限）"), frozenset({R.ADMIN})),
    "proofread.view": (_("校对：查看校对词表，在试一试中检查一段文字"), STAFF | {R.LIAISON}),
    "proofread.manage": (_("校对：维护本公众号的校对词表（规范提法、禁用词、易错词、领导姓名职务、公开号码、地名；全平台词表仅超级管理员）"), frozenset({R.ADMIN, R.REVIEWER})),
    "proofread.dismiss": (_("校对：忽略一条校对提示（须说明理由）"), frozenset({R.ADMIN, R.REVIEWER})),
    "materials.view": (_("素材库：查看图片、音频、视频"), STAFF | {R.LIAISON}),
    "materials.edit": (_("素材库：上传、修改、删除素材"), frozenset({R.ADMIN, R.OPERATOR, R.EDITOR, R.LIAISON})),
    "calendar.view": (_("节假日安排：查看各年份的节假日安排和暂定的诉求、班次"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "calendar.manage": (_("节假日安排：录入并确认新一年的国务院办公厅通知（全平台共用）"), frozenset({R.ADMIN})),
    "settings.view": (_("设置：查看公众号（令牌和密钥仅管理员可见）、部门、分办规则、办理时限、成员与角色、快捷回复、登录锁定"), frozenset({R.ADMIN, R.SUPERVISOR})),
    "settings.manage": (_("设置：修改公众号的设置和开发者凭据，管理部门、分办规则、办理时限、成员与角色、快捷回复，解除登录锁定"), frozenset({R.ADMIN})),
}  # fmt: skip

# Roles whose case permissions reach only their own department's cases.
DEPARTMENT_SCOPED = frozenset({R.LIAISON})

# The console areas, by the prefix of their permissions' names (docs/permissions.md).
AREAS: dict[str, Any] = {
    "home": _("首页"),
    "alerts": _("提醒"),
    "messages": _("消息记录"),
    "rules": _("自动回复"),
    "cases": _("诉求办理"),
    "rota": _("值班"),
    "team": _("团队"),
    "projects": _("专项工作组"),
    "channels": _("通知渠道"),
    "workload": _("工作量"),
    "services": _("服务大厅"),
    "menu": _("自定义菜单"),
    "content": _("内容发布"),
    "proofread": _("校对"),
    "materials": _("素材库"),
    "calendar": _("节假日安排"),
    "settings": _("设置"),
}


def role_has(role: str | None, perm: str) -> bool:
    if perm not in PERMISSIONS:
        raise KeyError(f"unknown permission {perm!r}")
    return role is not None and role in PERMISSIONS[perm][1]


def perms_for(role: str | None) -> frozenset[str]:
    """Every permission a role holds (none for no role)."""
    return frozenset(p for p, (_label, roles) in PERMISSIONS.items() if role in roles)


def can(user: Any, account: Account, perm: str) -> bool:
    """Whether the user's role on the account grants `perm` (superusers: everything)."""
    return role_has(role_for(user, account), perm)


def require(user: Any, account: Account, perm: str) -> None:
    """Raise PermissionDenied unless `can(user, account, perm)`: for services."""
    if not can(user, account, perm):
        raise denied(perm)


def denied(perm: str) -> PermissionDenied:
    """The refusal for a missing permission, naming what it would allow. It carries the
    permission (`.permission`), so the page that shows it names the roles that have it."""
    exc = PermissionDenied(f"没有权限：{PERMISSIONS[perm][0]} / not permitted: {perm}")
    exc.permission = perm  # type: ignore[attr-defined]
    return exc


def roles_with(perm: str) -> list[str]:
    """The roles that hold `perm`, in the order of `Membership.Role`."""
    return [role for role in R.values if role in PERMISSIONS[perm][1]]


def console_view(
    perm: str, *, account_of: Callable[..., int | None] | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A console page that needs `perm` on the current account: the view is called as
    view(request, account, ...). Not logged in: the login page; no account: the
    no-account page; a role without `perm`: 403.

    `account_of(**url_kwargs)` names the account a page's object belongs to (a case):
    when it is another account of the user's, that account becomes the current one, so
    a link from an alert opens on the right account, with the role held there."""
    if perm not in PERMISSIONS:
        raise KeyError(f"unknown permission {perm!r}")

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            account = current_account(request)
            if account is None:
                return render(request, "console/no_account.html")
            if account_of is not None:
                wanted = account_of(**kwargs)
                if wanted is not None and wanted != account.pk:
                    if wanted in {a.pk for a in user_accounts(request)}:
                        account = switch_account(request, wanted)
            if not role_has(current_role(request), perm):
                raise denied(perm)
            return view(request, account, *args, **kwargs)

        wrapped.permission = perm  # type: ignore[attr-defined]
        return wrapped

    return decorate
