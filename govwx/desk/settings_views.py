"""The desk's settings pages (设置): 分办规则 (routing rules, their order, the routing mode
and the test box), 办理时限 (time limits per case type, with a preview on the calendar)
and 快捷回复 (canned replies). Admins and supervisors read them (`settings.view`);
every write is a call to `settings_services`, which checks `settings.manage`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from govwx.accounts.models import Account, Department
from govwx.accounts.permissions import console_view
from govwx.lib import textcheck

from . import settings_services as ops
from .models import CannedReply, CaseType, DeskSettings, RoutingRule, TimeLimit
from .services import Limits


def _departments(account: Account) -> Any:
    return Department.objects.of_account(account).order_by("name")


def _pk(value: Any) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    """Messages per field; those of no field under "general"."""
    if not hasattr(exc, "error_dict"):
        return {"general": exc.messages}
    found = dict(exc.message_dict)
    if "__all__" in found:
        found["general"] = found.pop("__all__")
    return found


def _type_label(kind: str) -> str:
    return str(CaseType(kind).label) if kind in CaseType.values else _("按消息中的词判断")


def _own(model: type[Any], account: Account, value: Any) -> Any:
    """The account's own row of `model` named by a form's value; 404 for anything else."""
    return get_object_or_404(model, account=account, pk=_pk(value) or 0)


# ------------------------------------------------------------------ routing


@console_view("settings.view")
def routing(request: HttpRequest, account: Account) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    form: dict[str, Any] = {}
    editing: RoutingRule | None = None
    if request.GET.get("edit"):
        editing = _own(RoutingRule, account, request.GET["edit"])
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        data = ops.RuleInput(
            post.get("keyword", ""), _pk(post.get("department")), post.get("case_type", "")
        )
        try:
            if action == "add":
                rule = ops.add_routing_rule(account, data, actor=request.user)
                messages.success(request, _("已添加分办规则「%s」") % rule.keyword)
            elif action == "edit":
                editing = _own(RoutingRule, account, post.get("rule"))
                ops.update_routing_rule(editing, data, actor=request.user)
                messages.success(request, _("已修改分办规则「%s」") % editing.keyword)
            elif action == "delete":
                rule = _own(RoutingRule, account, post.get("rule"))
                ops.delete_routing_rule(rule, actor=request.user)
                messages.success(request, _("已删除分办规则「%s」") % rule.keyword)
            elif action in ("up", "down"):
                rule = _own(RoutingRule, account, post.get("rule"))
                ops.move_routing_rule(rule, action, actor=request.user)
                messages.success(
                    request,
                    (_("已将「%s」上移") if action == "up" else _("已将「%s」下移")) % rule.keyword,
                )
            elif action == "mode":
                mode = post.get("routing_mode", "")
                ops.set_routing_mode(account, mode, actor=request.user)
                messages.success(
                    request,
                    _("分办方式已改为：%s") % DeskSettings.RoutingMode(mode).label,
                )
            else:
                raise ValidationError(_("未知操作"))
        except ValidationError as exc:
            errors = _errors(exc)
            form = {"keyword": data.keyword, "department": data.department_id,
                    "case_type": data.case_type, "action": action}  # fmt: skip
        else:
            return redirect("desk_settings:routing")
    text = request.GET.get("text", "").strip()[:2048]
    rules = list(
        RoutingRule.objects.filter(account=account)
        .select_related("department")
        .order_by("priority", "id")
    )
    if editing is not None and not form:
        form = {"keyword": editing.keyword, "department": editing.department_id,
                "case_type": editing.case_type}  # fmt: skip
    return render(
        request,
        "desk/settings/routing.html",
        {
            "account": account,
            "rules": [(r, _type_label(r.case_type)) for r in rules],
            "departments": _departments(account),
            "types": CaseType.choices,
            "modes": DeskSettings.RoutingMode.choices,
            "mode": ops.routing_mode(account),
            "editing": editing,
            "form": form,
            "errors": errors,
            "text": text,
            "tried": ops.try_routing(account, text) if text else None,
        },
        status=400 if errors else 200,
    )


# ------------------------------------------------------------------ time limits


@console_view("settings.view")
def time_limits(request: HttpRequest, account: Account) -> HttpResponse:
    limits = ops.limits_of(account)
    errors: dict[str, list[str]] = {}
    unsaved: str | None = None  # a type previewed with values not saved
    chosen = request.POST.get("case_type", "")
    if request.method == "POST":
        post = request.POST
        try:
            if chosen not in CaseType.values:
                raise ValidationError({"case_type": [_("未知的诉求类型")]})
            entered = ops.clean_limits(
                post.get("first_response", ""),
                post.get("first_response_unit", ""),
                post.get("resolution", ""),
                post.get("resolution_unit", ""),
                post.get("restart_on_transfer") == "on",
            )
            if post.get("action") == "preview":
                limits[chosen] = entered
                unsaved = chosen
            else:
                ops.set_time_limit(account, chosen, entered, actor=request.user)
                messages.success(request, _("已保存「%s」的办理时限") % CaseType(chosen).label)
                return redirect("desk_settings:time_limits")
        except ValidationError as exc:
            errors = _errors(exc)
    own = set(TimeLimit.objects.filter(account=account).values_list("case_type", flat=True))
    rows = []
    for kind, label in CaseType.choices:
        shown: Limits = limits[kind]
        if errors and kind == chosen:  # what was typed, shown again with the errors
            post = request.POST
            shown = Limits(
                post.get("first_response", ""),  # type: ignore[arg-type]
                post.get("first_response_unit", ""),
                post.get("resolution", ""),  # type: ignore[arg-type]
                post.get("resolution_unit", ""),
                post.get("restart_on_transfer") == "on",
            )
        rows.append(
            {
                "kind": kind,
                "label": label,
                "limits": shown,
                "own": kind in own,
                "errors": errors if kind == chosen else {},
                "unsaved": unsaved == kind,
                "preview": ops.preview(limits[kind]),
            }
        )
    return render(
        request,
        "desk/settings/time_limits.html",
        {"account": account, "rows": rows, "units": TimeLimit.Unit.choices, "errors": errors},
        status=400 if errors else 200,
    )


# ------------------------------------------------------------------ canned replies


@console_view("settings.view")
def replies(request: HttpRequest, account: Account) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    refused: textcheck.TextRefused | None = None
    form: dict[str, Any] = {}
    editing: CannedReply | None = None
    if request.GET.get("edit"):
        editing = _own(CannedReply, account, request.GET["edit"])
    if request.method == "POST":
        action, post = request.POST.get("action", ""), request.POST
        data = ops.CannedInput(
            post.get("title", ""), post.get("text", ""), post.get("case_type", "")
        )
        dismissing = textcheck.posted_dismiss(post)
        warnings: list[textcheck.Found] = []
        try:
            if action == "add":
                reply = ops.add_canned_reply(
                    account, data, actor=request.user, dismissing=dismissing, warnings=warnings
                )
                messages.success(request, _("已添加快捷回复「%s」") % reply.title)
                textcheck.warn(request, warnings)
            elif action == "edit":
                editing = _own(CannedReply, account, post.get("reply"))
                ops.update_canned_reply(
                    editing, data, actor=request.user, dismissing=dismissing, warnings=warnings
                )
                messages.success(request, _("已修改快捷回复「%s」") % editing.title)
                textcheck.warn(request, warnings)
            elif action == "delete":
                reply = _own(CannedReply, account, post.get("reply"))
                ops.delete_canned_reply(reply, actor=request.user)
                messages.success(request, _("已删除快捷回复「%s」") % reply.title)
            else:
                raise ValidationError(_("未知操作"))
        except ValidationError as exc:
            if isinstance(exc, textcheck.TextRefused):
                refused = exc
            else:
                errors = _errors(exc)
            form = {"title": data.title, "text": data.text, "case_type": data.case_type,
                    "action": action}  # fmt: skip
        else:
            return redirect("desk_settings:replies")
    if editing is not None and not form:
        form = {"title": editing.title, "text": editing.text, "case_type": editing.case_type}
    rows = [
        (r, _("全部类型") if not r.case_type else r.get_case_type_display())
        for r in CannedReply.objects.filter(account=account).order_by("case_type", "title")
    ]
    return render(
        request,
        "desk/settings/replies.html",
        {
            "account": account,
            "rows": rows,
            "types": CaseType.choices,
            "variables": ["{" + v + "}" for v in ops.VARIABLES],
            "editing": editing,
            "form": form,
            "errors": errors,
            "refused": refused,
        },
        status=400 if errors or refused else 200,
    )
