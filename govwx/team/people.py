"""People and skills, and project teams (专项工作组).

Writes (each permission-checked, atomic and audited with `accounts.services.record`):
`set_profile` ("team.manage"); `create_project`, `add_project_member`,
`remove_project_member`, `close_project` ("projects.manage"); `add_deliverable` and
`set_deliverable_done` ("projects.manage", or the project's own lead). An archived
project is read-only: every write on it is refused. Reads for the pages: `staff_of`,
`skill_gaps`, `suggest_members`, `get_project_for_user`.

"Staff of an account" is everyone who holds a role on it (a `Membership`), department
liaisons included: a campaign such as 防汛宣传 draws on the departments too. A project's
lead must also be able to open the project pages ("projects.view").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from govwx.accounts import permissions
from govwx.accounts.models import Account, Membership
from govwx.accounts.services import record

from .models import Deliverable, Project, Skill, StaffProfile

# A mainland mobile number (the WeCom group robot @-mentions people by it).
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_NAME = 80
MAX_TITLE = 60
MAX_DELIVERABLE = 120

ARCHIVED_MESSAGE = (
    "专项工作组已结项归档，只能查看，不能修改 / the project is archived and read-only"
)


# ------------------------------------------------------------------ people and skills


def staff_of(account: Account) -> QuerySet[Any]:
    """The people who hold a role on the account."""
    return (
        get_user_model()
        .objects.filter(memberships__account=account, is_active=True)
        .order_by("username", "id")
    )


def is_staff_of(user: Any, account: Account) -> bool:
    return (
        user is not None
        and getattr(user, "pk", None) is not None
        and Membership.objects.filter(
            account=account, user_id=user.pk, user__is_active=True
        ).exists()
    )


def clean_skills(skills: Iterable[str]) -> list[str]:
    """Known skills only, each once, in the order of `Skill`."""
    wanted = [s.strip() for s in skills if s and s.strip()]
    unknown = sorted({s for s in wanted if s not in Skill.values})
    if unknown:
        raise ValidationError(
            f"未知技能：{'、'.join(unknown)} / unknown skill: {', '.join(unknown)}"
        )
    return [s for s in Skill.values if s in wanted]


def set_profile(
    account: Account,
    user: Any,
    *,
    skills: Iterable[str],
    title: str = "",
    phone: str = "",
    actor: Any,
) -> StaffProfile:
    """Set a staff member's skills, title and mobile number ("team.manage" on the
    account; the person must hold a role on it)."""
    permissions.require(actor, account, "team.manage")
    errors: dict[str, list[str]] = {}
    if not is_staff_of(user, account):
        errors["user"] = ["此人不是本公众号的工作人员 / not a staff member of this account"]
    try:
        cleaned = clean_skills(skills)
    except ValidationError as exc:
        errors["skills"] = exc.messages
    title = title.strip()
    if len(title) > MAX_TITLE:
        errors["title"] = [f"职务不能超过 {MAX_TITLE} 个字 / title longer than {MAX_TITLE}"]
    phone = re.sub(r"[\s-]", "", phone)
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = [
            "手机号格式不正确（应为 11 位、以 1 开头） / "
            "invalid mobile number: 11 digits starting with 1"
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile, _ = StaffProfile.objects.update_or_create(
            user=user, defaults={"skills": cleaned, "title": title, "phone": phone}
        )
        record(
            "staff.profile_saved",
            account=account,
            actor=actor,
            user=user.pk,
            skills=cleaned,
            title=title,
            phone_set=bool(phone),
        )
    return profile


@dataclass(frozen=True)
class StaffRow:
    """One person on the team page."""

    user: Any
    role: str
    role_label: str
    department: Any
    title: str
    phone: str
    skills: list[str]

    @property
    def skill_labels(self) -> list[Any]:
        return [Skill(s).label for s in self.skills]


def team_rows(account: Account) -> list[StaffRow]:
    """The account's staff with role, department and profile, in the order of the
    roles, then by name: two queries, whatever the number of people."""
    memberships = Membership.objects.filter(account=account, user__is_active=True).select_related(
        "user", "department"
    )
    order = {r: i for i, r in enumerate(Membership.Role.values)}
    members = sorted(memberships, key=lambda m: (order.get(m.role, 99), m.user.username, m.user_id))
    profiles = {
        p.user_id: p for p in StaffProfile.objects.filter(user_id__in=[m.user_id for m in members])
    }
    rows = []
    for m in members:
        p = profiles.get(m.user_id)
        rows.append(
            StaffRow(
                user=m.user,
                role=m.role,
                role_label=str(m.get_role_display()),
                department=m.department,
                title=p.title if p else "",
                phone=p.phone if p else "",
                skills=[s for s in Skill.values if p and s in p.skills],
            )
        )
    return rows


@dataclass(frozen=True)
class SkillGaps:
    missing: list[str]  # nobody on the account's staff has it
    single: dict[str, Any]  # only one person has it: skill -> that person


def skill_gaps(account: Account, rows: Sequence[StaffRow] | None = None) -> SkillGaps:
    """Skills nobody among the account's staff has, and skills only one person has (a
    single point of failure: leave, illness or a night shift and nobody can do it)."""
    rows = team_rows(account) if rows is None else rows
    holders: dict[str, list[Any]] = {s: [] for s in Skill.values}
    for row in rows:
        for s in row.skills:
            holders[s].append(row.user)
    return SkillGaps(
        missing=[s for s in Skill.values if not holders[s]],
        single={s: holders[s][0] for s in Skill.values if len(holders[s]) == 1},
    )


@dataclass
class Suggestion:
    members: list[Any] = field(default_factory=list)
    covered: dict[str, Any] = field(default_factory=dict)  # skill -> who brings it
    uncovered: list[str] = field(default_factory=list)  # nobody on the staff has it


def suggest_members(account: Account, skills: Iterable[str]) -> Suggestion:
    """A small team that covers the wanted skills: greedy set cover. Each step takes the
    person who brings the most skills still uncovered; ties go to the person on fewer
    active projects, then by name. Skills nobody has are returned as `uncovered`."""
    wanted = clean_skills(skills)
    load = dict(
        staff_of(account)
        .annotate(
            n=Count(
                "projects",
                filter=Q(projects__account=account, projects__status=Project.Status.ACTIVE),
            )
        )
        .values_list("pk", "n")
    )
    rows = sorted(team_rows(account), key=lambda r: (load.get(r.user.pk, 0), r.user.username))
    candidates = [(r.user, set(r.skills)) for r in rows]
    result = Suggestion()
    todo = set(wanted)
    while todo and candidates:
        # max() keeps the first of equals: the candidates are in tie-break order
        best = max(candidates, key=lambda c: len(c[1] & todo))
        if not best[1] & todo:
            break
        result.members.append(best[0])
        for s in sorted(best[1] & todo):
            result.covered[s] = best[0]
        todo -= best[1]
        candidates.remove(best)
    result.uncovered = [s for s in wanted if s in todo]
    return result


# ------------------------------------------------------------------ projects


def projects_for_user(user: Any, account: Account) -> QuerySet[Project]:
    """The account's projects, for a person who may view them (else none)."""
    if not permissions.can(user, account, "projects.view"):
        return Project.objects.none()
    return Project.objects.filter(account=account).select_related("lead")


