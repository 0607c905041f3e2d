"""A year as twelve month grids (weeks from Monday), each day marked as the calendar
page shows it: a holiday (red), a make-up working day (班), a weekend (grey). Pure."""

from __future__ import annotations

import calendar as stdcal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Cell:
    day: date | None  # None: a blank before the 1st or after the last day
    kind: str = ""  # "holiday", "workday" (调休上班), "weekend", "weekday"
    name: str = ""  # the holiday a special day belongs to


@dataclass(frozen=True)
class Month:
    number: int
    weeks: list[list[Cell]]
    holidays: int  # days off in the month (for the heading)


def year_grid(year: int, holidays: Mapping[date, str], workdays: Mapping[date, str]) -> list[Month]:
    """Twelve months; a day both in `holidays` and `workdays` shows as a holiday (the
    preview lists it as an error)."""
    months = []
    for number in range(1, 13):
        weeks = []
        for week in stdcal.Calendar(firstweekday=0).monthdatescalendar(year, number):
            weeks.append(
                [_cell(d, holidays, workdays) if d.month == number else Cell(None) for d in week]
            )
        off = sum(1 for d in holidays if d.year == year and d.month == number)
        months.append(Month(number, weeks, off))
    return months


def _cell(day: date, holidays: Mapping[date, str], workdays: Mapping[date, str]) -> Cell:
    if day in holidays:
        return Cell(day, "holiday", holidays[day])
    if day in workdays:
        return Cell(day, "workday", workdays[day])
    return Cell(day, "weekend" if day.weekday() >= 5 else "weekday")
