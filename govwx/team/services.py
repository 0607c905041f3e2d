"""Writes on the duty rota, and the questions asked of it: who is on duty, where are the
gaps. Shifts live in the database; a day's kind (working day or day off) comes from the
one working-day calendar, so holiday duty follows the State Council's arrangement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from govwx.accounts.models import Membership
from govwx.accounts.services import record
from govwx.workcalendar.services import calendar

from .models import Alert, Layer, Rota, Shift, ShiftPattern


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _overlapping(
    person: Any, starts_at: datetime, ends_at: datetime, exclude: int | None = None
) -> Shift | None:
    qs = Shift.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.first()


def _refuse_overlap(
    person: Any, starts_at: datetime, ends_at: datetime, exclude: int | None = None
) -> None:
    clash = _overlapping(person, starts_at, ends_at, exclude)
    if clash is not None:
        local = clash.starts_at.astimezone(_tz())
        raise ValidationError(
            f"{person} 在 {local:%Y-%m-%d %H:%M} 已有值班，班次不能重叠 / "
            f"{person} is already on duty then: shifts of one person cannot overlap"
        )


def generate(
    rota: Rota, first: date, days: int, people: dict[str, Sequence[Any]], *, actor: Any = None
) -> list[Shift]:
    """Shifts for `days` days from `first`: each pattern runs on the days its kind names
    (a day off is a weekend or statutory holiday, a make-up working day is a working
    day), and the people of its layer take turns. All or nothing: an overlap for anyone
    refuses the whole plan."""
    cal = calendar()
    tz = _tz()
    patterns = list(rota.patterns.all())
    turn = {layer: 0 for layer in Layer.values}
    planned: list[Shift] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        working = cal.is_working_day(day)
        for p in patterns:
            if (p.days == ShiftPattern.Days.WORKING and not working) or (
                p.days == ShiftPattern.Days.OFF and working
            ):
                continue
            crew = people.get(p.layer) or []
            if not crew:
                raise ValidationError(f"{p.get_layer_display()} 没有人员 / nobody for {p.layer}")
            person = crew[turn[p.layer] % len(crew)]
            turn[p.layer] += 1
            starts = datetime.combine(day, p.start, tz)
            planned.append(
                Shift(
                    rota=rota,
                    pattern=p,
                    layer=p.layer,
                    person=person,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=p.hours),
                )
            )
    with transaction.atomic():
        for i, s in enumerate(planned):
            if any(
                o.person == s.person and o.starts_at < s.ends_at and s.starts_at < o.ends_at
                for o in planned[:i]
            ):
                raise ValidationError(
                    f"{s.person} 的班次相互重叠（{s.starts_at.astimezone(tz):%Y-%m-%d %H:%M}）/ "
                    "the plan gives one person overlapping shifts"
                )
            _refuse_overlap(s.person, s.starts_at, s.ends_at)
        Shift.objects.bulk_create(planned)
        record(
            "rota.generated",
            actor=actor,
            rota=rota.pk,
            first=first.isoformat(),
            days=days,
            shifts=len(planned),
        )
    return planned


def override(shift: Shift, person: Any, *, actor: Any = None, note: str = "") -> Shift:
    """临时替班: someone else takes a shift; refused if it overlaps their own duty."""
    _refuse_overlap(person, shift.starts_at, shift.ends_at, exclude=shift.pk)
    with transaction.atomic():
        before = shift.person_id
        Shift.objects.filter(pk=shift.pk).update(
            person=person, source=Shift.Source.OVERRIDE, note=note.strip()[:200]
        )
        record("rota.override", actor=actor, shift=shift.pk, before=before, after=person.pk)
    shift.refresh_from_db()
    return shift


def on_duty(rota: Rota, at: datetime, layer: str = Layer.OPERATOR) -> list[Any]:
    """Who is on duty at `at` in that layer."""
    return [
        s.person
        for s in Shift.objects.filter(
            rota=rota, layer=layer, starts_at__lte=at, ends_at__gt=at, person__isnull=False
        ).select_related("person")
    ]


@dataclass(frozen=True)
class Gap:
    starts_at: datetime
    ends_at: datetime


def gaps(rota: Rota, start: datetime, end: datetime, layer: str = Layer.OPERATOR) -> list[Gap]:
    """The stretches of [start, end) with nobody on duty in that layer (a shift whose
    person left counts as nobody)."""
    covered = sorted(
        Shift.objects.filter(
            rota=rota, layer=layer, person__isnull=False, starts_at__lt=end, ends_at__gt=start
        ).values_list("starts_at", "ends_at")
    )
    found: list[Gap] = []
    cursor = start
    for s, e in covered:
        if s > cursor:
            found.append(Gap(cursor, min(s, end)))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        found.append(Gap(cursor, end))
    return found


# ------------------------------------------------------------------ alerts

# Minutes an alert may stay unacknowledged before it goes one level up the chain.
ESCALATE_AFTER = {1: 15, 2: 30}


def _recipients(account: Any, level: int, at: datetime) -> list[Any]:
    """Who an alert of that level goes to now: the operators on duty (level 1), the
    leader on duty (2), the account's supervisors (3). A level with nobody falls through
    to the next, and past the last to the account's operators."""
    for lvl in range(level, 4):
        if lvl == 3:
            people = [
                m.user
                for m in Membership.objects.filter(
                    account=account, role__in=(Membership.Role.SUPERVISOR, Membership.Role.ADMIN)
                ).select_related("user")
            ]
        else:
            layer = Layer.OPERATOR if lvl == 1 else Layer.LEADER
            people = [p for rota in account.rotas.all() for p in on_duty(rota, at, layer)]
        if people:
            return people
    # no rota and no supervisor: the account's operators, so that someone sees it
    return [
        m.user
        for m in Membership.objects.filter(
            account=account, role=Membership.Role.OPERATOR
        ).select_related("user")
    ]


