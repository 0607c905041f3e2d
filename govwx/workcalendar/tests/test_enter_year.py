"""`services.enter_year`: a new year stored and confirmed all or nothing, and every bad
input refused with a clear error and nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from govwx.accounts.models import AuditEvent
from govwx.workcalendar import services
from govwx.workcalendar.models import CalendarYear, SpecialDay
from govwx.workcalendar.notice import Period, WorkDay, parse
from govwx.workcalendar.signals import year_confirmed

from .notices import NOTICE_2027

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
SOURCE = "国办发明电〔2026〕9号"


@pytest.fixture(autouse=True)
def _today() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 12, 5, 10, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    """What `year_confirmed` carried; the receiver answers a count, as the desk's does."""
    calls: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> int:
        calls.append(kwargs)
        return 4

    year_confirmed.connect(receiver, dispatch_uid="test-heard")
    yield calls
    year_confirmed.disconnect(dispatch_uid="test-heard")


def state() -> tuple[int, int, int, list[int]]:
    return (
        SpecialDay.objects.count(),
        CalendarYear.objects.count(),
        AuditEvent.objects.count(),
        list(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True)),
    )


def test_it_stores_and_confirms_the_year(account_admin: Any, heard: list[dict[str, Any]]) -> None:
    services.set_special_day(date(2027, 3, 8), "holiday", "旧的一天")  # replaced
    got = parse(NOTICE_2027, 2027)
    entered = services.enter_year(2027, got.periods, got.workdays, SOURCE, actor=account_admin)
    assert entered.row.confirmed and entered.row.source == SOURCE
    assert entered.recomputed["workcalendar"] == 4
    assert heard == [{"signal": year_confirmed, "year": 2027, "actor": account_admin}]
    assert SpecialDay.objects.filter(date__year=2027).count() == 29 + 5
    assert not SpecialDay.objects.filter(date=date(2027, 3, 8)).exists()
    assert SpecialDay.objects.get(date=date(2027, 2, 20)).kind == SpecialDay.Kind.WORKDAY
    assert SpecialDay.objects.get(date=date(2027, 10, 1)).name == "国庆节"
    event = AuditEvent.objects.get(name="calendar.year_entered")
    assert event.actor == account_admin
    assert event.data["periods"][0] == ["元旦", "2027-01-01", "2027-01-03"]
    assert event.data["workdays"][0] == "2027-02-20"
    cal = services.calendar()
    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday in 春节
    assert cal.is_working_day(date(2027, 2, 20))  # a Saturday, 调休
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def refused(call: Any) -> str:
    before = state()
    with pytest.raises(ValidationError) as exc:
        call()
    assert state() == before
    return " | ".join(exc.value.messages)


OFF = [Period("元旦", date(2027, 1, 1), date(2027, 1, 3), 1, "元旦")]


def test_a_make_up_day_on_a_weekday_changes_nothing(heard: list[dict[str, Any]]) -> None:
    days = [WorkDay(date(2027, 1, 4), "元旦", 2, "2027-01-04 上班")]
    assert "2027-01-04 是周一，本来就上班" in refused(
        lambda: services.enter_year(2027, OFF, days, SOURCE)
    )
    assert heard == []


def test_days_outside_the_year_change_nothing() -> None:
    off = [Period("元旦", date(2026, 12, 31), date(2027, 1, 2), 1, "x")]
    assert "2026-12-31 不在 2027 年" in refused(lambda: services.enter_year(2027, off, [], SOURCE))
    days = [WorkDay(date(2028, 1, 8), "", 2, "y")]
    assert "2028-01-08 不在 2027 年" in refused(
        lambda: services.enter_year(2027, OFF, days, SOURCE)
    )


def test_overlaps_change_nothing() -> None:
    both = [*OFF, Period("又一个元旦", date(2027, 1, 3), date(2027, 1, 4), 2, "z")]
    assert "重叠" in refused(lambda: services.enter_year(2027, both, [], SOURCE))
    days = [WorkDay(date(2027, 1, 2), "", 2, "y")]
    assert "既是元旦假期（第 1 行）又是上班日" in refused(
        lambda: services.enter_year(2027, OFF, days, SOURCE)
    )


def test_a_confirmed_year_is_refused_naming_when_and_by_whom(account_admin: Any) -> None:
    with time_machine.travel(datetime(2026, 11, 20, 9, 30, tzinfo=SH), tick=False):
        services.enter_year(2027, OFF, [], SOURCE, actor=account_admin)
    message = refused(lambda: services.enter_year(2027, OFF, [], "另一份"))
    assert message.startswith(
        "2027 年已于 2026-11-20 09:30 由 acctadmin 确认（来源：国办发明电〔2026〕9号），不能再次录入"
    )
    seeded = refused(lambda: services.enter_year(2026, [Period("元旦", date(2026, 1, 1),
                                                                  date(2026, 1, 3))], [], SOURCE))  # fmt: skip
    assert "2026 年已于" in seeded and "由 系统 确认（来源：chinesecalendar 1.11.0" in seeded


@pytest.mark.parametrize("year", [1999, 2101, 2028])
def test_implausible_years_change_nothing(year: int) -> None:
    off = [Period("元旦", date(year, 1, 1), date(year, 1, 1), 1, "x")]
    message = refused(lambda: services.enter_year(year, off, [], SOURCE))
    expected = "还不可能发布：最多录入到 2027 年" if year == 2028 else "年份不合理"
    assert expected in message


def test_an_empty_source_or_arrangement_changes_nothing() -> None:
    assert "请注明来源" in refused(lambda: services.enter_year(2027, OFF, [], "  "))
    assert "至少要有一个放假安排" in refused(lambda: services.enter_year(2027, [], [], SOURCE))


def test_a_failing_receiver_undoes_the_confirmation() -> None:
    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    year_confirmed.connect(boom, dispatch_uid="test-boom")
    try:
        before = state()
        with pytest.raises(RuntimeError):
            services.enter_year(2027, OFF, [], SOURCE)
        assert state() == before
    finally:
        year_confirmed.disconnect(dispatch_uid="test-boom")
    assert 2027 not in services.calendar().years


def test_confirm_year_and_set_special_day_still_work_for_the_admin() -> None:
    services.set_special_day(date(2027, 1, 1), "holiday", "元旦")
    services.confirm_year(2027, SOURCE)
    assert not services.calendar().is_working_day(date(2027, 1, 1))


def test_stored_periods_group_the_days_of_a_holiday() -> None:
    periods, workdays = services.stored_periods(2026)
    assert [(p.name, p.first, p.last) for p in periods][:2] == [
        ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
        ("春节", date(2026, 2, 15), date(2026, 2, 23)),
    ]
    assert [w.day for w in workdays][:2] == [date(2026, 1, 4), date(2026, 2, 14)]
