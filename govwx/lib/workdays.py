"""Working-day arithmetic on the Chinese calendar: weekends, statutory holidays and the
make-up working days (调休) that move weekends around them.

Pure: a `WorkCalendar` is built from the special days of the years it knows (see the
`workcalendar` app, which stores them and lets an admin add a new year). Any question
about a year it does not know raises `CalendarMissing`: a deadline is never a guess.
Where an answer cannot wait (a citizen's case must open), `provisional()` gives a
calendar that also answers for the years it does not know — weekends as days off, no
holidays — and records which of them it assumed, so that the caller can flag the result
as provisional (暂定) and compute it again once the year is confirmed.

Conventions (documented for the people who read deadlines):
- "within N working days" counts from the day after the start, and ends at the end of
  the Nth working day, local time (Asia/Shanghai);
- a deadline in hours that lands on a day off moves to the same time of the next
  working day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

# A deadline never looks further than this for the next working day (the longest run of
# days off in the record is 9: Spring Festival 2026, 15–23 February).
MAX_DAYS_OFF = 31


class CalendarMissing(Exception):
    """The calendar has no confirmed arrangement for a year a computation needs."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year} 年的节假日安排尚未录入，无法计算工作日 / "
            f"no holiday arrangement for {year}: add it before computing deadlines"
        )
        self.year = year


@dataclass(frozen=True)
class WorkCalendar:
    years: frozenset[int]
    holidays: frozenset[date]  # days off, weekends inside a holiday period included
    workdays: frozenset[date]  # weekend days that are working days (调休上班)

    @classmethod
    def build(
        cls, years: Iterable[int], holidays: Iterable[date], workdays: Iterable[date]
    ) -> WorkCalendar:
        return cls(frozenset(years), frozenset(holidays), frozenset(workdays))

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            raise CalendarMissing(day.year)

    def provisional(self) -> ProvisionalCalendar:
        """This calendar, answering for unconfirmed years as plain weeks (weekends off, no
        holidays, special days entered there ignored); `assumed` names those years."""
        return ProvisionalCalendar(self.years, self.holidays, self.workdays)

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after `day` (or `day` itself with include=True)."""
        d = day if include else day + timedelta(days=1)
        for _ in range(MAX_DAYS_OFF):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no working day within {MAX_DAYS_OFF} days of {day}")

    def add_working_days(self, day: date, n: int) -> date:
        """The Nth working day after `day` (n ≥ 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        d = day
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d ≤ end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def deadline_in_working_days(self, start: datetime, n: int, tz: tzinfo) -> datetime:
        """The end of the Nth working day after `start`'s local date."""
        last = self.add_working_days(start.astimezone(tz).date(), n)
        return datetime.combine(last + timedelta(days=1), time(), tz) - timedelta(microseconds=1)

    def deadline_in_hours(self, start: datetime, hours: float, tz: tzinfo) -> datetime:
        """`start` plus `hours`; on a day off, the same local time of the next working day."""
        local = (start + timedelta(hours=hours)).astimezone(tz)
        day = self.next_working_day(local.date(), include=True)
        return datetime.combine(day, local.timetz().replace(tzinfo=None), tz)


@dataclass(frozen=True)
class ProvisionalCalendar(WorkCalendar):
    """A `WorkCalendar` that never raises `CalendarMissing`: a year it does not know is
    taken as plain weeks, and added to `assumed`. One instance per computation."""

    assumed: set[int] = field(default_factory=set, compare=False)

    def is_working_day(self, day: date) -> bool:
        if day.year in self.years:
            return super().is_working_day(day)
        self.assumed.add(day.year)
        return day.weekday() < 5

    @property
    def first_assumed(self) -> int | None:
        return min(self.assumed) if self.assumed else None
