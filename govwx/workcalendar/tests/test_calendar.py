"""The working-day calendar against the State Council's published 2025 and 2026
arrangements, and deadlines computed on it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from govwx.lib.workdays import CalendarMissing, WorkCalendar
from govwx.workcalendar import services
from govwx.workcalendar.models import CalendarYear, SpecialDay

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# 国务院办公厅关于2025年、2026年部分节假日安排的通知: days off and make-up working days
OFF = {
    2025: [("01-01", "01-01"), ("01-28", "02-04"), ("04-04", "04-06"), ("05-01", "05-05"),
           ("05-31", "06-02"), ("10-01", "10-08")],
    2026: [("01-01", "01-03"), ("02-15", "02-23"), ("04-04", "04-06"), ("05-01", "05-05"),
           ("06-19", "06-21"), ("09-25", "09-27"), ("10-01", "10-07")],
}  # fmt: skip
MAKE_UP = {2025: ["01-26", "02-08", "04-27", "09-28", "10-11"],
           2026: ["01-04", "02-14", "02-28", "05-09", "09-20", "10-10"]}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    services.forget()
    yield
    services.forget()


def d(year: int, md: str) -> date:
    return date.fromisoformat(f"{year}-{md}")


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_of_the_year_follows_the_published_arrangement(year: int) -> None:
    cal = services.calendar()
    off = {
        d(year, a) + timedelta(days=i)
        for a, b in OFF[year]
        for i in range((d(year, b) - d(year, a)).days + 1)
    }
    make_up = {d(year, x) for x in MAKE_UP[year]}
    day = date(year, 1, 1)
    while day.year == year:
        expected = day in make_up or (day not in off and day.weekday() < 5)
        assert cal.is_working_day(day) is expected, day
        day += timedelta(days=1)


def test_a_case_opened_on_the_eve_of_national_day_2025() -> None:
    cal = services.calendar()
    opened = datetime(2025, 9, 30, 16, 0, tzinfo=SH)
    # 1 to 8 October are off: the next working day is Thursday 9 October
    assert cal.deadline_in_working_days(opened, 1, SH) == datetime(
        2025, 10, 9, 23, 59, 59, 999999, tzinfo=SH
    )
    # Saturday 11 October is a make-up working day: the third one
    assert cal.deadline_in_working_days(opened, 3, SH).date() == date(2025, 10, 11)
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 11)) == 3


def test_make_up_saturdays_count_in_2026() -> None:
    cal = services.calendar()
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)  # Saturday, 调休
    assert cal.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)  # after 春节
    assert cal.add_working_days(date(2026, 1, 2), 1) == date(2026, 1, 4)  # Sunday, 调休


def test_a_deadline_in_hours_that_falls_on_a_holiday_moves_to_the_next_working_day() -> None:
    cal = services.calendar()
    start = datetime(2025, 9, 30, 20, 0, tzinfo=SH)
    assert cal.deadline_in_hours(start, 24, SH) == datetime(2025, 10, 9, 20, 0, tzinfo=SH)
    weekday = datetime(2025, 11, 3, 9, 0, tzinfo=SH)  # Monday
    assert cal.deadline_in_hours(weekday, 24, SH) == datetime(2025, 11, 4, 9, 0, tzinfo=SH)
    # stored in UTC, the same instant
    utc = cal.deadline_in_hours(start.astimezone(ZoneInfo("UTC")), 24, SH)
    assert utc == datetime(2025, 10, 9, 12, 0, tzinfo=ZoneInfo("UTC"))


def test_a_year_without_data_is_a_loud_error_until_an_admin_enters_it() -> None:
    cal = services.calendar()
    with pytest.raises(CalendarMissing, match="2027"):
        cal.is_working_day(date(2027, 1, 4))
    with pytest.raises(CalendarMissing):
        cal.deadline_in_working_days(datetime(2026, 12, 31, 10, tzinfo=SH), 1, SH)
    services.set_special_day(date(2027, 1, 1), "holiday", "元旦")
    services.confirm_year(2027, "国办发明电〔2026〕号（示例）")
    cal = services.calendar()
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.deadline_in_working_days(datetime(2026, 12, 31, 10, tzinfo=SH), 1, SH).date() == (
        date(2027, 1, 4)
    )


def test_bad_edits_are_refused_and_change_nothing() -> None:
    before = (SpecialDay.objects.count(), CalendarYear.objects.count())
    with pytest.raises(ValidationError):
        services.set_special_day(date(2026, 3, 4), "workday", "周三")  # a Wednesday
    with pytest.raises(ValidationError):
        services.set_special_day(date(2026, 3, 7), "vacation")
    with pytest.raises(ValidationError):
        services.confirm_year(2027, "  ")
    with pytest.raises(ValidationError):
        services.remove_special_day(date(2026, 3, 4))
    assert (SpecialDay.objects.count(), CalendarYear.objects.count()) == before


def test_seeding_again_keeps_what_an_admin_entered() -> None:
    services.set_special_day(date(2026, 10, 1), "holiday", "本市国庆节")
    assert services.seed_from_package() == services.Seeded([], 0)
    assert SpecialDay.objects.get(date=date(2026, 10, 1)).name == "本市国庆节"
    assert CalendarYear.objects.filter(confirmed=True).count() == 23  # 2004–2026


def test_the_pure_calendar_needs_no_database() -> None:
    cal = WorkCalendar.build([2030], [date(2030, 1, 1)], [date(2030, 1, 5)])
    assert not cal.is_working_day(date(2030, 1, 1))
    assert cal.is_working_day(date(2030, 1, 5))  # a Saturday made a working day
    assert cal.add_working_days(date(2029, 12, 31), 1) == date(2030, 1, 2)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2030, 1, 2), 0)