def get_project_for_user(user: Any, account: Account, project_id: int) -> Project:
    """A project of the account for a person who may view projects; 404 otherwise (a
    project of another account does not exist for them)."""
    project = projects_for_user(user, account).filter(pk=project_id).first()
    if project is None:
        raise Http404("no such project")
    return project


def may_manage(user: Any, project: Project) -> bool:
    return permissions.can(user, project.account, "projects.manage")


def may_manage_deliverables(user: Any, project: Project) -> bool:
    """ "projects.manage", or the project's own lead."""
    return may_manage(user, project) or (
        getattr(user, "pk", None) is not None and project.lead_id == user.pk
    )


def _locked(project: Project) -> Project:
    """Lock the project row (inside a transaction) and refuse if it is archived, so a
    write racing the close sees the archive."""
    current = Project.objects.select_for_update().get(pk=project.pk)
    if current.status == Project.Status.ARCHIVED:
        raise ValidationError(ARCHIVED_MESSAGE)
    return current


def _refuse_archived(project: Project) -> None:
    if project.status == Project.Status.ARCHIVED:
        raise ValidationError(ARCHIVED_MESSAGE)


def create_project(
    account: Account,
    *,
    name: str,
    kind: str,
    lead: Any,
    starts_on: date | None,
    due_on: date | None,
    goal: str = "",
    members: Iterable[Any] = (),
    actor: Any,
) -> Project:
    """组建专项工作组 ("projects.manage"). The lead and every member must be staff of
    the account; the lead joins the members; the due date may not precede the start."""
    permissions.require(actor, account, "projects.manage")
    members = list(members)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["名称不能为空 / name is required"]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"名称不能超过 {MAX_NAME} 个字 / name longer than {MAX_NAME}"]
    if kind not in Project.Kind.values:
        errors["kind"] = [f"未知类型 / unknown kind: {kind}"]
    if lead is None:
        errors["lead"] = ["必须指定负责人 / a lead is required"]
    elif not is_staff_of(lead, account):
        errors["lead"] = [
            f"负责人 {lead} 不是本公众号的工作人员 / the lead is not staff of this account"
        ]
    elif not permissions.can(lead, account, "projects.view"):
        errors["lead"] = [
            f"{lead} 的角色不能查看专项工作组，不能担任负责人 / "
            "the lead's role cannot open projects"
        ]
    if starts_on is None:
        errors["starts_on"] = ["必须填写开始日期 / a start date is required"]
    if due_on is None:
        errors["due_on"] = ["必须填写截止日期 / a due date is required"]
    elif starts_on is not None and due_on < starts_on:
        errors["due_on"] = ["截止日期不能早于开始日期 / the due date is before the start"]
    strangers = [str(m) for m in members if not is_staff_of(m, account)]
    if strangers:
        errors["members"] = [
            f"不是本公众号的工作人员：{'、'.join(strangers)} / "
            f"not staff of this account: {', '.join(strangers)}"
        ]
    if errors:
        raise ValidationError(errors)
    assert starts_on is not None and due_on is not None
    with transaction.atomic():
        project = Project.objects.create(
            account=account,
            name=name,
            kind=kind,
            goal=goal.strip(),
            lead=lead,
            starts_on=starts_on,
            due_on=due_on,
        )
        team = {lead.pk, *(m.pk for m in members)}
        project.members.add(*team)
        record(
            "project.created",
            account=account,
            actor=actor,
            project=project.pk,
            name=name,
            lead=lead.pk,
            members=sorted(team),
            starts_on=starts_on.isoformat(),
            due_on=due_on.isoformat(),
        )
    return project


