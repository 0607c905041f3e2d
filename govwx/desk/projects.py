"""Cases owned by a project team (专项工作组): linking and unlinking.

The write belongs to the desk (the desk may import team, not the reverse). Both need
"projects.manage" on the case's account, refuse a project of another account and an
archived project (read-only), are audited, and add to the case's history.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from govwx.accounts import permissions
from govwx.accounts.services import record
from govwx.team.models import Project
from govwx.team.people import ARCHIVED_MESSAGE

from .models import Case
from .services import _event


# The case history's words for these events (to join console.EVENT_LABELS).
def _check(case: Case, project: Project, actor: Any) -> None:
    permissions.require(actor, project.account, "projects.manage")
    if project.account_id != case.account_id:
        raise ValidationError(
            "诉求与专项工作组不属于同一个公众号 / the case and the project are of different accounts"
        )
    if project.status == Project.Status.ARCHIVED:
        raise ValidationError(ARCHIVED_MESSAGE)


def link_case(case: Case, project: Project, *, actor: Any) -> Case:
    """The project takes the case on. A case belongs to at most one project: one owned
    by another project is refused until it is unlinked there."""
    _check(case, project, actor)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status == Project.Status.ARCHIVED:
            raise ValidationError(ARCHIVED_MESSAGE)
        current = Case.objects.select_for_update().get(pk=case.pk)
        if current.project_id == project.pk:
            raise ValidationError(
                f"诉求 #{case.pk} 已关联本工作组 / case #{case.pk} is already linked"
            )
        if current.project_id is not None:
            other = Project.objects.filter(pk=current.project_id).first()
            raise ValidationError(
                f"诉求 #{case.pk} 已属于专项工作组「{other}」，请先在那里取消关联 / "
                f"case #{case.pk} belongs to another project: unlink it there first"
            )
        Case.objects.filter(pk=case.pk).update(project=project)
        _event(case, "case.project_linked", actor, project=project.pk, project_name=project.name)
        record(
            "project.case_linked",
            account=case.account,
            actor=actor,
            project=project.pk,
            case=case.pk,
        )
    case.refresh_from_db()
    return case


def unlink_case(case: Case, project: Project, *, actor: Any) -> Case:
    """The project gives the case up (refused once the project is archived)."""
    _check(case, project, actor)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.status == Project.Status.ARCHIVED:
            raise ValidationError(ARCHIVED_MESSAGE)
        if not Case.objects.filter(pk=case.pk, project=project).update(project=None):
            raise ValidationError(
                f"诉求 #{case.pk} 不属于本工作组 / case #{case.pk} is not linked to this project"
            )
        _event(case, "case.project_unlinked", actor, project=project.pk, project_name=project.name)
        record(
            "project.case_unlinked",
            account=case.account,
            actor=actor,
            project=project.pk,
            case=case.pk,
        )
    case.refresh_from_db()
    return case
