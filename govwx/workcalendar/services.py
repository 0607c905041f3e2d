"""The one working-day calendar: read it with `calendar()`, change it only through the
functions here.

Seeded from the pinned `chinesecalendar` package (State Council arrangements 2004–2026);
an admin enters each new year when the State Council publishes it (usually November) and
confirms it. A process re-reads the calendar at most every CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from govwx.lib.workdays import WorkCalendar

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


def seed_from_package(*, actor: Any = None) -> int:
    """Add the package's arrangements; days an admin already entered are kept."""
    days, years = package_days()
    with transaction.atomic():
        before = SpecialDay.objects.count()
        SpecialDay.objects.bulk_create(days, ignore_conflicts=True, batch_size=500)
        added = SpecialDay.objects.count() - before
        CalendarYear.objects.bulk_create(years, ignore_conflicts=True)
        _record("calendar.seeded", actor, days=added, years=[y.year for y in years])
    forget()
    return added


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
