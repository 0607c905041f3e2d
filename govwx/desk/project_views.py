"""Linking cases to a project team from the project page (the page itself is the
team app's: /team/projects/<id>/)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.permissions import console_view
from govwx.team.models import Project
from govwx.team.people import get_project_for_user

from . import projects
from .models import Case

CASE_NUMBER = re.compile(r"^\s*#?\s*(\d{1,12})\s*$")


def _project_account(pk: int, **_: Any) -> int | None:
    return Project.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def _case_of(account: Any, number: str) -> Case:
    """The account's case by the number a person typed ("42" or "#42")."""
    match = CASE_NUMBER.match(number)
    if match is None:
        raise ValidationError("请填写诉求编号，如 #42 / enter a case number such as #42")
    case = Case.objects.filter(pk=int(match.group(1)), account=account).first()
    if case is None:
        raise ValidationError(
            f"本公众号没有编号为 #{match.group(1)} 的诉求 / no case #{match.group(1)} here"
        )
    return case


@require_POST
@console_view("projects.manage", account_of=_project_account)
def link_case(request: HttpRequest, account: Any, pk: int) -> HttpResponse:
    project = get_project_for_user(request.user, account, pk)
    try:
        case = _case_of(account, request.POST.get("case", ""))
        projects.link_case(case, project, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已关联诉求 #%(n)s") % {"n": case.pk})
    return redirect("team:project", pk=project.pk)


@require_POST
@console_view("projects.manage", account_of=_project_account)
def unlink_case(request: HttpRequest, account: Any, pk: int) -> HttpResponse:
    project = get_project_for_user(request.user, account, pk)
    try:
        case = _case_of(account, request.POST.get("case", ""))
        projects.unlink_case(case, project, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("已取消关联诉求 #%(n)s") % {"n": case.pk})
    return redirect("team:project", pk=project.pk)
