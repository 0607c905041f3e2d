"""Workload (工作量): per person and per shift, for a period of local dates. Reads only.

Every figure comes from what the desk and the rota record, counted in the database: a
few grouped queries per page, whatever the number of cases (no loop over cases here).

Definitions (all times are compared in UTC; a period is whole local days in
Asia/Shanghai, [first 00:00, the day after last 00:00)):

Per person — members of the account whose role may handle cases (the office and the
department liaisons), and anyone else who did something counted here in the period:

- **cases handled**: the distinct cases of the account on which the person did at least
  one thing in the period. A thing done is an event in the case's history with the person
  as its actor: every such event is a staff action (转办 transfer, 接收 accept, 退回
  return, 答复 reply, 请群众补充 question, 备注 note, 办结 resolve, 关闭 close, 延期
  extension, 申请改派, 协办, 督办, 催办). Events without an actor (the citizen's
  messages, the sweep's marks, ratings) count for nobody;
- **replies**: the customer-service messages the person sent in the period (答复 and
  请群众补充 alike), from `CaseMessage` (direction out, author);
- **first responses**: the replies in the period that were their case's first response
  (the reply whose time is the case's `first_responded_at`); the first-response time is
  `first_responded_at − opened_at`, with its median and mean over those cases;
- **breached / first-response breached**: of the cases the person handled in the period,
  those the sweep marked as past their resolution time limit (`breached_at`) or past their
  first-response time limit (`response_breached_at`), whenever that happened. An
  extension lifts a resolution breach, and then it is not counted;
- **alerts acknowledged**: the account's alerts the person acknowledged in the period;
- **shifts**: the person's shifts that overlap the period.

Per shift — every shift of the account's rotas that overlaps the period, with figures
over the whole shift [starts_at, ends_at), even where it runs past the period's edge:

- **cases opened** in the shift; **first responses** made in it, by anyone, and by the
  person on duty; the **median first-response time** of the cases opened in the shift
  that have been answered; **breaches** the sweep marked in the shift (resolution, first
  response); **alerts** of the account raised in it, and acknowledged (by anyone) in it.
"""

from __future__ import annotations

import calendar as monthcal
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import PERMISSIONS
from govwx.team.models import Alert, Shift

from .models import Case, CaseEvent, CaseMessage

MAX_DAYS = 366
# the roles listed even with nothing done: those that may handle cases
HANDLER_ROLES = PERMISSIONS["cases.handle"][1]


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# ------------------------------------------------------------------ the period


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), _tz())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), _tz())


def default_period(today: date | None = None) -> Period:
    """The current month, in local dates."""
    today = today or timezone.localdate(timezone=_tz())
    days = monthcal.monthrange(today.year, today.month)[1]
    return Period(today.replace(day=1), today.replace(day=days))


def parse_period(raw_first: str | None, raw_last: str | None) -> tuple[Period, list[str]]:
    """The period a form asks for, or the default period with the reasons it was refused.
    An empty field takes the default's value."""
    default = default_period()
    errors: list[str] = []
    values: list[date] = []
    for raw, fallback in ((raw_first, default.first), (raw_last, default.last)):
        raw = (raw or "").strip()
        if not raw:
            values.append(fallback)
            continue
        try:
            values.append(date.fromisoformat(raw))
        except ValueError:
            errors.append(
                f"日期格式不正确：{raw[:20]}（应为 2026-11-01 这样的格式） / "
                f"not a date: {raw[:20]!r} (use YYYY-MM-DD)"
            )
    if errors:
        return default, errors
    first, last = values
    if last < first:
        return default, ["结束日期早于开始日期 / the end date is before the start date"]
    if (last - first).days + 1 > MAX_DAYS:
        return default, [f"统计期最长 {MAX_DAYS} 天 / a period is at most {MAX_DAYS} days"]
    return Period(first, last), []


# ------------------------------------------------------------------ rows


@dataclass
class PersonRow:
    user_id: int
    name: str
    role: str
    handled: int = 0
    replies: int = 0
    first_responses: int = 0
    median_first_response: timedelta | None = None
    mean_first_response: timedelta | None = None
    breached: int = 0
    response_breached: int = 0
    alerts_acknowledged: int = 0
    shifts: int = 0


@dataclass
class ShiftRow:
    shift_id: int
    rota: str
    pattern: str
    layer: str
    person_id: int | None
    person: str
    starts_at: datetime
    ends_at: datetime
    opened: int = 0
    first_responses: int = 0
    first_responses_by_person: int = 0
    median_first_response: timedelta | None = None
    breached: int = 0
    response_breached: int = 0
    alerts_raised: int = 0
    alerts_acknowledged: int = 0