def add_project_member(project: Project, user: Any, *, actor: Any) -> Project:
    """Add a staff member of the project's account to the team ("projects.manage")."""
    permissions.require(actor, project.account, "projects.manage")
    _refuse_archived(project)
    if not is_staff_of(user, project.account):
        raise ValidationError(f"{user} 不是本公众号的工作人员 / not staff of this account")
    with transaction.atomic():
        _locked(project)
        if project.members.filter(pk=user.pk).exists():
            raise ValidationError(f"{user} 已是成员 / already a member")
        project.members.add(user)
        record(
            "project.member_added",
            account=project.account,
            actor=actor,
            project=project.pk,
            user=user.pk,
        )
    return project


def remove_project_member(project: Project, user: Any, *, actor: Any) -> Project:
    """Take a member off the team (not the lead). Their open deliverables lose their
    owner, so the page shows them as nobody's rather than someone's who left."""
    permissions.require(actor, project.account, "projects.manage")
    _refuse_archived(project)
    if user.pk == project.lead_id:
        raise ValidationError("负责人不能移出工作组 / the lead cannot be removed")
    with transaction.atomic():
        _locked(project)
        if not project.members.filter(pk=user.pk).exists():
            raise ValidationError(f"{user} 不是成员 / not a member")
        project.members.remove(user)
        Deliverable.objects.filter(project=project, owner=user, done_at__isnull=True).update(
            owner=None
        )
        record(
            "project.member_removed",
            account=project.account,
            actor=actor,
            project=project.pk,
            user=user.pk,
        )
    return project


