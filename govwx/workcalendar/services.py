"""The one working-day calendar: read it with `calendar()`, change it only through the
functions here.

Seeded from the pinned `chinesecalendar` package (State Council arrangements 2004–2026);
an admin enters each new year when the State Council publishes it (usually November):
`enter_year`, from the notice as read by `notice.parse`, on the console's calendar page.
A process re-reads the calendar at most every CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from govwx.lib.workdays import WorkCalendar

from . import notice
from .models import CalendarYear, SpecialDay
from .signals import year_confirmed

CACHE_SECONDS = 60.0
PACKAGE_SOURCE = "chinesecalendar 1.11.0（国务院办公厅节假日安排通知）"
# The package's English names, as the console shows them
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

_lock = threading.Lock()
_cached: tuple[float, WorkCalendar] | None = None


def calendar() -> WorkCalendar:
    """The calendar as stored, at most CACHE_SECONDS old in this process."""
    global _cached
    now = time.monotonic()
    if _cached is not None and now - _cached[0] < CACHE_SECONDS:
        return _cached[1]
    with _lock:
        years = CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True)
        holidays: list[date] = []
        workdays: list[date] = []
        for day, kind in SpecialDay.objects.values_list("date", "kind"):
            (holidays if kind == SpecialDay.Kind.HOLIDAY else workdays).append(day)
        cal = WorkCalendar.build(years, holidays, workdays)
        _cached = (now, cal)
        return cal


def forget() -> None:
    """Drop this process's copy (after a change, and in tests)."""
    global _cached
    _cached = None


def _record(name: str, actor: Any, /, **data: Any) -> None:
    from govwx.accounts.services import record

    record(name, actor=actor, **data)


def package_days(
    special_model: Any = SpecialDay, year_model: Any = CalendarYear
) -> tuple[list[Any], list[Any]]:
    """The package's special days and confirmed years, as (unsaved) rows of the given
    models (the migration that seeds a new database passes its historical ones)."""
    import chinese_calendar

    holiday, workday = SpecialDay.Kind.HOLIDAY.value, SpecialDay.Kind.WORKDAY.value
    days = [
        special_model(date=d, kind=kind, name=HOLIDAY_NAMES.get(n, n))
        for table, kind in (
            (chinese_calendar.holidays, holiday),
            (chinese_calendar.workdays, workday),
        )
        for d, n in table.items()
    ]
    years = sorted({d.year for d in chinese_calendar.holidays})
    return days, [year_model(year=y, source=PACKAGE_SOURCE, confirmed=True) for y in years]


@dataclass(frozen=True)
class Seeded:
    years: list[int]  # the years newly confirmed
    days: int  # special days added


def seed_from_package(*, actor: Any = None) -> Seeded:
    """Add the package's arrangements for the years the database lacks (not confirmed),
    confirm them, and tell the apps above (`year_confirmed`, once per year added). A
    confirmed year is left as it is, and days an admin already entered are kept: running
    it again adds nothing."""
    days, years = package_days()
    with transaction.atomic():
        confirmed = set(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True))
        new = [y.year for y in years if y.year not in confirmed]
        wanted = [d for d in days if d.date.year in new]
        before = SpecialDay.objects.count()
        SpecialDay.objects.bulk_create(wanted, ignore_conflicts=True, batch_size=500)
        added = SpecialDay.objects.count() - before
        for year in new:
            CalendarYear.objects.update_or_create(
                year=year, defaults={"source": PACKAGE_SOURCE, "confirmed": True}
            )
        if new:
            _record("calendar.seeded", actor, days=added, years=new)
        forget()
        for year in new:
            year_confirmed.send(sender=CalendarYear, year=year, actor=actor)
    forget()
    return Seeded(new, added)


