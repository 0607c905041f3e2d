"""The settings pages of departments and of members and roles (/settings/…).

Every page opens with "settings.view" (admins, and supervisors read-only); every POST
needs "settings.manage" (admins) and goes through one service of `departments.py` or
`members.py`. The invitation page (`join`) is the one page without a login: its link is
the key."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import departments as dept_services
from . import members as member_services
from .access import SESSION_KEY
from .forms import (
    ContactForm,
    CreateMemberForm,
    DepartmentForm,
    ImportForm,
    InviteForm,
    JoinExistingForm,
    JoinForm,
    LiaisonForm,
    MergeForm,
    RestoreForm,
    RoleForm,
)
from .models import Account, Membership
from .permissions import AREAS, PERMISSIONS, can, console_view, denied

R = Membership.Role
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _manage(request: HttpRequest, account: Account) -> None:
    """A write: admins only (supervisors see the settings read-only)."""
    if not can(request.user, account, "settings.manage"):
        raise denied("settings.manage")


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# -------------------------------------------------------------------- departments


@console_view("settings.view")
def departments(request: HttpRequest, account: Account) -> HttpResponse:
    form = DepartmentForm(account=account)
    if request.method == "POST":
        _manage(request, account)
        form = DepartmentForm(request.POST, account=account)
        if form.is_valid():
            try:
                dept = dept_services.create_department(
                    account, form.department_input(), actor=request.user
                )
            except ValidationError as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("已添加部门「%(name)s」") % {"name": dept.name})
                return redirect("org_settings:departments")
    return render(
        request,
        "accounts/settings/departments.html",
        {
            "account": account,
            "rows": dept_services.tree(account),
            "retired": dept_services.retired_of(account),
            "form": form,
            "can_manage": can(request.user, account, "settings.manage"),
            "no_organisation": account.organisation_id is None,
        },
    )


@console_view("settings.view")
def department(request: HttpRequest, account: Account, pk: int) -> HttpResponseBase:
    dept = dept_services.get_department(account, pk)
    form = DepartmentForm(
        account=account,
        instance=dept,
        initial={
            "name": dept.name,
            "short_name": dept.short_name,
            "parent": dept.parent_id,
            "working_hours": dept.working_hours,
        },
    )
    liaison_form = LiaisonForm(account=account, department=dept)
    merge_form = MergeForm(account=account, source=dept)
    problems: list[str] = []
    if request.method == "POST":
        _manage(request, account)
        action = request.POST.get("action")
        try:
            if action == "save":
                form = DepartmentForm(request.POST, account=account, instance=dept)
                if form.is_valid():
                    dept_services.update_department(
                        account, dept, form.department_input(), actor=request.user
                    )
                    messages.success(request, _("已保存部门「%(name)s」") % {"name": dept.name})
                    return redirect("org_settings:department", pk=dept.pk)
            elif action == "liaison":
                liaison_form = LiaisonForm(request.POST, account=account, department=dept)
                if liaison_form.is_valid():
                    m = member_services.get_member(account, liaison_form.cleaned_data["user"])
                    member_services.change_role(
                        account, m.user, R.LIAISON, dept, actor=request.user
                    )
                    messages.success(
                        request,
                        _("已将 %(user)s 设为「%(dept)s」的部门联络员")
                        % {"user": m.user.get_full_name() or m.user.username, "dept": dept.name},
                    )
                    return redirect("org_settings:department", pk=dept.pk)
            elif action == "merge":
                merge_form = MergeForm(request.POST, account=account, source=dept)
                if merge_form.is_valid():
                    target = dept_services.get_department(
                        account, merge_form.cleaned_data["target"]
                    )
                    moved = dept_services.merge_departments(
                        account, dept, target, actor=request.user
                    )
                    messages.success(
                        request,
                        _(
                            "已将「%(src)s」并入「%(dst)s」：转入未办结诉求 %(cases)s 件、分办规则 %(rules)s 条、联络员 %(liaisons)s 名"
                        )
                        % {
                            "src": dept.name,
                            "dst": target.name,
                            "cases": moved.get("open_cases", 0),
                            "rules": moved.get("routing_rules", 0),
                            "liaisons": moved.get("liaisons", 0),
                        },
                    )
                    return redirect("org_settings:department", pk=target.pk)
            elif action == "retire":
                dept_services.retire_department(account, dept, actor=request.user)
                messages.success(request, _("已撤销部门「%(name)s」") % {"name": dept.name})
                return redirect("org_settings:departments")
            else:
                problems = [_("未知操作")]
        except ValidationError as exc:
            problems = _errors(exc)
    return render(
        request,
        "accounts/settings/department.html",
        {
            "account": account,
            "dept": dept,
            "form": form,
            "liaison_form": liaison_form,
            "merge_form": merge_form,
            "problems": problems,
            "liaisons": Membership.objects.filter(
                account=account, role=R.LIAISON, department=dept, user__is_active=True
            ).select_related("user"),
            "usage": dept_services.usage(dept),
            "can_manage": can(request.user, account, "settings.manage"),
        },
    )


@console_view("settings.view")
def departments_import(request: HttpRequest, account: Account) -> HttpResponse:
    form = ImportForm()
    problems: list[str] = []
    if request.method == "POST":
        _manage(request, account)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = dept_services.import_departments(
                    account, form.cleaned_data["file"].read(), actor=request.user
                )
            except ValidationError as exc:
                problems = _errors(exc)
            else:
                messages.success(
                    request,
                    _("导入完成：新增 %(c)s 个部门，修改 %(u)s 个，未变 %(n)s 个")
                    % {"c": len(result.created), "u": len(result.updated), "n": result.unchanged},
                )
                return redirect("org_settings:departments")
    return render(
        request,
        "accounts/settings/departments_import.html",
        {
            "account": account,
            "form": form,
            "problems": problems,
            "columns": dept_services.COLUMNS,
            "can_manage": can(request.user, account, "settings.manage"),
        },
    )


@require_GET
@console_view("settings.view")
def departments_export(request: HttpRequest, account: Account) -> HttpResponse:
    response = HttpResponse(dept_services.export_xlsx(account), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="departments.xlsx"'
    return response


# ------------------------------------------------------------------------ members


def role_table() -> list[dict[str, Any]]:
    """The permission table (`PERMISSIONS`), grouped by area, for the page."""
    rows: list[dict[str, Any]] = []
    area = None
    for perm, (label, roles) in PERMISSIONS.items():
        here = perm.split(".")[0]
        if here != area:
            area = here
            rows.append({"area": AREAS.get(here, here), "perm": None})
        rows.append({"perm": perm, "label": label, "roles": [r in roles for r in R.values]})
    return rows


@console_view("settings.view")
def members(request: HttpRequest, account: Account) -> HttpResponse:
    invite_form = InviteForm(account=account, prefix="invite")
    create_form = CreateMemberForm(account=account, prefix="create")
    problems: list[str] = []
    if request.method == "POST":
        _manage(request, account)
        action = request.POST.get("action")
        try:
            if action == "invite":
                invite_form = InviteForm(request.POST, account=account, prefix="invite")
                if invite_form.is_valid():
                    d = invite_form.cleaned_data
                    inv, _token = member_services.invite(
                        account, d["email"], d["role"], invite_form.chosen_department(),
                        actor=request.user,
                    )  # fmt: skip
                    messages.success(
                        request,
                        _("已向 %(email)s 发送邀请邮件，链接 %(days)s 天内有效")
                        % {"email": inv.email, "days": member_services.INVITATION_DAYS},
                    )
                    return redirect("org_settings:members")
            elif action == "create":
                create_form = CreateMemberForm(request.POST, account=account, prefix="create")
                if create_form.is_valid():
                    d = create_form.cleaned_data
                    m = member_services.create_member(
                        account,
                        username=d["username"],
                        full_name=d["full_name"],
                        email=d["email"],
                        password=d["password"],
                        password2=d["password2"],
                        role=d["role"],
                        department=create_form.chosen_department(),
                        actor=request.user,
                    )
                    messages.success(
                        request,
                        _("已创建登录账号 %(user)s（%(role)s），请把初始密码告诉本人")
                        % {"user": m.user.username, "role": m.get_role_display()},
                    )
                    return redirect("org_settings:members")
            elif action == "revoke":
                inv = member_services.get_invitation(account, request.POST.get("invitation", ""))
                member_services.revoke_invitation(account, inv, actor=request.user)
                messages.success(request, _("已撤回对 %(email)s 的邀请") % {"email": inv.email})
                return redirect("org_settings:members")
            else:
                problems = [_("未知操作")]
        except ValidationError as exc:
            form = invite_form if action == "invite" else create_form
            if hasattr(exc, "error_dict") and action in ("invite", "create"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                problems = _errors(exc)
    return render(
        request,
        "accounts/settings/members.html",
        {
            "account": account,
            "rows": member_services.members_of(account),
            "invitations": member_services.pending_invitations(account),
            "former": member_services.deactivated_of(account),
            "restore_choices": RestoreForm(account=account).department_choices(),
            "invite_form": invite_form,
            "create_form": create_form,
            "problems": problems,
            "roles": R.choices,
            "role_table": role_table(),
            "can_manage": can(request.user, account, "settings.manage"),
            "open_action": request.POST.get("action") if request.method == "POST" else "",
        },
    )


@console_view("settings.view")
def member(request: HttpRequest, account: Account, user_id: int) -> HttpResponseBase:
    m = member_services.get_member(account, user_id)
    person = m.user
    role_form = RoleForm(account=account, initial={"role": m.role, "department": m.department_id})
    contact = member_services.contact_of(person)
    contact_form = ContactForm(
        initial={"phone": contact.phone, "wecom_userid": contact.wecom_userid}
    )
    problems: list[str] = []
    if request.method == "POST":
        _manage(request, account)
        action = request.POST.get("action")
        try:
            if action == "role":
                role_form = RoleForm(request.POST, account=account)
                if role_form.is_valid():
                    m = member_services.change_role(
                        account, person, role_form.cleaned_data["role"],
                        role_form.chosen_department(), actor=request.user,
                    )  # fmt: skip
                    label = m.get_role_display()
                    if m.department:
                        label += f"（{m.department.name}）"
                    messages.success(
                        request,
                        _("已将 %(user)s 的角色改为 %(role)s")
                        % {"user": person.get_full_name() or person.username, "role": label},
                    )
                    return redirect("org_settings:member", user_id=person.pk)
            elif action == "contact":
                contact_form = ContactForm(request.POST)
                if contact_form.is_valid():
                    member_services.set_contact(
                        account, person, contact_form.cleaned_data["phone"],
                        contact_form.cleaned_data["wecom_userid"], actor=request.user,
                    )  # fmt: skip
                    messages.success(
                        request,
                        _("已保存 %(user)s 的提醒联系方式")
                        % {"user": person.get_full_name() or person.username},
                    )
                    return redirect("org_settings:member", user_id=person.pk)
            elif action == "deactivate":
                disabled = member_services.deactivate_member(account, person, actor=request.user)
                name = person.get_full_name() or person.username
                messages.success(
                    request,
                    (
                        _("已停用 %(user)s：已移出本公众号，并停用其登录账号")
                        if disabled
                        else _("已将 %(user)s 移出本公众号（其在其他公众号的角色不变）")
                    )
                    % {"user": name},
                )
                return redirect("org_settings:members")
            else:
                problems = [_("未知操作")]
        except ValidationError as exc:
            target = {"role": role_form, "contact": contact_form}.get(action or "")
            if target is not None and hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    target.add_error(field if field in target.fields else None, errs)
            else:
                problems = _errors(exc)
    work = member_services.open_work(account, person)
    return render(
        request,
        "accounts/settings/member.html",
        {
            "account": account,
            "m": m,
            "person": person,
            "role_form": role_form,
            "contact_form": contact_form,
            "problems": problems,
            "cases": [w for w in work if w.kind == "case"],
            "shifts": [w for w in work if w.kind == "shift"],
            "other_accounts": Membership.objects.filter(user=person)
            .exclude(account=account)
            .count(),
            "can_manage": can(request.user, account, "settings.manage"),
            "is_self": request.user.pk == person.pk,
        },
    )


@require_POST
@console_view("settings.manage")
def member_restore(request: HttpRequest, account: Account, user_id: int) -> HttpResponse:
    """「恢复」 a person deactivated from the account, with the role chosen in the row's
    form. Refusals come back as the members page's message."""
    person = member_services.get_person(account, user_id)
    name = person.get_full_name() or person.username
    form = RestoreForm(request.POST, account=account)
    if not form.is_valid():
        messages.error(
            request,
            _("未能恢复 %(user)s：%(why)s")
            % {
                "user": name,
                "why": "；".join(str(e) for errs in form.errors.values() for e in errs),
            },
        )
        return redirect("org_settings:members")
    try:
        enabled = member_services.restore_member(
            account, person, form.cleaned_data["role"], form.chosen_department(),
            actor=request.user,
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(
            request,
            _("未能恢复 %(user)s：%(why)s") % {"user": name, "why": "；".join(exc.messages)},
        )
    else:
        m = Membership.objects.select_related("department").get(account=account, user=person)
        label = m.get_role_display() + (f"（{m.department.name}）" if m.department else "")
        messages.success(
            request,
            (
                _("已恢复 %(user)s，角色为 %(role)s，并重新启用其登录账号")
                if enabled
                else _("已恢复 %(user)s，角色为 %(role)s")
            )
            % {"user": name, "role": label},
        )
    return redirect("org_settings:members")


# ---------------------------------------------------------------- the invitation


def join(request: HttpRequest, token: str) -> HttpResponse:
    """The page an invitation's link opens: the invitee sets their name and password
    (or, with a login of that address already, gives its password) and joins, signed in
    and on the invited account."""
    try:
        inv = member_services.open_invitation(token)
    except member_services.InvitationInvalid as exc:
        return render(request, "accounts/join_invalid.html", {"reason": str(exc)}, status=410)
    existing = member_services.existing_login(inv)
    form: JoinForm | JoinExistingForm = JoinExistingForm() if existing else JoinForm()
    if request.method == "POST":
        form = JoinExistingForm(request.POST) if existing else JoinForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                user = member_services.accept_invitation(
                    token,
                    username=d.get("username", ""),
                    full_name=d.get("full_name", ""),
                    password=d["password"],
                    password2=d.get("password2", ""),
                )
            except member_services.InvitationInvalid as exc:
                return render(
                    request, "accounts/join_invalid.html", {"reason": str(exc)}, status=410
                )
            except ValidationError as exc:
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session[SESSION_KEY] = inv.account_id
                messages.success(
                    request,
                    _("欢迎加入「%(account)s」，您的角色是 %(role)s")
                    % {"account": inv.account.name, "role": _role_label(inv)},
                )
                return redirect(reverse("console:home"))
    return render(
        request,
        "accounts/join.html",
        {"inv": inv, "form": form, "existing": existing, "role_label": _role_label(inv)},
    )


def _role_label(inv: Any) -> str:
    label = str(R(inv.role).label)
    if inv.department is not None:
        label += f"（{inv.department.name}）"
    return label