def _require_deliverables(actor: Any, project: Project) -> None:
    if not may_manage_deliverables(actor, project):
        permissions.require(actor, project.account, "projects.manage")


def add_deliverable(
    project: Project,
    *,
    title: str,
    due_on: date | None,
    owner: Any = None,
    actor: Any,
) -> Deliverable:
    """Add a deliverable ("projects.manage", or the project's lead). Its due date lies
    within the project (start to due date); its owner, if any, is a member."""
    _require_deliverables(actor, project)
    _refuse_archived(project)
    errors: dict[str, list[str]] = {}
    title = title.strip()
    if not title:
        errors["title"] = ["成果名称不能为空 / a title is required"]
    elif len(title) > MAX_DELIVERABLE:
        errors["title"] = [
            f"成果名称不能超过 {MAX_DELIVERABLE} 个字 / title longer than {MAX_DELIVERABLE}"
        ]
    if due_on is None:
        errors["due_on"] = ["必须填写截止日期 / a due date is required"]
    elif not project.starts_on <= due_on <= project.due_on:
        errors["due_on"] = [
            f"截止日期应在工作组期限内（{project.starts_on:%Y-%m-%d} 至 "
            f"{project.due_on:%Y-%m-%d}） / the due date must lie within the project"
        ]
    if owner is not None and not project.members.filter(pk=owner.pk).exists():
        errors["owner"] = [f"责任人 {owner} 不是工作组成员 / the owner is not a member"]
    if errors:
        raise ValidationError(errors)
    assert due_on is not None
    with transaction.atomic():
        _locked(project)
        deliverable = Deliverable.objects.create(
            project=project, title=title, due_on=due_on, owner=owner
        )
        record(
            "project.deliverable_added",
            account=project.account,
            actor=actor,
            project=project.pk,
            deliverable=deliverable.pk,
            title=title,
            due_on=due_on.isoformat(),
            owner=getattr(owner, "pk", None),
        )
    return deliverable


def set_deliverable_done(deliverable: Deliverable, done: bool, *, actor: Any) -> Deliverable:
    """Mark a deliverable done (or not done again): "projects.manage", or the lead."""
    project = deliverable.project
    _require_deliverables(actor, project)
    _refuse_archived(project)
    with transaction.atomic():
        _locked(project)
        changed = Deliverable.objects.filter(pk=deliverable.pk, done_at__isnull=done).update(
            done_at=timezone.now() if done else None
        )
        if changed:
            record(
                "project.deliverable_done" if done else "project.deliverable_undone",
                account=project.account,
                actor=actor,
                project=project.pk,
                deliverable=deliverable.pk,
            )
    deliverable.refresh_from_db()
    return deliverable


def close_project(project: Project, summary: str, *, actor: Any) -> Project:
    """结项: close the project with a summary; it is archived and read-only from then on.
    Open deliverables stay as they are, on the record."""
    permissions.require(actor, project.account, "projects.manage")
    _refuse_archived(project)
    summary = summary.strip()
    if not summary:
        raise ValidationError({"summary": ["结项必须填写总结 / closing needs a summary"]})
    with transaction.atomic():
        _locked(project)
        now = timezone.now()
        Project.objects.filter(pk=project.pk).update(
            status=Project.Status.ARCHIVED, closed_at=now, summary=summary
        )
        record(
            "project.closed",
            account=project.account,
            actor=actor,
            project=project.pk,
            open_deliverables=project.deliverables.filter(done_at__isnull=True).count(),
            cases=project.cases.count(),
        )
    project.refresh_from_db()
    return project
