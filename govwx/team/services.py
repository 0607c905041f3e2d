"""Writes on the duty rota, and the questions asked of it: who is on duty, where are the
gaps. Shifts live in the database; a day's kind (working day or day off) comes from the
one working-day calendar, so holiday duty follows the State Council's arrangement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _lazy

from govwx.accounts.models import AuditEvent, Membership
from govwx.accounts.permissions import can
from govwx.accounts.services import record
from govwx.lib.workdays import WorkCalendar
from govwx.notify.services import enqueue
from govwx.workcalendar.models import SpecialDay
from govwx.workcalendar.services import calendar

from .models import Alert, HandoffNote, Layer, Rota, Shift, ShiftPattern, StaffProfile


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _overlapping(
    person: Any, starts_at: datetime, ends_at: datetime, *exclude: int | None
) -> Shift | None:
    qs = Shift.objects.filter(person=person, starts_at__lt=ends_at, ends_at__gt=starts_at)
    return qs.exclude(pk__in=[pk for pk in exclude if pk is not None]).first()


def _refuse_overlap(
    person: Any,
    starts_at: datetime,
    ends_at: datetime,
    exclude: int | None = None,
    also: int | None = None,
) -> None:
    clash = _overlapping(person, starts_at, ends_at, exclude, also)
    if clash is not None:
        local = clash.starts_at.astimezone(_tz())
        raise ValidationError(
            f"{person} 在 {local:%Y-%m-%d %H:%M} 已有值班，班次不能重叠 / "
            f"{person} is already on duty then: shifts of one person cannot overlap"
        )


def _applies(pattern: ShiftPattern, working: bool) -> bool:
    """Whether a pattern runs on a day of that kind."""
    if pattern.days == ShiftPattern.Days.ALL:
        return True
    return (pattern.days == ShiftPattern.Days.WORKING) == working


def generate(
    rota: Rota, first: date, days: int, people: Mapping[str, Sequence[Any]], *, actor: Any = None
) -> list[Shift]:
    """Shifts for `days` days from `first`: each pattern runs on the days its kind names
    (a day off is a weekend or statutory holiday, a make-up working day is a working
    day), and the people of its layer take turns. All or nothing: an overlap for anyone
    refuses the whole plan.

    A day of a year the calendar has not confirmed is planned on the provisional
    calendar (weekends off, no holidays) and its shifts carry `provisional_year`: when
    the year is confirmed, `recheck_provisional` settles them (receivers.py)."""
    cal = calendar().provisional()
    tz = _tz()
    patterns = list(rota.patterns.all())
    turn = {layer: 0 for layer in Layer.values}
    planned: list[Shift] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        working = cal.is_working_day(day)
        provisional = day.year if day.year not in cal.years else None
        for p in patterns:
            if not _applies(p, working):
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
                    provisional_year=provisional,
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
            provisional=sorted(cal.assumed),
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
        record("rota.override", actor=actor, rota=shift.rota_id, shift=shift.pk, before=before,
               after=person.pk)  # fmt: skip
    shift.refresh_from_db()
    return shift


# ------------------------------------------------------------ building a rota by hand

MAX_DAYS = 366


def staff_of(rota: Rota) -> Any:
    """The people who may be on this rota: active users with a role on one of its
    accounts."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__account__in=rota.accounts.all())
        .distinct()
        .order_by("username")
    )


def _manager_of(actor: Any, rota: Rota) -> bool:
    return any(can(actor, a, "rota.manage") for a in rota.accounts.all())


def _require_manager(actor: Any, rota: Rota) -> None:
    if actor is not None and not _manager_of(actor, rota):
        raise PermissionDenied("没有管理该值班表的权限 / not permitted to manage this rota")


def create_rota(name: str, accounts: Sequence[Any], *, actor: Any = None) -> Rota:
    """A rota for one account, or shared by several accounts of one office."""
    name = name.strip()
    if not name:
        raise ValidationError("值班表名称不能为空 / a rota needs a name")
    if not accounts:
        raise ValidationError("请至少选择一个公众号 / choose at least one account")
    if actor is not None and not all(can(actor, a, "rota.manage") for a in accounts):
        raise PermissionDenied("没有管理这些公众号值班的权限 / not permitted for these accounts")
    with transaction.atomic():
        rota = Rota.objects.create(name=name[:60])
        rota.accounts.set(accounts)
        record("rota.created", account=accounts[0], actor=actor, rota=rota.pk, name=rota.name)
    return rota


