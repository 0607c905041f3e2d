"""Reading cases for the console: masking, filters and display rows (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from govwx.accounts.models import Account, Membership
from govwx.lib.privacy import mask as mask

from .models import UNRESOLVED, Case, CaseMessage


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most COUNT_CAP rows: an exact count of a million cases costs more than
    the page itself, and "10000+" tells a person as much."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        head = self.object_list[: self.COUNT_CAP + 1]
        return min(head.count(), self.COUNT_CAP + 1)  # type: ignore[attr-defined]

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_CAP


def parse_since(value: str | None) -> datetime | None:
    """`since` of the inbox's topic filter: an ISO 8601 moment (a surge alert's link
    gives UTC, `2026-12-05T10:00Z`); without a zone, the console's (Asia/Shanghai)."""
    try:
        when = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_current_timezone())
    return when


def topic_of(params: Any) -> str:
    """The word of the inbox's topic filter (at most as long as a counted word)."""
    return str(params.get("topic") or "").strip()[:16]


def filtered(qs: QuerySet[Case], params: Any, user: Any, account: Account) -> QuerySet[Case]:
    now = timezone.now()
    if params.get("alert", "").isdigit():
        qs = qs.filter(announced_in_id=int(params["alert"]))
    topic = topic_of(params)
    if topic:
        # the citizens' messages of the account, through the stored message's
        # (account, received_at) index: a surge's hour is a short range of it
        said = CaseMessage.objects.filter(
            direction=CaseMessage.Direction.IN,
            inbound__account_id=account.pk,
            text__contains=topic,
        )
        since = parse_since(params.get("since"))
        if since is not None:
            said = said.filter(inbound__received_at__gte=since)
        qs = qs.filter(pk__in=said.values("case_id"))
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("type"):
        qs = qs.filter(case_type=params["type"])
    if params.get("department", "").isdigit():
        qs = qs.filter(department_id=int(params["department"]))
    if params.get("due") == "soon":
        qs = qs.filter(
            status__in=UNRESOLVED, resolve_due__gt=now, resolve_due__lte=now + timedelta(days=1)
        )
    if params.get("due") == "breached":
        qs = qs.filter(status__in=UNRESOLVED, resolve_due__lte=now)
    if params.get("mine"):
        m = Membership.objects.filter(user=user, account=account).first()
        if m is not None and m.department_id:
            qs = qs.filter(Q(department_id=m.department_id) | Q(assisting__id=m.department_id))
        else:
            qs = qs.filter(events__actor=user)
        qs = qs.distinct()
    return qs


def deadline_nature(provisional_year: int | None) -> str:
    """The export's 截止时间性质: provisional while the holiday arrangement of a year the
    deadlines assumed is not confirmed (the case's `provisional_year`)."""
    if provisional_year:
        return _("暂定（%(year)s 年节假日安排未确认）") % {"year": provisional_year}
    return _("确定")


@dataclass(frozen=True)
class Rates:
    """The desk's four rates (响应率 · 按时办结率 · 解决率 · 满意率) for a set of cases."""

    name: str
    cases: int
    responded: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied: int

    @staticmethod
    def _pct(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def response_rate(self) -> float | None:
        return self._pct(self.responded, self.cases)

    @property
    def on_time_rate(self) -> float | None:
        return self._pct(self.resolved_on_time, self.resolved)

    @property
    def resolution_rate(self) -> float | None:
        return self._pct(self.resolved, self.cases)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._pct(self.satisfied, self.rated)


def summary(qs: QuerySet[Case], start: datetime, end: datetime) -> tuple[Rates, list[Rates]]:
    """Rates of the cases opened in [start, end): overall, then per lead department."""
    done = Q(status__in=("resolved", "closed"))
    agg = {
        "cases": Count("id", distinct=True),
        "responded": Count("id", filter=Q(first_responded_at__isnull=False), distinct=True),
        "resolved": Count("id", filter=done, distinct=True),
        "resolved_on_time": Count(
            "id", filter=done & Q(resolved_at__lte=F("resolve_due")), distinct=True
        ),
        "rated": Count("rating", distinct=True),
        "satisfied": Count(
            "rating", filter=Q(rating__score__in=("satisfied", "basically")), distinct=True
        ),
    }
    period = qs.filter(opened_at__gte=start, opened_at__lt=end)
    total = Rates(name=str(_("全部")), **period.aggregate(**agg))
    rows = []
    for row in period.values("department__name").annotate(**agg).order_by("department__name"):
        values: dict[str, Any] = dict(row)
        name = values.pop("department__name") or str(_("未转办"))
        rows.append(Rates(name=name, **values))
    return total, rows


EVENT_LABELS = {
    "case.opened": _lazy("受理"),
    "case.citizen_wrote": _lazy("群众补充"),
    "case.assigned": _lazy("转办"),
    "case.named": _lazy("按群众的消息命名"),
    "case.retyped": _lazy("按群众的消息改定类型"),
    "case.routed": _lazy("分办规则建议部门"),
    "case.accepted": _lazy("部门接收"),
    "case.taken": _lazy("领取"),
    "case.returned": _lazy("退回"),
    "case.replied": _lazy("答复"),
    "case.noted": _lazy("内部备注"),
    "case.resolved": _lazy("办结"),
    "case.asked": _lazy("请群众补充"),
    "case.closed": _lazy("关闭"),
    "case.rated": _lazy("群众评价"),
    "case.reopened": _lazy("重新办理"),
    "case.reopen_skipped": _lazy("未重新办理（另有诉求办理中）"),
    "case.warning": _lazy("即将超时"),
    "case.response_breached": _lazy("首次响应超时"),
    "case.breached": _lazy("办结超时"),
    "case.extended": _lazy("延期"),
    "case.reassign_requested": _lazy("申请改派"),
    "case.assisting_added": _lazy("增加协办部门"),
    "case.supervised": _lazy("督办"),
    "case.urged": _lazy("催办"),
    "case.notified": _lazy("模板消息通知答复"),
    "case.project_linked": _lazy("关联专项工作组"),
    "case.project_unlinked": _lazy("取消关联专项工作组"),
}
