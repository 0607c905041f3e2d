"""Writes of the desk's settings (the console's 设置 → 分办规则, 办理时限, 快捷回复): each
checks `settings.manage`, validates, runs in a transaction and is audited. Also what the
settings pages compute without writing: the routing test box (the intake's own routing,
routing.route) and a time limit's preview on the working-day calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts import permissions
from govwx.accounts.models import Account, Department
from govwx.accounts.services import record
from govwx.lib import textcheck
from govwx.workcalendar.services import calendar

from . import routing
from .models import CannedReply, Case, CaseType, DeskSettings, RoutingRule, TimeLimit
from .services import DEFAULT_LIMITS, Due, Limits, deadlines

MANAGE = "settings.manage"
CANNED = "canned_reply"  # what the text checker is told it checks
Unit = TimeLimit.Unit


def _departments(account: Account) -> Any:
    """The departments a rule may name: the account's organisation's, still in use."""
    return Department.objects.of_account(account)


# ------------------------------------------------------------------ routing


@dataclass(frozen=True)
class RuleInput:
    keyword: str
    department_id: int | None
    case_type: str = ""


def _clean_rule(account: Account, data: RuleInput, *, exclude: int | None = None) -> RuleInput:
    errors: dict[str, list[str]] = {}
    keyword = data.keyword.strip()
    if not keyword:
        errors["keyword"] = [_("关键词不能为空")]
    elif len(keyword) > 60:
        errors["keyword"] = [_("关键词最多 60 个字")]
    elif (
        RoutingRule.objects.filter(account=account, keyword=keyword)
        .exclude(pk=exclude or 0)
        .exists()
    ):
        errors["keyword"] = [
            _("已有关键词「%(keyword)s」的规则，同一关键词只能有一条规则") % {"keyword": keyword}
        ]
    if data.case_type and data.case_type not in CaseType.values:
        errors["case_type"] = [_("未知的诉求类型：%(type)s") % {"type": data.case_type}]
    if data.department_id is None:
        errors["department"] = [_("请选择部门")]
    elif not _departments(account).filter(pk=data.department_id).exists():
        errors["department"] = [_("该部门不属于本公众号的主办单位，或已撤销")]
    if errors:
        raise ValidationError(errors)
    return RuleInput(keyword, data.department_id, data.case_type)


def add_routing_rule(account: Account, data: RuleInput, *, actor: Any) -> RoutingRule:
    """A rule after the account's others (tried last)."""
    permissions.require(actor, account, MANAGE)
    data = _clean_rule(account, data)
    with transaction.atomic():
        last = RoutingRule.objects.filter(account=account).aggregate(m=Max("priority"))["m"]
        rule = RoutingRule.objects.create(
            account=account,
            keyword=data.keyword,
            case_type=data.case_type,
            department_id=data.department_id,
            priority=(last or 0) + 10,
        )
        record("desk.routing_rule_added", account=account, actor=actor, **_rule_data(rule))
    return rule


def update_routing_rule(rule: RoutingRule, data: RuleInput, *, actor: Any) -> RoutingRule:
    permissions.require(actor, rule.account, MANAGE)
    data = _clean_rule(rule.account, data, exclude=rule.pk)
    with transaction.atomic():
        before = _rule_data(rule)
        rule.keyword, rule.case_type = data.keyword, data.case_type
        rule.department_id = data.department_id
        rule.save(update_fields=["keyword", "case_type", "department"])
        record(
            "desk.routing_rule_changed",
            account=rule.account,
            actor=actor,
            before=before,
            after=_rule_data(rule),
        )
    return rule


def delete_routing_rule(rule: RoutingRule, *, actor: Any) -> None:
    permissions.require(actor, rule.account, MANAGE)
    with transaction.atomic():
        record("desk.routing_rule_deleted", account=rule.account, actor=actor, **_rule_data(rule))
        rule.delete()