def add_pattern(
    rota: Rota,
    *,
    name: str,
    start: Any,
    hours: int,
    layer: str = Layer.OPERATOR,
    days: str = ShiftPattern.Days.ALL,
    actor: Any = None,
) -> ShiftPattern:
    """A repeating shift: local start time, length in hours (1–24), layer, kind of day."""
    _require_manager(actor, rota)
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["班次名称不能为空 / a shift needs a name"]
    if not isinstance(hours, int) or not 1 <= hours <= 24:
        errors["hours"] = ["时长应为 1–24 小时 / hours must be 1 to 24"]
    if layer not in Layer.values:
        errors["layer"] = [f"未知层级 / unknown layer: {layer}"]
    if days not in ShiftPattern.Days.values:
        errors["days"] = [f"未知适用日期 / unknown kind of day: {days}"]
    if start is None:
        errors["start"] = ["请填写开始时间 / a start time is needed"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pattern = ShiftPattern.objects.create(
            rota=rota, name=name.strip()[:30], start=start, hours=hours, layer=layer, days=days
        )
        record("rota.pattern_added", actor=actor, rota=rota.pk, pattern=pattern.pk)
    return pattern


def remove_pattern(pattern: ShiftPattern, *, actor: Any = None) -> None:
    """Stop a pattern; shifts already planned from it stay (they are people's duty)."""
    _require_manager(actor, pattern.rota)
    with transaction.atomic():
        record("rota.pattern_removed", actor=actor, rota=pattern.rota_id, name=pattern.name)
        pattern.delete()


def uncovered_hours(rota: Rota) -> list[str]:
    """Where the patterns leave hours of the day uncovered, per layer and kind of day:
    what `generate` would turn into gaps, said before it does."""
    problems = []
    patterns = list(rota.patterns.all())
    for layer in Layer:
        mine = [p for p in patterns if p.layer == layer]
        for kind, label in (("working", "工作日"), ("off", "休息日")):
            hours: set[int] = set()
            for p in mine:
                if p.days in (kind, ShiftPattern.Days.ALL):
                    # a shift that starts the day before and runs past midnight covers
                    # the early hours (hour h of the next day is h + 24)
                    hours.update(h % 24 for h in range(p.start.hour, p.start.hour + p.hours))
            missing = sorted(set(range(24)) - hours)
            if missing:
                problems.append(
                    f"{layer.label}·{label}：{_hour_ranges(missing)} 无班次 / "
                    f"{layer.value} on {kind} days: no shift at {_hour_ranges(missing)}"
                )
    return problems


def _hour_ranges(hours: list[int]) -> str:
    runs: list[list[int]] = []
    for h in hours:
        if runs and runs[-1][1] == h:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    return "、".join(f"{a:02d}:00–{b:02d}:00" for a, b in runs)


def check_generate(rota: Rota, first: date, days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"天数应为 1–{MAX_DAYS} / days must be 1 to {MAX_DAYS}")
    if not rota.patterns.exists():
        raise ValidationError("请先添加班次 / add shift patterns first")


def swap(a: Shift, b: Shift, *, actor: Any = None) -> tuple[Shift, Shift]:
    """换班: two people exchange two shifts of one layer. Refused — nothing changes —
    when it would leave a gap (a taker who is no longer staff of the rota, or a shift
    with nobody on it), give anyone overlapping duty, or touch a shift already over.
    Either of the two people, or a rota manager, may do it; audited."""
    if a.pk == b.pk or a.rota_id != b.rota_id:
        raise ValidationError("只能互换同一值班表的两个班次 / two shifts of one rota")
    if a.layer != b.layer:
        raise ValidationError("不同层级的班次不能互换 / shifts of different layers")
    now = timezone.now()
    if a.ends_at <= now or b.ends_at <= now:
        raise ValidationError("已结束的班次不能互换 / a shift that is over cannot be swapped")
    if a.person is None or b.person is None:
        raise ValidationError(
            "空缺的班次不能互换，会留下值班空档；请用替班安排人员 / "
            "a vacant shift cannot be swapped: it would leave a gap; assign someone instead"
        )
    if a.person_id == b.person_id:
        raise ValidationError("两个班次是同一人 / both shifts are the same person's")
    staff = set(staff_of(a.rota).values_list("pk", flat=True))
    for person in (a.person, b.person):
        if person.pk not in staff:
            raise ValidationError(
                f"{person} 已不在本值班表的人员中，换班后将无人值班 / "
                f"{person} is no longer staff of this rota: the swap would leave a gap"
            )
    if actor is not None and actor.pk not in (a.person_id, b.person_id):
        _require_manager(actor, a.rota)
    if actor is not None and actor.pk in (a.person_id, b.person_id):
        if not any(can(actor, acc, "rota.duty") for acc in a.rota.accounts.all()):
            raise PermissionDenied("没有换班权限 / not permitted to swap")
    pa, pb = a.person, b.person
    with transaction.atomic():
        _refuse_overlap(pa, b.starts_at, b.ends_at, exclude=a.pk, also=b.pk)
        _refuse_overlap(pb, a.starts_at, a.ends_at, exclude=b.pk, also=a.pk)
        Shift.objects.filter(pk=a.pk).update(person=pb, source=Shift.Source.SWAP)
        Shift.objects.filter(pk=b.pk).update(person=pa, source=Shift.Source.SWAP)
        record("rota.swapped", actor=actor, rota=a.rota_id, shifts=[a.pk, b.pk],
               people=[pa.pk, pb.pk])  # fmt: skip
    a.refresh_from_db()
    b.refresh_from_db()
    return a, b


def _gap_alert(rota: Rota, gap: Gap, why: str = "", at: datetime | None = None) -> int:
    """Alert the accounts of the rota about a gap, once per gap (its layer and start are
    the subject); returns how many alerts were raised. An open-ended gap (nothing is
    planned after it in the days looked at) is given no length."""
    local = gap.starts_at.astimezone(_tz())
    hours = (gap.ends_at - gap.starts_at).total_seconds() / 3600
    nobody = "无人值班" if gap.layer == Layer.OPERATOR else "无带班领导"
    if gap.open_ended:
        text = f"{rota.name}：{local:%m-%d %H:%M} 起{nobody}"
    else:
        text = f"{rota.name}：{local:%m-%d %H:%M} 起 {hours:.0f} 小时{nobody}"
    if gap.layer == Layer.OPERATOR:
        subject = f"gap:{rota.pk}:{gap.starts_at.isoformat()}"
    else:
        subject = f"gap:{rota.pk}:{gap.layer}:{gap.starts_at.isoformat()}"
    notes = [why] if why else []
    if gap.open_ended:
        notes.append("之后没有排班")
    years = unconfirmed_years([gap])
    if years and not _planned_in(rota, gap):
        # nothing at all is planned there (not even a vacant shift): say what may be
        # holding the planner back, and that it need not
        notes.append(f"{'、'.join(map(str, years))} 年节假日安排尚未确认，可按暂定日历排班")
    if notes:
        text += f"（{'；'.join(notes)}）"
    raised = 0
    for account in rota.accounts.all():
        if raise_alert(
            account, Alert.Kind.GAP, subject, text, link=f"/team/rotas/{rota.pk}/", at=at
        ):
            raised += 1
    return raised


def _planned_in(rota: Rota, gap: Gap) -> bool:
    """Whether any shift of the gap's layer, even one with nobody on it, falls in it."""
    return Shift.objects.filter(
        rota=rota, layer=gap.layer, starts_at__lt=gap.ends_at, ends_at__gt=gap.starts_at
    ).exists()


def _flag_gap(rota: Rota, shift: Shift, why: str) -> None:
    """A shift has nobody: the gap is alerted at once, not only at the next sweep (with
    the subject `check_gaps` uses)."""
    _gap_alert(rota, Gap(shift.starts_at, shift.ends_at, shift.layer), why)


def release(shift: Shift, reason: str, *, actor: Any = None) -> Shift:
    """The person cannot take the shift and nobody is found yet: the shift stays, with
    nobody on it — a gap, alerted at once — until a manager assigns someone."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("请说明原因 / give a reason")
    if shift.ends_at <= timezone.now():
        raise ValidationError("已结束的班次不能调整 / a shift that is over cannot be changed")
    if shift.person_id is None:
        raise ValidationError("该班次已空缺 / the shift is already vacant")
    if actor is not None and actor.pk != shift.person_id:
        _require_manager(actor, shift.rota)
    with transaction.atomic():
        before = shift.person_id
        Shift.objects.filter(pk=shift.pk).update(
            person=None, source=Shift.Source.EDITED, note=f"空缺：{reason}"[:200]
        )
        record("rota.released", actor=actor, rota=shift.rota_id, shift=shift.pk, before=before,
               reason=reason)  # fmt: skip
        shift.refresh_from_db()
        _flag_gap(shift.rota, shift, reason)
    return shift


def add_shift(
    rota: Rota, person: Any, starts_at: datetime, ends_at: datetime, *,
    layer: str = Layer.OPERATOR, note: str = "", actor: Any = None,
) -> Shift:  # fmt: skip
    """A shift added by hand (e.g. an extra holiday watch); overlaps refused."""
    _require_manager(actor, rota)
    if layer not in Layer.values:
        raise ValidationError(f"未知层级 / unknown layer: {layer}")
    if ends_at <= starts_at or ends_at - starts_at > timedelta(hours=24):
        raise ValidationError("结束应晚于开始，且不超过 24 小时 / end after start, 24 h at most")
    if person.pk not in set(staff_of(rota).values_list("pk", flat=True)):
        raise ValidationError(f"{person} 不是本值班表的人员 / not staff of this rota")
    with transaction.atomic():
        _refuse_overlap(person, starts_at, ends_at)
        shift = Shift.objects.create(
            rota=rota, layer=layer, person=person, starts_at=starts_at, ends_at=ends_at,
            source=Shift.Source.EDITED, note=note.strip()[:200],
        )  # fmt: skip
        record("rota.shift_added", actor=actor, rota=rota.pk, shift=shift.pk, person=person.pk)
    return shift


def remove_shift(shift: Shift, *, actor: Any = None) -> None:
    """Delete a planned shift (a manager's correction); the hours it covered show as a
    gap if nobody else covers them."""
    _require_manager(actor, shift.rota)
    if shift.ends_at <= timezone.now():
        raise ValidationError("已结束的班次不能删除 / a shift that is over stays on record")
    with transaction.atomic():
        record("rota.shift_removed", actor=actor, rota=shift.rota_id, shift=shift.pk,
               person=shift.person_id, starts_at=shift.starts_at.isoformat())  # fmt: skip
        shift.delete()


def vacate(user: Any, rotas: Sequence[Rota] | None = None, *, why: str = "人员已移除") -> int:
    """A person left (their role removed or their login disabled): their shifts from
    now on stay, with nobody on them, so that they show as gaps and are alerted —
    never silently dropped. `rotas`: only those (default: every rota)."""
    now = timezone.now()
    qs = Shift.objects.filter(person=user, ends_at__gt=now)
    if rotas is not None:
        qs = qs.filter(rota__in=rotas)
    shifts = list(qs.select_related("rota"))
    if not shifts:
        return 0
    with transaction.atomic():
        Shift.objects.filter(pk__in=[s.pk for s in shifts]).update(
            person=None, source=Shift.Source.EDITED, note=f"空缺：{why}"
        )
        for rota_id in sorted({s.rota_id for s in shifts}):
            record("rota.vacated", rota=rota_id, user=user.pk, why=why,
                   shifts=[s.pk for s in shifts if s.rota_id == rota_id])  # fmt: skip
        for s in shifts:
            _flag_gap(s.rota, s, why)
    return len(shifts)


# ------------------------------------------------------------ a year confirmed


def _provisional_days(rota: Rota, year: int, shifts: Sequence[Shift]) -> set[date]:
    """The days of `year` the rota was planned for on the provisional calendar: those of
    its provisional shifts, and every day of the generations that assumed the year (a
    weekend of a rota with only working-day patterns was planned too, with no shift)."""
    tz = _tz()
    days = {s.starts_at.astimezone(tz).date() for s in shifts}
    for data in AuditEvent.objects.filter(name="rota.generated", data__rota=rota.pk).values_list(
        "data", flat=True
    ):
        if year not in (data.get("provisional") or []):
            continue
        first = date.fromisoformat(data["first"])
        span = (first + timedelta(days=n) for n in range(int(data["days"])))
        days.update(d for d in span if d.year == year)
    return days


def _crews(rota: Rota, days: set[date]) -> dict[str, list[Any]]:
    """Per layer, the rota's people in the order they take turns over those days (first
    appearance), as `generate` was given them; people who left are not in it."""
    tz = _tz()
    start = datetime.combine(min(days), datetime.min.time(), tz)
    end = datetime.combine(max(days) + timedelta(days=1), datetime.min.time(), tz)
    staff = set(staff_of(rota).values_list("pk", flat=True))
    crews: dict[str, list[Any]] = {layer: [] for layer in Layer.values}
    for s in Shift.objects.filter(
        rota=rota, person__isnull=False, starts_at__gte=start, starts_at__lt=end
    ).select_related("person"):
        crew = crews[s.layer]
        if s.person_id in staff and s.person not in crew:
            crew.append(s.person)
    return crews


def _next_in_turn(
    rota: Rota, layer: str, crew: Sequence[Any], starts_at: datetime, ends_at: datetime
) -> Any | None:
    """Who takes a new shift: the person after the one on the layer's previous shift,
    round-robin, skipping anyone it would overlap; None when nobody can."""
    before = (
        Shift.objects.filter(rota=rota, layer=layer, person__isnull=False, starts_at__lt=starts_at)
        .order_by("-starts_at", "-id")
        .values_list("person_id", flat=True)
        .first()
    )
    ids = [p.pk for p in crew]
    k = ids.index(before) + 1 if before in ids else 0
    for i in range(len(crew)):
        person = crew[(k + i) % len(crew)]
        if _overlapping(person, starts_at, ends_at) is None:
            return person
    return None


def _day_label(day: date, cal: WorkCalendar) -> str:
    special = SpecialDay.objects.filter(date=day).first()
    if cal.is_working_day(day):
        return "调休上班"
    return (special.name if special and special.name else "") or "节假日"


def recheck_provisional(year: int, *, actor: Any = None) -> int:
    """`year`'s holiday arrangement has been confirmed (called inside that transaction,
    by receivers.py): every shift planned for it on the provisional calendar is checked
    against the confirmed one. A shift whose pattern still runs on its day only loses
    its flag. On a day whose kind changed (a weekday that is a holiday, a weekend that
    is a make-up working day) the shifts of patterns that no longer run there are
    removed, and the patterns that now do get a shift, the layer's people taking turns
    as in `generate` (a shift nobody can take stays vacant, alerted as a gap). A shift
    that has begun is left as it is. Audited per rota; a rota whose shifts changed gets
    one alert naming the days. Returns how many provisional shifts were settled."""
    cal = calendar()
    if year not in cal.years:
        return 0
    now = timezone.now()
    settled = 0
    with transaction.atomic():
        rota_ids = set(
            Shift.objects.filter(provisional_year=year).values_list("rota_id", flat=True)
        )
        for rota in Rota.objects.filter(pk__in=rota_ids).order_by("pk"):
            settled += _recheck_rota(rota, year, cal, now, actor)
    return settled


def _recheck_rota(rota: Rota, year: int, cal: WorkCalendar, now: datetime, actor: Any) -> int:
    tz = _tz()
    shifts = list(
        Shift.objects.select_for_update(of=("self",))
        .filter(rota=rota, provisional_year=year)
        .select_related("pattern", "person")
        .order_by("starts_at", "id")
    )

    def day_of(s: Shift) -> date:
        return s.starts_at.astimezone(tz).date()

    days = _provisional_days(rota, year, shifts)
    changed = sorted(d for d in days if cal.is_working_day(d) != (d.weekday() < 5))
    removed = [
        s
        for s in shifts
        if day_of(s) in changed
        and s.starts_at > now
        and s.pattern is not None
        and not _applies(s.pattern, cal.is_working_day(day_of(s)))
    ]
    gone = {s.pk for s in removed}
    Shift.objects.filter(pk__in=[s.pk for s in shifts if s.pk not in gone]).update(
        provisional_year=None
    )
    crews = _crews(rota, days) if days else {}
    Shift.objects.filter(pk__in=gone).delete()
    added: list[Shift] = []
    patterns = [p for p in rota.patterns.all() if p.days != ShiftPattern.Days.ALL]
    for day in changed:
        working = cal.is_working_day(day)
        for p in patterns:
            starts = datetime.combine(day, p.start, tz)
            if not _applies(p, working) or starts <= now:
                continue
            if Shift.objects.filter(rota=rota, pattern=p, starts_at=starts).exists():
                continue
            ends = starts + timedelta(hours=p.hours)
            person = _next_in_turn(rota, p.layer, crews.get(p.layer, []), starts, ends)
            added.append(
                Shift.objects.create(
                    rota=rota,
                    pattern=p,
                    layer=p.layer,
                    person=person,
                    starts_at=starts,
                    ends_at=ends,
                    note="" if person else "空缺：节假日安排确认后无人可排",
                )  # fmt: skip
            )
    record(
        "rota.rechecked",
        actor=actor,
        rota=rota.pk,
        year=year,
        settled=len(shifts) - len(removed),
        days=[d.isoformat() for d in changed],
        removed=[
            {"shift": s.pk, "pattern": s.pattern.name if s.pattern else "", "person": s.person_id,
             "starts_at": s.starts_at.isoformat()}
            for s in removed
        ],
        shifts=[s.pk for s in added],
    )  # fmt: skip
    if removed or added:
        _recheck_alert(rota, year, cal, removed, added)
    return len(shifts)


def _recheck_alert(
    rota: Rota, year: int, cal: WorkCalendar, removed: Sequence[Shift], added: Sequence[Shift]
) -> None:
    """One alert per rota (and account) naming the days whose shifts changed."""
    tz = _tz()
    touched = sorted({s.starts_at.astimezone(tz).date() for s in [*removed, *added]})
    labels = {d: _day_label(d, cal) for d in touched}

    def what(s: Shift) -> str:
        name = s.pattern.name if s.pattern else s.get_layer_display()
        who = (s.person.get_full_name() or s.person.get_username()) if s.person else "空缺"
        return f"{name} {who}"

    lines = []
    for d in touched:
        parts = []
        gone = [what(s) for s in removed if s.starts_at.astimezone(tz).date() == d]
        new = [what(s) for s in added if s.starts_at.astimezone(tz).date() == d]
        if gone:
            parts.append("撤销 " + "、".join(gone))
        if new:
            parts.append("新增 " + "、".join(new))
        lines.append(f"{d:%m-%d} {labels[d]}：{'；'.join(parts)}")
    text = (
        f"{rota.name}：{year} 年节假日安排已确认，"
        f"{'、'.join(f'{d:%m-%d}（{labels[d]}）' for d in touched)} 的排班已按正式日历调整"
    )
    vacant = sum(1 for s in added if s.person is None)
    if vacant:
        text += f"，{vacant} 个班次无人可排"
    for s in added:
        if s.person is None:
            _flag_gap(rota, s, "节假日安排确认后无人可排")
    for account in rota.accounts.all():
        raise_alert(
            account,
            Alert.Kind.GAP,
            f"calendar-recheck:{rota.pk}:{year}",
            text,
            link=f"/team/rotas/{rota.pk}/?month={touched[0]:%Y-%m}",
            detail="\n".join(lines),
        )


SHIFT_EVENTS = {
    "rota.shift_added": _lazy("手工添加"),
    "rota.override": _lazy("替班"),
    "rota.swapped": _lazy("换班"),
    "rota.released": _lazy("空出"),
    "rota.vacated": _lazy("人员离开，班次空缺"),
    "rota.rechecked": _lazy("节假日安排确认后按正式日历排入"),
}


def shift_history(shift: Shift) -> list[tuple[Any, Any]]:
    """The audit trail of one shift: (event, what happened), oldest first."""
    events = (
        AuditEvent.objects.filter(name__in=SHIFT_EVENTS, data__rota=shift.rota_id)
        .select_related("actor")
        .order_by("-id")[:1000]
    )
    mine = [
        e for e in events
        if e.data.get("shift") == shift.pk or shift.pk in e.data.get("shifts", [])
    ]  # fmt: skip
    return [(e, SHIFT_EVENTS[e.name]) for e in reversed(mine)]


def add_handoff(rota: Rota, author: Any, text: str) -> HandoffNote:
    """交班记录: written by someone on this rota (usually at the end of their shift),
    read by the next shift; tied to the author's current or just-ended shift."""
    text = text.strip()
    if not text:
        raise ValidationError("交班内容不能为空 / a handoff note needs text")
    if len(text) > 2000:
        raise ValidationError("交班内容不超过 2000 字 / 2000 characters at most")
    if not any(can(author, a, "rota.duty") for a in rota.accounts.all()):
        raise PermissionDenied("没有写交班记录的权限 / not permitted to write handoff notes")
    now = timezone.now()
    shift = (
        Shift.objects.filter(
            rota=rota, person=author, starts_at__lte=now, ends_at__gt=now - timedelta(hours=2)
        )
        .order_by("-starts_at")
        .first()
    )
    with transaction.atomic():
        note = HandoffNote.objects.create(rota=rota, shift=shift, author=author, text=text)
        record("rota.handoff", actor=author, rota=rota.pk, note=note.pk)
    return note


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
    layer: str = Layer.OPERATOR
    open_ended: bool = False  # runs to the end of the days looked at: nothing planned after

    @property
    def layer_label(self) -> str:
        return str(Layer(self.layer).label)


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
            found.append(Gap(cursor, min(s, end), layer))
        cursor = max(cursor, e)
        if cursor >= end:
            break
    if cursor < end:
        found.append(Gap(cursor, end, layer))
    return found