def set_special_day(day: date, kind: str, name: str = "", *, actor: Any = None) -> SpecialDay:
    """Mark a day as a holiday or a make-up working day (a local closure, a new year)."""
    if kind not in SpecialDay.Kind.values:
        raise ValidationError(f"未知类型 / unknown kind {kind!r}")
    if kind == SpecialDay.Kind.WORKDAY and day.weekday() < 5:
        raise ValidationError(
            f"{day} 本来就是工作日，调休上班只能设在周末 / "
            f"{day} is a weekday already: a make-up working day falls on a weekend"
        )
    with transaction.atomic():
        special, _ = SpecialDay.objects.update_or_create(
            date=day, defaults={"kind": kind, "name": name.strip()[:40]}
        )
        _record("calendar.day_set", actor, date=day.isoformat(), kind=kind, name=name)
    forget()
    return special


def remove_special_day(day: date, *, actor: Any = None) -> None:
    with transaction.atomic():
        deleted, _ = SpecialDay.objects.filter(date=day).delete()
        if not deleted:
            raise ValidationError(f"{day} 不是特殊日期 / {day} is not a special day")
        _record("calendar.day_removed", actor, date=day.isoformat())
    forget()


def confirm_year(year: int, source: str, *, actor: Any = None) -> CalendarYear:
    """Declare a year's arrangement complete: deadlines may now fall in it."""
    if not 2000 <= year <= 2100:
        raise ValidationError(f"年份不合理 / implausible year {year}")
    if not source.strip():
        raise ValidationError("请注明来源（如国务院办公厅通知文号）/ name the source")
    with transaction.atomic():
        row, _ = CalendarYear.objects.update_or_create(
            year=year, defaults={"source": source.strip(), "confirmed": True}
        )
        _record("calendar.year_confirmed", actor, year=year, source=source)
        forget()
        year_confirmed.send(sender=CalendarYear, year=year, actor=actor)
    forget()
    return row


# ------------------------------------------------------------------ a new year


@dataclass(frozen=True)
class Entered:
    row: CalendarYear
    # what the apps above recomputed, by app label ({"desk": 12, "team": 3}): the
    # `year_confirmed` receivers' answers that are counts
    recomputed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Confirmation:
    """When, by whom and from what a year was confirmed (for the page, and the refusal
    to confirm it twice)."""

    year: int
    source: str
    at: datetime
    by: str  # a username, or "" for the system (the package, a migration)


def latest_entry_year() -> int:
    """The last year that may be entered now: next year (the State Council publishes
    the arrangement a few weeks ahead, never two years ahead)."""
    return timezone.localdate().year + 1


def confirmations(years: Sequence[int] | None = None) -> dict[int, Confirmation]:
    """The confirmation of each confirmed year (of `years`, or all): two queries."""
    from govwx.accounts.models import AuditEvent

    rows = CalendarYear.objects.filter(confirmed=True)
    if years is not None:
        rows = rows.filter(year__in=list(years))
    found = {r.year: Confirmation(r.year, r.source, r.updated_at, "") for r in rows}
    if not found:
        return found
    events = (
        AuditEvent.objects.filter(name__in=("calendar.year_entered", "calendar.year_confirmed"))
        .select_related("actor")
        .order_by("id")
    )
    for event in events:
        year = event.data.get("year") if isinstance(event.data, dict) else None
        if year in found:
            by = event.actor.get_username() if event.actor else ""
            found[year] = Confirmation(year, found[year].source, event.created_at, by)
    return found


def _already(c: Confirmation) -> str:
    when = timezone.localtime(c.at).strftime("%Y-%m-%d %H:%M")
    who = c.by or "系统"
    who_en = c.by or "the system"
    return (
        f"{c.year} 年已于 {when} 由 {who} 确认（来源：{c.source}），不能再次录入；如需更正，"
        f"请在管理后台修改个别日期 / {c.year} was confirmed on {when} by {who_en} "
        f"(source: {c.source}) and cannot be entered again; correct single days in the admin"
    )