def move_routing_rule(rule: RoutingRule, direction: str, *, actor: Any) -> None:
    """Up or down one place in the order rules are tried (the account's rules are
    numbered again 10, 20, 30 …)."""
    account = rule.account
    permissions.require(actor, account, MANAGE)
    if direction not in ("up", "down"):
        raise ValidationError(_("未知的移动方向"))
    with transaction.atomic():
        rules = list(
            RoutingRule.objects.select_for_update()
            .filter(account=account)
            .order_by("priority", "id")
        )
        i = next(n for n, r in enumerate(rules) if r.pk == rule.pk)
        j = i - 1 if direction == "up" else i + 1
        if not 0 <= j < len(rules):
            return
        rules[i], rules[j] = rules[j], rules[i]
        for n, r in enumerate(rules, start=1):
            if r.priority != n * 10:
                RoutingRule.objects.filter(pk=r.pk).update(priority=n * 10)
        record(
            "desk.routing_rule_moved",
            account=account,
            actor=actor,
            keyword=rule.keyword,
            direction=direction,
            position=j + 1,
        )


def _rule_data(rule: RoutingRule) -> dict[str, Any]:
    return {
        "rule": rule.pk,
        "keyword": rule.keyword,
        "case_type": rule.case_type,
        "department": rule.department_id,
    }


def routing_mode(account: Account) -> str:
    row = DeskSettings.objects.filter(account=account).first()
    return row.routing_mode if row else DeskSettings.RoutingMode.AUTO


def set_routing_mode(account: Account, mode: str, *, actor: Any) -> None:
    permissions.require(actor, account, MANAGE)
    if mode not in DeskSettings.RoutingMode.values:
        raise ValidationError({"routing_mode": [_("未知的分办方式：%(mode)s") % {"mode": mode}]})
    with transaction.atomic():
        before = routing_mode(account)
        DeskSettings.objects.update_or_create(account=account, defaults={"routing_mode": mode})
        record("desk.routing_mode_set", account=account, actor=actor, before=before, after=mode)


@dataclass(frozen=True)
class Tried:
    """The test box's answer: what intake would do with a message."""

    text: str
    routed: routing.Routed
    mode: str
    rule_count: int

    @property
    def case_type_label(self) -> str:
        return str(CaseType(self.routed.case_type).label)

    @property
    def outcome(self) -> str:
        """rule: a rule chose the department; bare: the message names nothing;
        norule: no rule's keyword is in it; empty: the account has no rules."""
        if self.routed.bare:
            return "bare"
        if self.routed.rule is not None:
            return "rule"
        return "norule" if self.rule_count else "empty"


def try_routing(account: Account, text: str) -> Tried:
    """What intake's routing makes of `text` for this account (the same code path)."""
    rules = routing.rules_of(account.pk)
    found = routing.route(rules, text, handoff=routing.handoff_words([account.pk])[account.pk])
    return Tried(text, found, routing_mode(account), len(rules))


# ------------------------------------------------------------------ time limits

# At least one of its unit; at most about a year: 365 days of hours, or the working days
# of a year (250).
MAX_VALUE = {Unit.HOURS: 24 * 365, Unit.WORKING_DAYS: 250}


def limits_of(account: Account) -> dict[str, Limits]:
    """Each case type's time limits on this account (its own, or the defaults)."""
    found = {
        row.case_type: Limits(
            row.first_response,
            row.first_response_unit,
            row.resolution,
            row.resolution_unit,
            row.restart_on_transfer,
        )
        for row in TimeLimit.objects.filter(account=account)
    }
    return {kind: found.get(kind, DEFAULT_LIMITS[CaseType(kind)]) for kind in CaseType.values}