def upcoming_gaps(rota: Rota, now: datetime) -> list[Gap]:
    """The gaps of the next 30 days in both layers, in order."""
    end = now + GAP_HORIZON
    found = [
        replace(g, open_ended=g.ends_at >= end)
        for g in gaps(rota, now, end) + gaps(rota, now, end, Layer.LEADER)
    ]
    return sorted(found, key=lambda g: (g.starts_at, g.layer != Layer.OPERATOR))


def unconfirmed_years(found: Sequence[Gap]) -> list[int]:
    """The years those gaps reach whose holiday arrangement the calendar does not have
    yet: shifts there are planned on the provisional calendar until an admin confirms
    the year."""
    known = calendar().years
    years: set[int] = set()
    for gap in found:
        first = gap.starts_at.astimezone(_tz()).year
        last = (gap.ends_at - timedelta(microseconds=1)).astimezone(_tz()).year
        years.update(y for y in range(first, last + 1) if y not in known)
    return sorted(years)


@dataclass(frozen=True)
class DutyNow:
    rota: Rota
    operators: list[Any]
    leaders: list[Any]
    gaps: list[Gap]  # the next 30 days, both layers
    unconfirmed: list[int]  # years those gaps reach that the calendar does not know


def duty_board(account: Any, now: datetime | None = None) -> list[DutyNow]:
    """For the dashboard: each rota of the account, who is on duty now, and the gaps of
    the next 30 days."""
    now = now or timezone.now()
    board = []
    for rota in Rota.objects.filter(accounts=account):
        found = upcoming_gaps(rota, now)
        board.append(
            DutyNow(
                rota,
                on_duty(rota, now),
                on_duty(rota, now, Layer.LEADER),
                found,
                unconfirmed_years(found),
            )
        )
    return board