@dataclass
class Workload:
    account: Account
    period: Period
    people: list[PersonRow] = field(default_factory=list)
    shifts: list[ShiftRow] = field(default_factory=list)


def display_name(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


# ------------------------------------------------------------------ queries


def _between(name: str, start: Any, end: Any) -> Q:
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


def _duration(prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(
        F(f"{prefix}first_responded_at") - F(f"{prefix}opened_at"), output_field=DurationField()
    )


def _medians(qs: QuerySet[Any], group: str, duration: Any) -> dict[Any, timedelta]:
    """The median of `duration` per `group`, in one query: the rows are numbered within
    each group, and only the middle one or two of each come back (then averaged here)."""
    rows = (
        qs.annotate(
            _d=duration,
            _rn=Window(RowNumber(), partition_by=[F(group)], order_by=[F("_d").asc(), F("pk")]),
            _n=Window(Count("pk"), partition_by=[F(group)]),
        )
        .filter(_rn__gte=(F("_n") + 1) / 2, _rn__lte=(F("_n") + 2) / 2)
        .order_by()
        .values_list(group, "_d")
    )
    middle: dict[Any, list[timedelta]] = defaultdict(list)
    for key, value in rows:
        middle[key].append(value)
    return {k: sum(v, timedelta()) / len(v) for k, v in middle.items()}


def _first_responses(account: Account) -> QuerySet[CaseMessage]:
    """The replies that were their case's first response."""
    return CaseMessage.objects.filter(
        case__account=account,
        direction=CaseMessage.Direction.OUT,
        created_at=F("case__first_responded_at"),
    )


def people(
    account: Account, period: Period, shifts: dict[int, int] | None = None
) -> list[PersonRow]:
    """The per-person table; `shifts` gives each person's number of shifts (people with
    shifts are listed even if they did nothing else)."""
    start, end = period.start, period.end
    acted = (
        CaseEvent.objects.filter(
            case__account=account, actor__isnull=False, created_at__gte=start, created_at__lt=end
        )
        .values("actor")
        .annotate(
            handled=Count("case", distinct=True),
            breached=Count("case", filter=Q(case__breached_at__isnull=False), distinct=True),
            response_breached=Count(
                "case", filter=Q(case__response_breached_at__isnull=False), distinct=True
            ),
        )
        .order_by()
    )
    first = Q(created_at=F("case__first_responded_at"))
    sent = (
        CaseMessage.objects.filter(
            case__account=account,
            direction=CaseMessage.Direction.OUT,
            author__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("author")
        .annotate(
            replies=Count("pk"),
            first_responses=Count("pk", filter=first),
            mean=Avg(_duration("case__"), filter=first),
        )
        .order_by()
    )
    medians = _medians(
        _first_responses(account).filter(
            author__isnull=False, created_at__gte=start, created_at__lt=end
        ),
        "author",
        _duration("case__"),
    )
    acks = (
        Alert.objects.filter(
            account=account,
            acknowledged_by__isnull=False,
            acknowledged_at__gte=start,
            acknowledged_at__lt=end,
        )
        .values("acknowledged_by")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows: dict[int, PersonRow] = {}
    roles = dict(Membership.Role.choices)
    for member in Membership.objects.filter(account=account).select_related("user"):
        if member.role in HANDLER_ROLES:
            rows[member.user_id] = PersonRow(
                member.user_id, display_name(member.user), str(roles[member.role])
            )

    def row(user_id: int) -> PersonRow:
        if user_id not in rows:
            rows[user_id] = PersonRow(user_id, "", "")
        return rows[user_id]

    for a in acted:
        p = row(a["actor"])
        p.handled, p.breached = a["handled"], a["breached"]
        p.response_breached = a["response_breached"]
    for m in sent:
        p = row(m["author"])
        p.replies, p.first_responses = m["replies"], m["first_responses"]
        p.mean_first_response = m["mean"]
    for user_id, median in medians.items():
        row(user_id).median_first_response = median
    for k in acks:
        row(k["acknowledged_by"]).alerts_acknowledged = k["n"]
    for user_id, n in (shifts or {}).items():
        row(user_id).shifts = n
    return _named(account, rows)


def _named(account: Account, rows: dict[int, PersonRow]) -> list[PersonRow]:
    unnamed = [pk for pk, r in rows.items() if not r.name]
    if unnamed:
        # people who acted here without a role that handles cases now (an editor, a
        # superuser, someone who has left the account)
        roles = dict(
            Membership.objects.filter(account=account, user_id__in=unnamed).values_list(
                "user_id", "role"
            )
        )
        labels = dict(Membership.Role.choices)
        for user in get_user_model().objects.filter(pk__in=unnamed):
            r = rows[user.pk]
            r.name = display_name(user)
            r.role = str(labels[roles[user.pk]]) if user.pk in roles else "—"
    return sorted(rows.values(), key=lambda r: (-r.handled, -r.replies, r.name))


def shifts(account: Account, period: Period) -> list[ShiftRow]:
    start, end = period.start, period.end
    found = list(
        Shift.objects.filter(rota__accounts=account, starts_at__lt=end, ends_at__gt=start)
        .select_related("person", "pattern", "rota")
        .order_by("starts_at", "-layer", "pk")
    )
    if not found:
        return []
    rows = {
        s.pk: ShiftRow(
            shift_id=s.pk,
            rota=s.rota.name,
            pattern=s.pattern.name if s.pattern else "",
            layer=s.get_layer_display(),
            person_id=s.person_id,
            person=display_name(s.person) if s.person else _("（空缺）"),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
        )
        for s in found
    }
    # Cases, messages and alerts are joined to the shifts through their account's rotas
    # (account → rotas → shifts): a range join, grouped by shift. The constant bounds
    # [lo, hi) let the database pick the candidate rows once before joining.
    lo = min(s.starts_at for s in found)
    hi = max(s.ends_at for s in found)

    def in_shift(path: str, name: str) -> Q:
        return Q(
            **{
                f"{name}__gte": F(f"{path}__starts_at"),
                f"{name}__lt": F(f"{path}__ends_at"),
            }
        )

    def overlapping(path: str) -> Q:
        return Q(**{f"{path}__starts_at__lt": end, f"{path}__ends_at__gt": start})

    sp = "account__rotas__shifts"
    fields = ("opened_at", "first_responded_at", "breached_at", "response_breached_at")
    cases = (
        Case.objects.filter(account=account)
        .filter(
            overlapping(sp)
            & _any(in_shift(sp, f) for f in fields)
            & _any(_between(f, lo, hi) for f in fields)
        )
        .values(sp)
        .annotate(
            opened=Count("pk", filter=in_shift(sp, "opened_at")),
            responded=Count("pk", filter=in_shift(sp, "first_responded_at")),
            breached=Count("pk", filter=in_shift(sp, "breached_at")),
            response_breached=Count("pk", filter=in_shift(sp, "response_breached_at")),
        )
        .order_by()
    )
    for r in cases:
        row = rows.get(r[sp])
        if row is not None:
            row.opened, row.first_responses = r["opened"], r["responded"]
            row.breached, row.response_breached = r["breached"], r["response_breached"]

    mp = "case__account__rotas__shifts"
    by_person = (
        _first_responses(account)
        .filter(
            overlapping(mp)
            & in_shift(mp, "created_at")
            & _between("created_at", lo, hi)
            & Q(author=F(f"{mp}__person"))
        )
        .values(mp)
        .annotate(n=Count("pk"))
        .order_by()
    )
    for r in by_person:
        if r[mp] in rows:
            rows[r[mp]].first_responses_by_person = r["n"]

    answered = Case.objects.filter(account=account).filter(
        overlapping(sp)
        & in_shift(sp, "opened_at")
        & _between("opened_at", lo, hi)
        & Q(first_responded_at__isnull=False)
    )
    for shift_id, median in _medians(answered, sp, _duration()).items():
        if shift_id in rows:
            rows[shift_id].median_first_response = median

    ap = "account__rotas__shifts"
    alerts = (
        Alert.objects.filter(account=account)
        .filter(
            overlapping(ap)
            & (in_shift(ap, "created_at") | in_shift(ap, "acknowledged_at"))
            & (_between("created_at", lo, hi) | _between("acknowledged_at", lo, hi))
        )
        .values(ap)
        .annotate(
            raised=Count("pk", filter=in_shift(ap, "created_at")),
            acknowledged=Count("pk", filter=in_shift(ap, "acknowledged_at")),
        )
        .order_by()
    )
    for r in alerts:
        if r[ap] in rows:
            rows[r[ap]].alerts_raised, rows[r[ap]].alerts_acknowledged = (
                r["raised"],
                r["acknowledged"],
            )
    return list(rows.values())


def _any(qs: Iterable[Q]) -> Q:
    combined = Q()
    for q in qs:
        combined |= q
    return combined


def workload(account: Account, period: Period) -> Workload:
    """Both tables for an account and a period."""
    shift_rows = shifts(account, period)
    on_duty: dict[int, int] = defaultdict(int)
    for s in shift_rows:
        if s.person_id is not None:
            on_duty[s.person_id] += 1
    return Workload(account, period, people(account, period, on_duty), shift_rows)
