"""The team page (people, skills, gaps) and project teams (专项工作组). Thin: load
through the access helpers of `people`, call one service, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govwx.accounts import permissions
from govwx.accounts.access import current_role
from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.lib.privacy import mask

from . import people
from .models import Deliverable, Project, Skill, StaffProfile

SKILL_LABELS = dict(Skill.choices)


def _date(value: str, label: str) -> date | None:
    """A date from a form (YYYY-MM-DD); blank: None; anything else: a clear error."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(
            {
                label: [
                    f"日期格式不正确：{value}（应为 YYYY-MM-DD） / invalid date, expected YYYY-MM-DD"
                ]
            }
        ) from exc


def _can(request: HttpRequest, perm: str) -> bool:
    """Whether the person's role on the current account grants `perm` (no query)."""
    return permissions.role_has(current_role(request), perm)


def _project_account(pk: int, **_: Any) -> int | None:
    """The account a project belongs to, so a link opens on that account."""
    return Project.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"__all__": exc.messages}


def _staff_member(account: Account, user_id: Any) -> Any:
    user = people.staff_of(account).filter(pk=user_id if str(user_id).isdigit() else 0).first()
    if user is None:
        raise ValidationError(_("请选择本公众号的工作人员"))
    return user


# ------------------------------------------------------------------ the team page