# ------------------------------------------------------------------ alerts

# Minutes an alert may stay unacknowledged before it goes one level up the chain, where
# the account has no rota that says otherwise (Rota.leader_after, supervisor_after).
ESCALATE_AFTER = {1: 15, 2: 30}
MIN_ESCALATE = 1


def _recipients(account: Any, level: int, at: datetime) -> list[Any]:
    """Who an alert of that level goes to now: the operators on duty (level 1), the
    leader on duty (2), the account's supervisors (3). A level with nobody falls through
    to the next, past the last to the account's operators, and for an account with no
    one at all to the installation's superusers: an alert always reaches someone."""
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
    operators = [
        m.user
        for m in Membership.objects.filter(
            account=account, role=Membership.Role.OPERATOR
        ).select_related("user")
    ]
    if operators:
        return operators
    User = get_user_model()
    return list(User.objects.filter(is_superuser=True, is_active=True).order_by("pk"))


def raise_alert(
    account: Any,
    kind: str,
    subject: str,
    text: str,
    *,
    link: str = "",
    at: datetime | None = None,
    detail: str = "",
    to: Sequence[Any] | None = None,
) -> Alert | None:
    """Tell whoever is on duty (or the people `to` names). Once per (account, kind,
    subject): raising it again does nothing, so the sweeps that call this may run any
    number of times. `{alert}` in the link stands for the alert's id."""
    at = at or timezone.now()
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                account=account,
                kind=kind,
                subject=subject,
                text=text[:200],
                detail=detail,
                link=link,
                created_at=at,
            )
            if "{alert}" in link:  # a link to the alert's own page of the inbox
                alert.link = link.replace("{alert}", str(alert.pk))
                Alert.objects.filter(pk=alert.pk).update(link=alert.link)
            people = list(to) if to else _recipients(account, Alert.Level.OPERATOR, at)
            alert.recipients.set(people)
            _notify_channels(alert, Alert.Level.OPERATOR, people)
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


