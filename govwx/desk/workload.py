"""Workload (工作量): per person and per shift, for a period of local dates. Reads only.

Every figure comes from what the desk and the rota record, counted in the database: a
few grouped queries per page, whatever the number of cases (no loop over cases here).

Definitions (all times are compared in UTC; a period is whole local days in
Asia/Shanghai, [first 00:00, the day after last 00:00)):

Per person — members of the account whose role may handle cases (the office and the
department liaisons), and anyone else who did something counted here or was on duty for
the account in the period (someone who has left, an editor, a superuser):

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
- **shifts**: the person's shifts that overlap the period and have begun.

Per shift — every shift of the account's rotas that overlaps the period and has begun (a
shift still to come has done nothing yet, so a month's page stops at today), with figures
over the whole shift [starts_at, ends_at), even where it runs past the period's edge:

- **cases opened** in the shift; **first responses** made in it, by anyone, and by the
  person on duty; the **median first-response time** of the cases opened in the shift
  that have been answered; **breaches** the sweep marked in the shift (resolution, first
  response); **alerts** of the account raised in it, and acknowledged (by anyone) in it.
"""

from __future__ import annotations

import calendar as monthcal
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber, Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import PERMISSIONS
from govwx.lib import periods
from govwx.lib.periods import Period
from govwx.team.models import Alert, Shift

from .models import Case, CaseEvent, CaseMessage

MAX_DAYS = 366
# the roles listed even with nothing done: those that may handle cases
HANDLER_ROLES = PERMISSIONS["cases.handle"][1]


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# ------------------------------------------------------------------ the period


def default_period(today: date | None = None) -> Period:
    """The current month, in local dates."""
    today = today or timezone.localdate(timezone=_tz())
    days = monthcal.monthrange(today.year, today.month)[1]
    return Period(today.replace(day=1), today.replace(day=days))


def parse_period(raw_first: str | None, raw_last: str | None) -> tuple[Period, list[str]]:
    """The period a form asks for, or the default with the reasons it was refused."""
    return periods.parse_period(raw_first, raw_last, default_period(), MAX_DAYS)


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


class _Buckets:
    """Counts per time bucket, summed over [start, end) for any start and end on a
    bucket's edge: the database groups the rows by bucket, and each shift adds up its
    buckets here (a binary search over a running total, never a loop over rows)."""

    def __init__(self, counts: Iterable[tuple[datetime | None, int]]) -> None:
        merged: dict[datetime, int] = defaultdict(int)
        for when, n in counts:
            if when is not None:
                merged[when] += n
        self.times = sorted(merged)
        self.running = [0, *accumulate(merged[t] for t in self.times)]

    def total(self, start: datetime, end: datetime) -> int:
        return (
            self.running[bisect_left(self.times, end)]
            - self.running[bisect_left(self.times, start)]
        )


def _grain(found: list[Shift]) -> str:
    """The widest bucket that shift edges never cut: an hour where every shift starts and
    ends on the hour (as rotas do), else a minute, else a second."""
    edges = {int(t.timestamp()) for s in found for t in (s.starts_at, s.ends_at)}
    for kind, seconds in (("hour", 3600), ("minute", 60)):
        if all(e % seconds == 0 for e in edges):
            return kind
    return "second"


def shifts(account: Account, period: Period) -> list[ShiftRow]:
    start, end = period.start, min(period.end, timezone.now())
    found = list(
        Shift.objects.filter(rota__accounts=account, starts_at__lt=end, ends_at__gt=start)
        .select_related("person", "pattern", "rota")
        .order_by("starts_at", "-layer", "pk")
    )
    if not found:
        return []
    # The rows that fall in any of the shifts, [lo, hi), are grouped by time bucket in the
    # database; each shift then adds up its buckets. No row is joined to a shift, which
    # would cost (rows × shifts) comparisons.
    lo = min(s.starts_at for s in found)
    hi = max(s.ends_at for s in found)
    kind = _grain(found)

    def bucket(name: str) -> Trunc:
        return Trunc(name, kind, output_field=DateTimeField(), tzinfo=UTC)

    opened = _Buckets(
        Case.objects.filter(account=account, opened_at__gte=lo, opened_at__lt=hi)
        .annotate(b=bucket("opened_at"))
        .values("b")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("b", "n")
    )
    responded: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for author, when, n in (
        _first_responses(account)
        .filter(author__isnull=False, created_at__gte=lo, created_at__lt=hi)
        .annotate(b=bucket("created_at"))
        .values("author", "b")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("author", "b", "n")
    ):
        responded[author].append((when, n))
    by_anyone = _Buckets(pair for pairs in responded.values() for pair in pairs)
    by_person = {author: _Buckets(pairs) for author, pairs in responded.items()}
    breaches = list(
        Case.objects.filter(account=account)
        .filter(_between("breached_at", lo, hi) | _between("response_breached_at", lo, hi))
        .annotate(b=bucket("breached_at"), r=bucket("response_breached_at"))
        .values("b", "r")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("b", "r", "n")
    )
    breached = _Buckets((b, n) for b, _r, n in breaches)
    response_breached = _Buckets((r, n) for _b, r, n in breaches)
    alerts = list(
        Alert.objects.filter(account=account)
        .filter(_between("created_at", lo, hi) | _between("acknowledged_at", lo, hi))
        .annotate(c=bucket("created_at"), a=bucket("acknowledged_at"))
        .values("c", "a")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("c", "a", "n")
    )
    raised = _Buckets((c, n) for c, _a, n in alerts)
    acknowledged = _Buckets((a, n) for _c, a, n in alerts)

    # The median needs each case's own time: the cases opened in a shift, joined to the
    # shifts through their account's rotas (account → rotas → shifts) on the opening
    # time, which the (account, opened_at) index finds per shift.
    sp = "account__rotas__shifts"
    answered = Case.objects.filter(
        Q(account=account, opened_at__gte=lo, opened_at__lt=hi, first_responded_at__isnull=False)
        & Q(**{f"{sp}__starts_at__lt": end, f"{sp}__ends_at__gt": start})
        & Q(opened_at__gte=F(f"{sp}__starts_at"), opened_at__lt=F(f"{sp}__ends_at"))
    )
    medians = _medians(answered, sp, _duration())

    rows = []
    for s in found:
        a, b = s.starts_at, s.ends_at
        mine = by_person.get(s.person_id) if s.person_id is not None else None
        rows.append(
            ShiftRow(
                shift_id=s.pk,
                rota=s.rota.name,
                pattern=s.pattern.name if s.pattern else "",
                layer=s.get_layer_display(),
                person_id=s.person_id,
                person=display_name(s.person) if s.person else _("（空缺）"),
                starts_at=a,
                ends_at=b,
                opened=opened.total(a, b),
                first_responses=by_anyone.total(a, b),
                first_responses_by_person=mine.total(a, b) if mine else 0,
                median_first_response=medians.get(s.pk),
                breached=breached.total(a, b),
                response_breached=response_breached.total(a, b),
                alerts_raised=raised.total(a, b),
                alerts_acknowledged=acknowledged.total(a, b),
            )
        )
    return rows


def workload(account: Account, period: Period) -> Workload:
    """Both tables for an account and a period."""
    shift_rows = shifts(account, period)
    on_duty: dict[int, int] = defaultdict(int)
    for s in shift_rows:
        if s.person_id is not None:
            on_duty[s.person_id] += 1
    return Workload(account, period, people(account, period, on_duty), shift_rows)
