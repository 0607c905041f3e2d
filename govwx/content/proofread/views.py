"""设置 › 校对词表 (/settings/proofread/): the account's word lists by kind (leaders and
their titles, public numbers, formulations, words to avoid, misused words, places), with
add, retire and paste-import, the installation's own lists beside them, and the test box
(试一试: a text checked as the checker will check it, the findings marked in it).

Staff who write or review content read it (`proofread.view`); every write is a call to
`services`, which checks `proofread.manage` (the installation's lists: the superuser)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.content.models import ProofEntry

from . import FAMILIES, SEVERITIES, Finding, check, services
from . import families as _families  # noqa: F401  (registers the families)
from .context import context_for

Kind = ProofEntry.Kind
TRY_MAX = 20_000
# the page's order: what a government text most often gets wrong first
ORDER = [Kind.LEADER, Kind.PUBLIC_NUMBER, Kind.FORMULATION, Kind.AVOID, Kind.MISUSED, Kind.PLACE]
HELP: dict[str, Any] = {
    Kind.LEADER: gettext_lazy("领导的姓名和现任职务：文中姓名与职务不符时提示。"),
    Kind.PUBLIC_NUMBER: gettext_lazy("可以公开的热线和办公电话：其他电话号码视为个人信息提示。"),
    Kind.FORMULATION: gettext_lazy("规范提法和机构全称：写法不一致时提示。"),
    Kind.AVOID: gettext_lazy("不宜在政务信息中出现的词，须说明理由，可给出建议的写法。"),
    Kind.MISUSED: gettext_lazy("常见的错误写法和它的正确写法。"),
    Kind.PLACE: gettext_lazy(
        "本地的地名（区县、乡镇、街道、村社区）：不当作外地，也不当作错别字。"
    ),
}
SEVERITY_LABELS: dict[str, Any] = {
    "veto": gettext_lazy("否决"),
    "error": gettext_lazy("错误"),
    "warning": gettext_lazy("提示"),
}
FAMILY_LABELS: dict[str, Any] = {
    "typo": gettext_lazy("错别字"),
    "punctuation": gettext_lazy("标点"),
    "number": gettext_lazy("数字"),
    "personal_data": gettext_lazy("个人信息"),
    "formulation": gettext_lazy("规范提法"),
    "avoid": gettext_lazy("禁用词"),
    "name": gettext_lazy("名称与职务"),
    "tone": gettext_lazy("文风"),
}


@dataclass
class Segment:
    text: str
    numbers: list[int] = field(default_factory=list)  # the findings covering it, from 1
    severity: str = ""  # the gravest of them


def segments(text: str, found: list[Finding]) -> list[Segment]:
    """The text cut where a finding starts or ends, each piece with the findings that
    cover it (findings may overlap)."""
    cuts = sorted({0, len(text), *(f.start for f in found), *(f.end for f in found)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        covering = [n for n, f in enumerate(found, 1) if f.start <= a and b <= f.end]
        grave = min((SEVERITIES.index(found[n - 1].severity) for n in covering), default=None)
        out.append(Segment(text[a:b], covering, SEVERITIES[grave] if grave is not None else ""))
    return [s for s in out if s.text]


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {"general": exc.messages}
    found = dict(exc.message_dict)
    if "__all__" in found:
        found["general"] = found.pop("__all__")
    return found


def _pk(value: Any) -> int:
    return int(value) if str(value or "").isdigit() else 0


def _visible(account: Account) -> Any:
    """The entries the account's page shows: its own and the installation's."""
    return ProofEntry.objects.filter(Q(account=account) | Q(account__isnull=True))


@console_view("proofread.view")
def word_lists(request: HttpRequest, account: Account) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = {}
    text = ""
    tried: list[Finding] | None = None
    if request.method == "POST":
        post = request.POST
        action, kind = post.get("action", ""), post.get("kind", "")
        target = None if post.get("scope") == "installation" else account
        try:
            if action == "add":
                entry = services.add_entry(
                    target,
                    services.EntryInput(
                        kind, post.get("text", ""), post.get("extra", ""), post.get("note", "")
                    ),
                    actor=request.user,
                )
                messages.success(
                    request,
                    _("已添加%(kind)s「%(text)s」")
                    % {"kind": entry.get_kind_display(), "text": entry.text},
                )
            elif action == "retire":
                entry = get_object_or_404(_visible(account), pk=_pk(post.get("entry")))
                services.retire_entry(entry, actor=request.user)
                messages.success(
                    request,
                    _("已停用%(kind)s「%(text)s」")
                    % {"kind": entry.get_kind_display(), "text": entry.text},
                )
            elif action == "import":
                made = services.import_entries(
                    target, kind, post.get("lines", ""), actor=request.user
                )
                messages.success(
                    request,
                    _("已导入 %(n)d 条%(kind)s") % {"n": len(made), "kind": Kind(kind).label},
                )
            elif action == "try":
                text = post.get("text", "")[:TRY_MAX]
                tried = check(text, context_for(account)) if text.strip() else []
            else:
                raise ValidationError(_("未知操作"))
        except ValidationError as exc:
            errors = _errors(exc)
            form = {key: post.get(key, "") for key in ("action", "kind", "text", "extra",
                    "note", "lines", "scope")}  # fmt: skip
        else:
            if action != "try":
                return redirect(request.path + f"#list-{kind}")
    entries = list(
        _visible(account)
        .filter(retired_at__isnull=True)
        .select_related("created_by")
        .order_by("kind", "text", "id")
    )
    lists = [
        {
            "kind": kind,
            "label": Kind(kind).label,
            "help": HELP[kind],
            "extra_label": services.EXTRA_LABELS.get(kind),
            "line_form": services.line_form(kind),
            "entries": [e for e in entries if e.kind == kind],
            "form": form if form.get("kind") == kind else {},
            "errors": errors if form.get("kind") == kind else {},
        }
        for kind in ORDER
    ]
    general = errors.get("general", []) if form.get("kind") not in Kind.values else []
    context = context_for(account)
    numbered = [
        {
            "n": n,
            "finding": f,
            "severity_label": SEVERITY_LABELS[f.severity],
            "family_label": FAMILY_LABELS.get(f.family, f.family),
        }
        for n, f in enumerate(tried or [], 1)
    ]
    return render(
        request,
        "content/proofread_settings.html",
        {
            "account": account,
            "lists": lists,
            "general_errors": general,
            "text": text,
            "tried": tried,
            "numbered": numbered,
            "segments": segments(text, tried) if tried else [],
            "families": [FAMILY_LABELS.get(name, name) for name in FAMILIES],
            "known_names": context.names,
            "known_places": context.places,
            "superuser": request.user.is_superuser,
        },
        status=400 if errors else 200,
    )