def raise_alert(
    account: Any, kind: str, subject: str, text: str, *, link: str = "", at: datetime | None = None
) -> Alert | None:
    """Tell whoever is on duty. Once per (account, kind, subject): raising it again does
    nothing, so the sweeps that call this may run any number of times."""
    at = at or timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                account=account,
                kind=kind,
                subject=subject,
                text=text[:200],
                link=link,
                created_at=at,
            )
            alert.recipients.set(_recipients(account, Alert.Level.OPERATOR, at))
    except IntegrityError:
        return None
    return alert


def acknowledge(alert: Alert, user: Any) -> Alert:
    """A recipient has seen it: the chain stops."""
    if not alert.recipients.filter(pk=user.pk).exists():
        raise ValidationError("这条提醒不是发给您的 / this alert is not addressed to you")
    Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    alert.refresh_from_db()
    return alert


def escalate(now: datetime | None = None) -> int:
    """Move unacknowledged alerts one level up after ESCALATE_AFTER minutes; idempotent."""
    now = now or timezone.now()
    moved = 0
    for level, minutes in ESCALATE_AFTER.items():
        due = now - timedelta(minutes=minutes)
        for alert in (
            Alert.objects.filter(acknowledged_at__isnull=True, level=level)
            .filter(
                models.Q(escalated_at__lte=due)
                | models.Q(escalated_at__isnull=True, created_at__lte=due)
            )
            .select_related("account")
        ):
            with transaction.atomic():
                if Alert.objects.filter(
                    pk=alert.pk, level=level, acknowledged_at__isnull=True
                ).update(level=level + 1, escalated_at=now):
                    alert.recipients.add(*_recipients(alert.account, level + 1, now))
                    moved += 1
    return moved


def alerts_for(user: Any) -> Any:
    """The unacknowledged alerts addressed to a person (the console's bell)."""
    return Alert.objects.filter(recipients=user, acknowledged_at__isnull=True)


def rota_ics(rota: Rota, start: datetime, end: datetime) -> bytes:
    """The rota's shifts in [start, end) as an iCalendar file, for calendars and phones."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//govwx//duty rota//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", rota.name)
    for shift in Shift.objects.filter(
        rota=rota, starts_at__lt=end, ends_at__gt=start
    ).select_related("person", "pattern"):
        event = Event()
        who = (
            shift.person.get_full_name() or shift.person.get_username()
            if shift.person
            else "（空缺）"
        )
        what = shift.pattern.name if shift.pattern else shift.get_layer_display()
        event.add("uid", f"shift-{shift.pk}@govwx")
        event.add("summary", f"{what} · {shift.get_layer_display()} · {who}")
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        event.add("dtstamp", shift.starts_at)
        cal.add_component(event)
    return cal.to_ical()


GAP_HORIZON = timedelta(days=30)


def check_gaps(now: datetime | None = None) -> int:
    """Alert the people on duty about every stretch of the next 30 days with no operator
    on duty, on each rota that has shifts planned; once per gap (idempotent)."""
    now = now or timezone.now()
    raised = 0
    for rota in (
        Rota.objects.filter(shifts__ends_at__gt=now).distinct().prefetch_related("accounts")
    ):
        for gap in gaps(rota, now, now + GAP_HORIZON):
            local = gap.starts_at.astimezone(_tz())
            hours = (gap.ends_at - gap.starts_at).total_seconds() / 3600
            for account in rota.accounts.all():
                if raise_alert(
                    account,
                    Alert.Kind.GAP,
                    f"gap:{rota.pk}:{gap.starts_at.isoformat()}",
                    f"{rota.name}：{local:%m-%d %H:%M} 起 {hours:.0f} 小时无人值班",
                    at=now,
                ):
                    raised += 1
    return raised
