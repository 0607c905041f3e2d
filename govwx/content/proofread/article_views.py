"""The editor's proofreading (POST JSON, as the editor's script sends it) and the
account's report (/content/proofread/report/).

- `editor_check` (content.edit, the editor's permission): the article's fields as they
  are now → every finding with its field, block, offsets (characters of that field's
  text), message, suggestion and whether it was dismissed for its paragraph. Nothing
  is saved.
- `editor_dismiss` (proofread.dismiss): the same fields, the finding named by its
  part, offsets and key, and a reason → `dismiss_finding` for its paragraph (audited);
  answers with the findings as they are now.
- `report` (proofread.view): per month, the last 12 in Asia/Shanghai, the findings by
  family and severity, and the errors that reached publication.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts import permissions
from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import console_view
from govwx.content.articles_forms import read_blocks
from govwx.content.models import FindingRecord

from . import report as report_queries
from .article import Located, Part, dismiss, locate, parts_of
from .services import DISMISS
from .views import FAMILY_LABELS, SEVERITY_LABELS

# what one request may hold (an article's title is 64 characters, its body 20,000: the
# fields are cut there, never refused, so that a long draft is still checked)
FIELD_MAX = {"title": 200, "author": 100, "digest": 500}


class BadRequest(Exception):
    pass


def _json(data: dict[str, Any], status: int = 200, took: float | None = None) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    if took is not None:
        response["Server-Timing"] = f"proofread;dur={took * 1000:.1f}"
    return response


def _is_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _read(request: HttpRequest) -> tuple[dict[str, Any], list[Part]]:
    """The posted JSON and the article's parts in it."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise BadRequest(_("请求不是有效的 JSON")) from exc
    if not isinstance(data, dict):
        raise BadRequest(_("请求格式不正确"))
    fields = {name: str(data.get(name) or "")[:n] for name, n in FIELD_MAX.items()}
    blocks, errors = read_blocks(json.dumps(data.get("body") or []))
    if errors:
        raise BadRequest("；".join(errors))
    return data, parts_of(fields["title"], fields["author"], fields["digest"], blocks)


def _role_names(perm: str) -> str:
    return "、".join(str(Membership.Role(r).label) for r in permissions.roles_with(perm))


def may_dismiss(user: Any, account: Account) -> tuple[bool, str]:
    """Whether the person may dismiss a finding here, and if not, why (in words)."""
    if permissions.can(user, account, DISMISS):
        return True, ""
    return False, _("忽略校对提示须由%(roles)s操作，并说明理由；请修改文字，或请他们审阅。") % {
        "roles": _role_names(DISMISS)
    }


def _finding(x: Located) -> dict[str, Any]:
    return {
        **x.as_json(),
        "family_label": str(FAMILY_LABELS.get(x.finding.family, x.finding.family)),
        "severity_label": str(SEVERITY_LABELS.get(x.finding.severity, x.finding.severity)),
    }


def _answer(request: HttpRequest, account: Account, found: list[Located], t0: float) -> Any:
    can, why = may_dismiss(request.user, account)
    return _json(
        {
            "findings": [_finding(x) for x in found],
            "blocking": sum(1 for x in found if x.blocks),
            "can_dismiss": can,
            "dismiss_why": why,
        },
        took=time.perf_counter() - t0,
    )


@require_POST
@console_view("content.edit")
def editor_check(request: HttpRequest, account: Account) -> HttpResponse:
    if not _is_json(request):
        return redirect("content:articles")
    t0 = time.perf_counter()
    try:
        _data, parts = _read(request)
    except BadRequest as exc:
        return _json({"error": str(exc)}, status=400)
    return _answer(request, account, locate(account, parts), t0)


@require_POST
@console_view(DISMISS)
def editor_dismiss(request: HttpRequest, account: Account) -> HttpResponse:
    if not _is_json(request):
        return redirect("content:articles")
    t0 = time.perf_counter()
    try:
        data, parts = _read(request)
    except BadRequest as exc:
        return _json({"error": str(exc)}, status=400)
    found = locate(account, parts)
    wanted = (data.get("part"), data.get("start"), data.get("end"), data.get("key"))
    match = next(
        (x for x in found if (x.part.ref, x.finding.start, x.finding.end, x.key) == wanted), None
    )
    if match is None:
        return _json(
            {"error": _("这条提示已不在文中（文字已修改？），请看最新的检查结果。")}, status=409
        )
    try:
        dismiss(account, match, str(data.get("reason") or ""), actor=request.user)
    except ValidationError as exc:
        return _json({"error": "；".join(exc.messages)}, status=400)
    except PermissionDenied as exc:  # pragma: no cover - the view's permission is the same
        return _json({"error": str(exc)}, status=403)
    return _answer(request, account, locate(account, parts), t0)


@console_view("proofread.view")
def report(request: HttpRequest, account: Account) -> HttpResponse:
    where = request.GET.get("where", "")
    if where not in FindingRecord.Where.values:
        where = ""
    data = report_queries.build(request.user, account, where)
    return render(request, "content/proofread_report.html", {"account": account, **data})