def clean_limits(
    first: Any, first_unit: str, resolution: Any, resolution_unit: str, restart: bool
) -> Limits:
    errors: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for field, label, value, unit in (
        ("first_response", _("首次响应时限"), first, first_unit),
        ("resolution", _("办结时限"), resolution, resolution_unit),
    ):
        if unit not in Unit.values:
            errors[f"{field}_unit"] = [_("%(limit)s的单位只能是工作日或小时") % {"limit": label}]
            continue
        try:
            n = int(str(value).strip())
        except ValueError:
            errors[field] = [_("%(limit)s请填写整数") % {"limit": label}]
            continue
        top = MAX_VALUE[Unit(unit)]
        if n < 1:
            errors[field] = [
                _("%(limit)s至少为 1 %(unit)s") % {"limit": label, "unit": Unit(unit).label}
            ]
        elif n > top:
            errors[field] = [
                _("%(limit)s不能超过一年（最多 %(top)s %(unit)s）")
                % {"limit": label, "top": top, "unit": Unit(unit).label}
            ]
        else:
            values[field] = n
    if errors:
        raise ValidationError(errors)
    return Limits(
        values["first_response"], first_unit, values["resolution"], resolution_unit, restart
    )


def set_time_limit(account: Account, case_type: str, limits: Limits, *, actor: Any) -> None:
    """The time limits of one case type on this account, for the cases opened from now
    on (a case keeps the basis it was opened with)."""
    permissions.require(actor, account, MANAGE)
    if case_type not in CaseType.values:
        raise ValidationError({"case_type": [_("未知的诉求类型：%(type)s") % {"type": case_type}]})
    limits = clean_limits(
        limits.first_response,
        limits.first_response_unit,
        limits.resolution,
        limits.resolution_unit,
        limits.restart_on_transfer,
    )
    with transaction.atomic():
        before = limits_of(account)[case_type]
        TimeLimit.objects.update_or_create(
            account=account,
            case_type=case_type,
            defaults={
                "first_response": limits.first_response,
                "first_response_unit": limits.first_response_unit,
                "resolution": limits.resolution,
                "resolution_unit": limits.resolution_unit,
                "restart_on_transfer": limits.restart_on_transfer,
            },
        )
        record(
            "desk.time_limit_set",
            account=account,
            actor=actor,
            case_type=case_type,
            before=_limits_data(before),
            after=_limits_data(limits),
        )


def _limits_data(limits: Limits) -> dict[str, Any]:
    return {
        "first_response": [limits.first_response, limits.first_response_unit],
        "resolution": [limits.resolution, limits.resolution_unit],
        "restart_on_transfer": limits.restart_on_transfer,
    }


@dataclass(frozen=True)
class Preview:
    received: datetime
    first: Due
    resolve: Due

    @property
    def provisional_year(self) -> int | None:
        years = [y for y in (self.first.provisional_year, self.resolve.provisional_year) if y]
        return min(years) if years else None


def preview(limits: Limits, at: datetime | None = None) -> Preview:
    """The deadlines of a case received `at` (default: today 16:00, local), on the
    working-day calendar the desk uses (a year not confirmed: provisional, named)."""
    if at is None:
        at = datetime.combine(timezone.localdate(), time(16, 0), timezone.get_current_timezone())
    first, resolve, _ = deadlines(calendar(), at, limits)
    return Preview(at, first, resolve)


# ------------------------------------------------------------------ canned replies

# The variables a canned reply may hold, filled in for the case it is used on.
VARIABLES = {
    "昵称": "the follower's name",
    "诉求编号": "the case number",
    "部门": "the department holding the case",
}
_BRACED = re.compile(r"\{([^{}]*)\}")


def check_variables(text: str) -> None:
    unknown = [name for name in _BRACED.findall(text) if name not in VARIABLES]
    known = "、".join("{" + v + "}" for v in VARIABLES)
    if unknown:
        names = "、".join("{" + n + "}" for n in dict.fromkeys(unknown))
        raise ValidationError(
            {
                "text": [
                    _("未知的变量 %(names)s：可用的变量只有 %(known)s")
                    % {"names": names, "known": known}
                ]
            }
        )
    if "{" in _BRACED.sub("", text) or "}" in _BRACED.sub("", text):
        raise ValidationError(
            {"text": [_("花括号只用于变量（%(known)s），请检查是否成对") % {"known": known}]}
        )


@dataclass(frozen=True)
class CannedInput:
    title: str
    text: str
    case_type: str = ""