@console_view("team.view")
def team_page(request: HttpRequest, account: Account) -> HttpResponse:
    rows = people.team_rows(account)
    gaps = people.skill_gaps(account, rows)
    state = {s: "missing" for s in gaps.missing} | {s: "single" for s in gaps.single}
    columns = [
        {
            "value": value,
            "label": label,
            "state": state.get(value, ""),
            "count": sum(value in r.skills for r in rows),
        }
        for value, label in Skill.choices
    ]
    return render(
        request,
        "team/team.html",
        {
            "account": account,
            "rows": rows,
            "labels": SKILL_LABELS,
            "columns": columns,
            "matrix": [
                (row, [(c["value"] in row.skills, c["state"]) for c in columns]) for row in rows
            ],
            "missing": [SKILL_LABELS[s] for s in gaps.missing],
            "single": [(SKILL_LABELS[s], u) for s, u in gaps.single.items()],
            "can_manage": _can(request, "team.manage"),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view("team.manage")
def profile_edit(request: HttpRequest, account: Account, user_id: int) -> HttpResponse:
    person = people.staff_of(account).filter(pk=user_id).first()
    if person is None:
        raise Http404("no such staff member")
    profile = StaffProfile.objects.filter(user=person).first()
    values: dict[str, Any] = {
        "skills": list(profile.skills) if profile else [],
        "title": profile.title if profile else "",
        "phone": profile.phone if profile else "",
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {
            "skills": request.POST.getlist("skills"),
            "title": request.POST.get("title", ""),
            "phone": request.POST.get("phone", ""),
        }
        try:
            people.set_profile(
                account,
                person,
                skills=values["skills"],
                title=values["title"],
                phone=values["phone"],
                actor=request.user,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已保存 %(name)s 的技能") % {"name": person})
            return redirect("team:team")
    return render(
        request,
        "team/profile_form.html",
        {"person": person, "values": values, "errors": errors, "skills": Skill.choices},
        status=400 if errors else 200,
    )


# ------------------------------------------------------------------ projects


@console_view("projects.view")
def project_list(request: HttpRequest, account: Account) -> HttpResponse:
    projects = list(
        people.projects_for_user(request.user, account)
        .annotate(
            n_deliverables=Count("deliverables", distinct=True),
            n_done=Count(
                "deliverables", filter=Q(deliverables__done_at__isnull=False), distinct=True
            ),
            n_cases=Count("cases", distinct=True),
        )
        .order_by("due_on", "id")
    )
    return render(
        request,
        "team/projects.html",
        {
            "account": account,
            "active": [p for p in projects if p.status == Project.Status.ACTIVE],
            "archived": sorted(
                (p for p in projects if p.status == Project.Status.ARCHIVED),
                key=lambda p: p.closed_at or timezone.now(),
                reverse=True,
            ),
            "today": timezone.localdate(),
            "can_manage": _can(request, "projects.manage"),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view("projects.manage")
def project_new(request: HttpRequest, account: Account) -> HttpResponse:
    """The create form. Ticking the skills wanted and pressing 推荐成员 (a GET) pre-ticks
    the members the greedy cover suggests; the person may change the choice."""
    rows = people.team_rows(account)
    data = request.POST if request.method == "POST" else request.GET
    wanted = data.getlist("skills")
    errors: dict[str, list[str]] = {}
    suggestion = None
    try:
        if wanted:
            suggestion = people.suggest_members(account, wanted)
    except ValidationError as exc:
        errors["skills"] = exc.messages
    if request.method == "POST":
        chosen = data.getlist("members")
    elif suggestion is not None:
        chosen = [str(u.pk) for u in suggestion.members]
    else:
        chosen = []
    if request.method == "POST" and not errors:
        try:
            project = _create(request, account, data, chosen)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("已组建专项工作组「%(name)s」") % {"name": project.name})
            return redirect("team:project", pk=project.pk)
    return render(
        request,
        "team/project_form.html",
        {
            "account": account,
            "rows": rows,
            "skills": Skill.choices,
            "kinds": Project.Kind.choices,
            "wanted": wanted,
            "chosen": chosen,
            "suggestion": suggestion,
            "uncovered": [
                SKILL_LABELS.get(s, s) for s in (suggestion.uncovered if suggestion else [])
            ],
            "values": data,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _create(request: HttpRequest, account: Account, data: Any, chosen: list[str]) -> Project:
    errors: dict[str, list[str]] = {}
    dates: dict[str, date | None] = {}
    for key in ("starts_on", "due_on"):
        try:
            dates[key] = _date(data.get(key, ""), key)
        except ValidationError as exc:
            errors.update(_errors(exc))
            dates[key] = None
    staff = {str(u.pk): u for u in people.staff_of(account)}
    lead_id = data.get("lead", "")
    lead = staff.get(lead_id)
    if lead_id and lead is None:
        errors["lead"] = [_("负责人不是本公众号的工作人员")]
    unknown = [c for c in chosen if c not in staff]
    if unknown:
        errors["members"] = [_("有成员不是本公众号的工作人员")]
    if errors:
        raise ValidationError(errors)
    return people.create_project(
        account,
        name=data.get("name", ""),
        kind=data.get("kind", ""),
        goal=data.get("goal", ""),
        lead=lead,
        starts_on=dates["starts_on"],
        due_on=dates["due_on"],
        members=[staff[c] for c in chosen],
        actor=request.user,
    )


@console_view("projects.view", account_of=_project_account)
def project_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    project = people.get_project_for_user(request.user, account, pk)
    members = list(project.members.order_by("username", "id"))
    profiles = {p.user_id: p for p in StaffProfile.objects.filter(user__in=members)}
    member_rows = [
        {
            "user": u,
            "title": profiles[u.pk].title if u.pk in profiles else "",
            "skills": [
                (s, label)
                for s, label in Skill.choices
                if u.pk in profiles and s in profiles[u.pk].skills
            ],
        }
        for u in members
    ]
    member_ids = {u.pk for u in members}
    today = timezone.localdate()
    deliverables = list(project.deliverables.select_related("owner"))
    cases = [
        {"case": c, "subject": mask(c.subject)} for c in project.cases.order_by("-opened_at", "-id")
    ]
    archived = project.status == Project.Status.ARCHIVED
    can_manage = not archived and _can(request, "projects.manage")
    return render(
        request,
        "team/project_detail.html",
        {
            "project": project,
            "members": member_rows,
            "deliverables": [
                {"d": d, "overdue": d.done_at is None and d.due_on < today} for d in deliverables
            ],
            "cases": cases,
            "today": today,
            "now": timezone.now(),
            "archived": archived,
            "can_manage": can_manage,
            "can_deliver": not archived and (can_manage or project.lead_id == request.user.pk),
            "others": [u for u in people.staff_of(account) if u.pk not in member_ids]
            if can_manage
            else [],
        },
    )


@require_POST
@console_view("projects.view", account_of=_project_account)
def project_act(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """One write on a project; the service checks who may do it (403 otherwise)."""
    project = people.get_project_for_user(request.user, account, pk)
    post, user = request.POST, request.user
    action = post.get("action", "")
    try:
        if action == "add_member":
            people.add_project_member(project, _staff_member(account, post.get("user")), actor=user)
        elif action == "remove_member":
            people.remove_project_member(
                project, _staff_member(account, post.get("user")), actor=user
            )
        elif action == "add_deliverable":
            owner = _staff_member(account, post["owner"]) if post.get("owner") else None
            people.add_deliverable(
                project,
                title=post.get("title", ""),
                due_on=_date(post.get("due_on", ""), "due_on"),
                owner=owner,
                actor=user,
            )
        elif action in ("done", "undone"):
            deliverable = Deliverable.objects.filter(
                project=project, pk=post.get("deliverable", "") or 0
            ).first()
            if deliverable is None:
                raise Http404("no such deliverable")
            people.set_deliverable_done(deliverable, action == "done", actor=user)
        elif action == "close":
            people.close_project(project, post.get("summary", ""), actor=user)
        else:
            raise ValidationError(_("未知操作"))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        done = {
            "add_member": _("已加入工作组"),
            "remove_member": _("已移出工作组"),
            "add_deliverable": _("已添加成果"),
            "done": _("已标记为完成"),
            "undone": _("已改回未完成"),
            "close": _("已结项归档"),
        }
        messages.success(request, done[action])
    return redirect("team:project", pk=project.pk)