def settle_alerts(alerts: Sequence[Alert], *, actor: Any, why: str) -> int:
    """Alerts whose subject is dealt with (the case they announce is resolved or closed):
    marked acknowledged by the person who dealt with it, so they leave the bell and stop
    climbing the chain. Each audited (`alert.settled`, with `why`, e.g. "case:42");
    returns how many were still open."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    settled = 0
    with transaction.atomic():
        for alert in alerts:
            if Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
                acknowledged_at=timezone.now(), acknowledged_by=user
            ):
                record("alert.settled", account=alert.account, actor=user, alert=alert.pk,
                       kind=alert.kind, why=why)  # fmt: skip
                settled += 1
    return settled


def _chain(account_id: int, cache: dict[int, dict[int, int]]) -> dict[int, int]:
    """The account's escalation minutes per level: the shortest its rotas set, else
    ESCALATE_AFTER."""
    if account_id not in cache:
        rotas = list(Rota.objects.filter(accounts__id=account_id))
        cache[account_id] = (
            {1: min(r.leader_after for r in rotas), 2: min(r.supervisor_after for r in rotas)}
            if rotas
            else dict(ESCALATE_AFTER)
        )
    return cache[account_id]


def escalate(now: datetime | None = None) -> int:
    """Move unacknowledged alerts one level up once they have waited their account's
    minutes at that level (the rota's escalation chain); idempotent."""
    now = now or timezone.now()
    moved = 0
    chains: dict[int, dict[int, int]] = {}
    due = now - timedelta(minutes=MIN_ESCALATE)
    waiting = (
        Alert.objects.filter(acknowledged_at__isnull=True, level__lt=Alert.Level.SUPERVISOR)
        .filter(models.Q(escalated_at__lte=due) | models.Q(escalated_at__isnull=True,
                                                            created_at__lte=due))
        .select_related("account")
    )  # fmt: skip
    for alert in waiting:
        level = alert.level
        since = alert.escalated_at or alert.created_at
        if now - since < timedelta(minutes=_chain(alert.account_id, chains)[level]):
            continue
        with transaction.atomic():
            if Alert.objects.filter(pk=alert.pk, level=level, acknowledged_at__isnull=True).update(
                level=level + 1, escalated_at=now
            ):
                people = _recipients(alert.account, level + 1, now)
                alert.recipients.add(*people)
                _notify_channels(alert, level + 1, people)
                moved += 1
    return moved


def set_escalation(
    rota: Rota, leader_after: int, supervisor_after: int, *, actor: Any = None
) -> Rota:
    """The minutes of the rota's escalation chain (1 to 1440 each)."""
    _require_manager(actor, rota)
    for value in (leader_after, supervisor_after):
        if not isinstance(value, int) or not MIN_ESCALATE <= value <= 1440:
            raise ValidationError(
                f"升级时间应为 {MIN_ESCALATE}–1440 分钟 / minutes must be {MIN_ESCALATE} to 1440"
            )
    with transaction.atomic():
        Rota.objects.filter(pk=rota.pk).update(
            leader_after=leader_after, supervisor_after=supervisor_after
        )
        record("rota.escalation", actor=actor, rota=rota.pk, leader_after=leader_after,
               supervisor_after=supervisor_after)  # fmt: skip
    rota.refresh_from_db()
    return rota


def alerts_for(user: Any) -> Any:
    """The unacknowledged alerts addressed to a person (the console's bell)."""
    return Alert.objects.filter(recipients=user, acknowledged_at__isnull=True)


def provisional_note(year: int) -> str:
    """What a provisional shift or day says, wherever the rota is read."""
    return f"{year} 年节假日安排尚未确认，按暂定日历排班"


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
        summary = f"{what} · {shift.get_layer_display()} · {who}"
        if shift.provisional_year:
            summary += "（暂定）"
            event.add("description", provisional_note(shift.provisional_year))
        event.add("summary", summary)
        event.add("dtstart", shift.starts_at)
        event.add("dtend", shift.ends_at)
        event.add("dtstamp", shift.starts_at)
        cal.add_component(event)
    return cal.to_ical()


GAP_HORIZON = timedelta(days=30)


def check_gaps(now: datetime | None = None) -> int:
    """Alert the people on duty about every stretch of the next 30 days with nobody on
    duty (no operator, or no leader on duty), on each rota that has shifts planned; once
    per gap (idempotent). A gap in a year the calendar has not confirmed says so."""
    now = now or timezone.now()
    raised = 0
    for rota in (
        Rota.objects.filter(shifts__ends_at__gt=now).distinct().prefetch_related("accounts")
    ):
        for gap in upcoming_gaps(rota, now):
            raised += _gap_alert(rota, gap, at=now)
    return raised


def _notify_channels(alert: Alert, level: int, people: Sequence[Any]) -> None:
    """The alert through the account's notification channels (e-mail, webhook, WeCom
    group robot), once per alert and level, @-mentioning its recipients by the WeCom
    userid of their staff profile, or else its phone. Sent after commit, in the
    background (notify.services)."""
    # each person by their WeCom userid when it is known, else by their mobile number
    profiles = StaffProfile.objects.filter(user__in=[p.pk for p in people]).order_by("user_id")
    mentions = [p.wecom_userid or p.phone for p in profiles if p.wecom_userid or p.phone]
    title = f"【{alert.account.name}】{alert.get_kind_display()}"
    if level > Alert.Level.OPERATOR:
        title += f"（升级至{Alert.Level(level).label}）"
    enqueue(
        alert.account,
        f"alert:{alert.pk}:{level}",
        title,
        f"{alert.text}\n{alert.detail}" if alert.detail else alert.text,
        link=alert.link,
        mentions=mentions,
    )