def _clean_canned(data: CannedInput) -> CannedInput:
    errors: dict[str, list[str]] = {}
    title, text = data.title.strip(), data.text.strip()
    if not title:
        errors["title"] = [_("标题不能为空")]
    elif len(title) > 40:
        errors["title"] = [_("标题最多 40 个字")]
    if not text:
        errors["text"] = [_("内容不能为空")]
    else:
        try:
            check_variables(text)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if data.case_type and data.case_type not in CaseType.values:
        errors["case_type"] = [_("未知的诉求类型：%(type)s") % {"type": data.case_type}]
    if errors:
        raise ValidationError(errors)
    return CannedInput(title, text, data.case_type)


def canned_texts(data: CannedInput) -> list[tuple[str, str]]:
    """What the checker reads of a canned reply: its text, as typed (with its variables);
    the title is for staff only."""
    return [(_("内容"), data.text)] if data.text else []


def add_canned_reply(
    account: Account,
    data: CannedInput,
    *,
    actor: Any,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> CannedReply:
    """A canned reply; refused (textcheck.TextRefused) while the checker finds a veto
    or an error not dismissed (`dismissing`: 「忽略并保存」) in its text. Its warnings
    are added to `warnings` (for the page to show, unchecked again)."""
    permissions.require(actor, account, MANAGE)
    data = _clean_canned(data)
    with transaction.atomic():
        textcheck.require_clean(
            account,
            canned_texts(data),
            CANNED,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        reply = CannedReply.objects.create(
            account=account, title=data.title, text=data.text, case_type=data.case_type
        )
        record("desk.canned_reply_added", account=account, actor=actor, **_canned_data(reply))
    return reply


def update_canned_reply(
    reply: CannedReply,
    data: CannedInput,
    *,
    actor: Any,
    dismissing: textcheck.Dismiss | None = None,
    warnings: list[textcheck.Found] | None = None,
) -> CannedReply:
    """Rewrite a canned reply; its text checked as in `add_canned_reply`."""
    permissions.require(actor, reply.account, MANAGE)
    data = _clean_canned(data)
    with transaction.atomic():
        textcheck.require_clean(
            reply.account,
            canned_texts(data),
            CANNED,
            dismissing=dismissing,
            actor=actor,
            warnings=warnings,
        )
        before = _canned_data(reply)
        reply.title, reply.text, reply.case_type = data.title, data.text, data.case_type
        reply.save(update_fields=["title", "text", "case_type"])
        record(
            "desk.canned_reply_changed",
            account=reply.account,
            actor=actor,
            before=before,
            after=_canned_data(reply),
        )
    return reply


def delete_canned_reply(reply: CannedReply, *, actor: Any) -> None:
    permissions.require(actor, reply.account, MANAGE)
    with transaction.atomic():
        record(
            "desk.canned_reply_deleted", account=reply.account, actor=actor, **_canned_data(reply)
        )
        reply.delete()


def _canned_data(reply: CannedReply) -> dict[str, Any]:
    return {"reply": reply.pk, "title": reply.title, "case_type": reply.case_type}


def case_values(case: Case) -> dict[str, str]:
    """The variables' values for a case: {昵称} the follower's name (「市民朋友」 when none
    is known), {诉求编号} the case number, {部门} the department holding it (or the one
    suggested; 「相关部门」 before any)."""
    from govwx.wechat.models import Follower

    nickname = (
        Follower.objects.filter(account_id=case.account_id, openid=case.openid)
        .values_list("nickname", flat=True)
        .first()
    )
    dept = case.department or case.suggested_department
    # sent to the citizen: Chinese whatever the staff member's language
    return {
        "昵称": nickname or "市民朋友",
        "诉求编号": str(case.pk),
        "部门": dept.name if dept is not None else "相关部门",
    }


def fill_variables(text: str, values: dict[str, str]) -> str:
    return _BRACED.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def canned_for_case(case: Case) -> list[dict[str, str]]:
    """The account's canned replies for this case's type (and those for every type),
    their variables filled in for it."""
    rows = CannedReply.objects.filter(account_id=case.account_id).filter(
        Q(case_type="") | Q(case_type=case.case_type)
    )
    values = case_values(case)
    return [{"title": r.title, "text": fill_variables(r.text, values)} for r in rows]