def enter_year(
    year: int,
    periods: Sequence[notice.Period],
    workdays: Sequence[notice.WorkDay],
    source: str,
    *,
    actor: Any = None,
) -> Entered:
    """Store a new year's arrangement and confirm it, all or nothing: the year's special
    days are replaced by these, the year is confirmed (once: a confirmed year is
    refused, naming when and by whom), audited, and `year_confirmed` is sent in the same
    transaction, so the provisional deadlines and shifts are recomputed with it."""
    errors = [str(p) for p in notice.check(year, periods, workdays)]
    if 2000 <= year <= 2100 and year > latest_entry_year():
        errors.insert(
            0,
            f"{year} 年的安排还不可能发布：最多录入到 {latest_entry_year()} 年 / the "
            f"arrangement for {year} cannot be out yet: at most {latest_entry_year()}",
        )
    if not source.strip():
        errors.append("请注明来源（如国务院办公厅通知文号）/ name the source")
    if errors:
        raise ValidationError(errors)
    source = source.strip()[:200]
    days = [
        SpecialDay(date=day, kind=SpecialDay.Kind.HOLIDAY, name=p.name[:40])
        for p in periods
        for day in p.days
    ] + [SpecialDay(date=w.day, kind=SpecialDay.Kind.WORKDAY, name=w.name[:40]) for w in workdays]
    try:
        with transaction.atomic():
            row = CalendarYear.objects.select_for_update().filter(year=year).first()
            if row is not None and row.confirmed:
                raise ValidationError(_already(confirmations([year])[year]))
            SpecialDay.objects.filter(date__year=year).delete()
            SpecialDay.objects.bulk_create(days)
            if row is None:
                row = CalendarYear.objects.create(year=year, source=source, confirmed=True)
            else:
                row.source, row.confirmed = source, True
                row.save(update_fields=["source", "confirmed", "updated_at"])
            _record(
                "calendar.year_entered",
                actor,
                year=year,
                source=source,
                periods=[[p.name, p.first.isoformat(), p.last.isoformat()] for p in periods],
                workdays=[w.day.isoformat() for w in workdays],
            )
            forget()
            answers = year_confirmed.send(sender=CalendarYear, year=year, actor=actor)
    except IntegrityError:
        # another admin confirmed the same year at the same moment
        forget()
        done = confirmations([year]).get(year)
        raise ValidationError(
            _already(done) if done else f"{year} 年正在被他人录入 / {year} is being entered"
        ) from None
    finally:
        forget()
    return Entered(row, _counts(answers))


def _counts(answers: Sequence[tuple[Any, Any]]) -> dict[str, int]:
    """The receivers' answers that are counts, by the app they come from."""
    counts: dict[str, int] = {}
    for receiver, answer in answers:
        if isinstance(answer, int) and not isinstance(answer, bool):
            parts = getattr(receiver, "__module__", "").split(".")
            app = parts[1] if len(parts) > 1 and parts[0] == "govwx" else ".".join(parts)
            counts[app] = counts.get(app, 0) + answer
    return counts


def year_days(year: int) -> tuple[dict[date, str], dict[date, str]]:
    """A year's stored special days: (holidays, make-up working days), date -> name."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    for day, kind, name in SpecialDay.objects.filter(date__year=year).values_list(
        "date", "kind", "name"
    ):
        (holidays if kind == SpecialDay.Kind.HOLIDAY else workdays)[day] = name
    return holidays, workdays


def stored_periods(year: int) -> tuple[list[notice.Period], list[notice.WorkDay]]:
    """A year's stored special days as periods (consecutive days off of one name) and
    make-up working days, in order."""
    holidays, workdays = year_days(year)
    periods: list[notice.Period] = []
    for day in sorted(holidays):
        last = periods[-1] if periods else None
        if last and (day - last.last).days == 1 and last.name == holidays[day]:
            periods[-1] = notice.Period(last.name, last.first, day)
        else:
            periods.append(notice.Period(holidays[day], day, day))
    return periods, [notice.WorkDay(d, workdays[d]) for d in sorted(workdays)]
