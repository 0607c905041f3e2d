"""The rota in a year the calendar has not confirmed: planned on the provisional calendar
(weekends off, no holidays), shown as provisional, and settled when the year is confirmed.

"Now" is 5 December 2026; the calendar is confirmed to 2026. In the 2027 arrangement of
these tests 1–3 January are the New Year holiday (1 January a Friday) and Sunday 10
January is a make-up working day.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.team import services
from govwx.team.models import Alert, Rota, Shift, ShiftPattern
from govwx.workcalendar.models import CalendarYear
from govwx.workcalendar.services import confirm_year, set_special_day

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 5, 12, tzinfo=SH)


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def crew(account: Account, django_user_model: Any) -> dict[str, list[Any]]:
    make = django_user_model.objects.create_user
    operators = [make(f"op{i}") for i in range(3)]
    leader = make("leader1")
    for user in operators:
        add_member(account, user, Membership.Role.OPERATOR)
    add_member(account, leader, Membership.Role.SUPERVISOR)
    return {"operator": operators, "leader": [leader]}


@pytest.fixture
def rota(account: Account) -> Rota:
    rota = Rota.objects.create(name="新媒体值班")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="白班", start=time(8), hours=12, days="working")
    ShiftPattern.objects.create(rota=rota, name="夜班", start=time(20), hours=12, days="all")
    ShiftPattern.objects.create(rota=rota, name="节假日白班", start=time(8), hours=12, days="off")
    ShiftPattern.objects.create(rota=rota, name="带班", start=time(8), hours=24, layer="leader")
    return rota


def day_shift(rota: Rota, day: date) -> Shift:
    return Shift.objects.select_related("pattern", "person").get(
        rota=rota, layer="operator", starts_at=datetime.combine(day, time(8), SH)
    )


def enter_2027(admin: Any = None) -> None:
    for d in (1, 2, 3):
        set_special_day(date(2027, 1, d), "holiday", "元旦", actor=admin)
    set_special_day(date(2027, 1, 10), "workday", actor=admin)


def test_january_is_planned_in_december_and_settled_when_2027_is_confirmed(
    rota: Rota, crew: dict[str, list[Any]], account_admin: Any
) -> None:
    # December (confirmed) and January (not): one plan over the turn of the year
    services.generate(rota, date(2026, 12, 5), 58, crew)
    jan = Shift.objects.filter(rota=rota, starts_at__gte=datetime(2027, 1, 1, tzinfo=SH))
    assert jan.count() == 31 * 3
    assert set(jan.values_list("provisional_year", flat=True)) == {2027}
    assert not Shift.objects.filter(rota=rota, starts_at__lt=datetime(2027, 1, 1, tzinfo=SH),
                                    provisional_year__isnull=False).exists()  # fmt: skip
    # plain weeks: Friday 1 January a working day, Sunday 10 January a day off
    assert day_shift(rota, date(2027, 1, 1)).pattern.name == "白班"
    assert day_shift(rota, date(2027, 1, 10)).pattern.name == "节假日白班"
    generated = AuditEvent.objects.get(name="rota.generated")
    assert generated.data["provisional"] == [2027]
    # the next 30 days reach into January, all planned: no gap alert
    assert services.check_gaps() == 0
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=SH), tick=False):
        assert services.check_gaps() == 0
    assert not Alert.objects.exists()

    holiday_person = day_shift(rota, date(2027, 1, 1)).person
    makeup_person = day_shift(rota, date(2027, 1, 10)).person
    total = Shift.objects.count()
    enter_2027(account_admin)
    confirm_year(2027, "国办发明电〔2026〕12号", actor=account_admin)

    # the holiday's working-day shift is gone, its day-off shift is there, taken by
    # the person next in turn (the one whose day it was); the make-up day alike
    new_year = day_shift(rota, date(2027, 1, 1))
    assert (new_year.pattern.name, new_year.person) == ("节假日白班", holiday_person)
    makeup = day_shift(rota, date(2027, 1, 10))
    assert (makeup.pattern.name, makeup.person) == ("白班", makeup_person)
    assert not Shift.objects.filter(
        rota=rota, pattern__name="白班", starts_at__date__in=[date(2027, 1, 1)]
    ).exists()
    # 2 and 3 January were days off already; everything else only loses its flag
    assert day_shift(rota, date(2027, 1, 2)).pattern.name == "节假日白班"
    assert not Shift.objects.filter(provisional_year__isnull=False).exists()
    assert Shift.objects.count() == total
    # still round the clock, both layers
    start, end = datetime(2026, 12, 5, 12, tzinfo=SH), datetime(2027, 2, 1, 8, tzinfo=SH)
    assert services.gaps(rota, start, end) == []
    assert services.gaps(rota, start, end, layer="leader") == []

    event = AuditEvent.objects.get(name="rota.rechecked")
    assert event.actor == account_admin
    assert event.data["year"] == 2027 and event.data["settled"] == 31 * 3 - 2
    assert event.data["days"] == ["2027-01-01", "2027-01-10"]
    assert [r["pattern"] for r in event.data["removed"]] == ["白班", "节假日白班"]
    assert event.data["shifts"] == [new_year.pk, makeup.pk]
    alert = Alert.objects.get()
    assert (alert.account, alert.kind, alert.subject) == (
        rota.accounts.get(),
        "gap",
        f"calendar-recheck:{rota.pk}:2027",
    )
    assert alert.text == (
        "新媒体值班：2027 年节假日安排已确认，01-01（元旦）、01-10（调休上班） "
        "的排班已按正式日历调整"
    )
    who_h, who_m = holiday_person.username, makeup_person.username
    assert alert.detail == (
        f"01-01 元旦：撤销 白班 {who_h}；新增 节假日白班 {who_h}\n"
        f"01-10 调休上班：撤销 节假日白班 {who_m}；新增 白班 {who_m}"
    )
    assert alert.link == f"/team/rotas/{rota.pk}/?month=2027-01"
    # the shift page tells where the new shift came from
    assert [str(what) for _, what in services.shift_history(makeup)] == [
        "节假日安排确认后按正式日历排入"
    ]
    # and no gap alert in all this
    assert services.check_gaps() == 0
    assert list(Alert.objects.values_list("subject", flat=True)) == [alert.subject]


def test_a_working_day_rota_gets_a_make_up_sunday_it_had_no_shift_on(
    account: Account, crew: dict[str, list[Any]]
) -> None:
    from govwx.team.receivers import recheck_provisional_shifts
    from govwx.workcalendar.services import forget
    from govwx.workcalendar.signals import year_confirmed

    rota = Rota.objects.create(name="工作日值班")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="坐班", start=time(9), hours=8, days="working")
    services.generate(rota, date(2027, 1, 1), 31, {"operator": crew["operator"]})
    assert Shift.objects.filter(rota=rota).count() == 21  # the weekdays of January
    set_special_day(date(2027, 1, 1), "holiday", "元旦")
    # Sunday 31 January: after the last shift planned, but inside the planned month
    set_special_day(date(2027, 1, 31), "workday")
    CalendarYear.objects.create(year=2027, source="国办发明电〔2026〕12号", confirmed=True)
    forget()

    answers = dict(year_confirmed.send(sender=CalendarYear, year=2027, actor=None))
    assert answers[recheck_provisional_shifts] == 21  # settled: 20 kept, 1 removed

    days = [s.starts_at.astimezone(SH).date() for s in Shift.objects.filter(rota=rota)]
    assert date(2027, 1, 1) not in days and date(2027, 1, 31) in days
    assert len(days) == 21
    # round-robin carries on from Friday 29 January
    friday = Shift.objects.get(rota=rota, starts_at=datetime(2027, 1, 29, 9, tzinfo=SH))
    sunday = Shift.objects.get(rota=rota, starts_at=datetime(2027, 1, 31, 9, tzinfo=SH))
    ops = crew["operator"]
    assert sunday.person == ops[(ops.index(friday.person) + 1) % 3]
    assert sunday.provisional_year is None and sunday.source == "generated"
    alert = Alert.objects.get()
    assert alert.text == (
        "工作日值班：2027 年节假日安排已确认，01-01（元旦）、01-31（调休上班） "
        "的排班已按正式日历调整"
    )
    # confirming again changes nothing
    assert dict(year_confirmed.send(sender=CalendarYear, year=2027))[
        recheck_provisional_shifts
    ] == 0  # fmt: skip
    assert AuditEvent.objects.filter(name="rota.rechecked").count() == 1


def test_a_gap_in_january_only_for_want_of_planning_says_why(
    rota: Rota, crew: dict[str, list[Any]]
) -> None:
    services.generate(rota, date(2026, 12, 5), 27, crew)  # to the end of December
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=SH), tick=False):
        assert services.check_gaps() == 2
    assert sorted(Alert.objects.values_list("text", flat=True)) == [
        "新媒体值班：01-01 08:00 起无人值班（之后没有排班；2027 年节假日安排尚未确认，可按暂定日历排班）",
        "新媒体值班：01-01 08:00 起无带班领导（之后没有排班；2027 年节假日安排尚未确认，可按暂定日历排班）",
    ]


def test_a_vacant_provisional_shift_is_a_gap_without_the_calendar_note(
    rota: Rota, crew: dict[str, list[Any]]
) -> None:
    services.generate(rota, date(2026, 12, 5), 58, crew)
    night = Shift.objects.get(rota=rota, starts_at=datetime(2027, 1, 2, 20, tzinfo=SH))
    services.release(night, "家中有事")
    assert list(Alert.objects.values_list("text", flat=True)) == [
        "新媒体值班：01-02 20:00 起 12 小时无人值班（家中有事）"
    ]


def test_the_month_page_print_excel_and_ics_say_provisional(
    client: Client, rota: Rota, crew: dict[str, list[Any]], account_admin: Any
) -> None:
    from icalendar import Calendar
    from openpyxl import load_workbook

    services.generate(rota, date(2026, 12, 31), 32, crew)
    client.force_login(account_admin)
    page = client.get(f"/team/rotas/{rota.pk}/?month=2027-01").content.decode()
    assert "未知" not in page
    note = "2027 年节假日安排尚未确认，按暂定日历排班"
    assert page.count('class="provisional-note"') == 1 and note in page
    assert page.count('<span class="tag tag-provisional" data-kind>工作日（暂定）</span>') == 21
    assert page.count('<span class="tag tag-provisional" data-kind>休息日（暂定）</span>') == 10
    assert page.count('data-provisional="2027"') == 31 * 3
    december = client.get(f"/team/rotas/{rota.pk}/?month=2026-12").content.decode()
    assert "provisional-note" not in december and "暂定）</span>" not in december

    printed = client.get(f"/team/rotas/{rota.pk}/print/?month=2027-01").content.decode()
    assert note in printed and printed.count('class="kind-provisional"') == 31

    r = client.get(f"/team/rotas/{rota.pk}/rota.xlsx?month=2027-01")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws["A2"].value == note
    assert [c.value for c in ws[3]][:3] == ["日期", "星期", "类型"]
    first = [c.value for c in ws[4]]
    assert first[2] == "工作日（暂定）" and first[3].endswith("08:00–20:00（暂定）")
    assert ws.freeze_panes == "D4"

    r = client.get(f"/team/rotas/{rota.pk}/rota.ics")  # the next 30 days: to 4 January
    events = Calendar.from_ical(r.content).walk("VEVENT")
    jan = [e for e in events if e.decoded("dtstart") >= datetime(2027, 1, 1, tzinfo=SH)]
    assert jan and all(str(e["summary"]).endswith("（暂定）") for e in jan)
    assert {str(e["description"]) for e in jan} == {note}
    assert not any(str(e["summary"]).endswith("（暂定）") for e in events if e not in jan)


def test_the_demo_plans_january_provisionally_in_december(db: Any) -> None:
    from govwx.console.management.commands import demo

    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=SH), tick=False):
        account = demo.seed()
        demo.seed_rota(account)
    shifts = Shift.objects.order_by("starts_at")
    assert shifts.first().starts_at.astimezone(SH) == datetime(2026, 11, 30, 8, tzinfo=SH)
    assert shifts.last().ends_at.astimezone(SH) == datetime(2027, 2, 1, 8, tzinfo=SH)
    jan = shifts.filter(starts_at__gte=datetime(2027, 1, 1, tzinfo=SH))
    assert jan.count() == 31 * 3
    assert set(jan.values_list("provisional_year", flat=True)) == {2027}
    assert not shifts.filter(starts_at__lt=datetime(2027, 1, 1, tzinfo=SH),
                             provisional_year__isnull=False).exists()  # fmt: skip
    rota = Rota.objects.get()
    start = datetime(2026, 12, 2, 10, tzinfo=SH)
    assert services.gaps(rota, start, datetime(2027, 2, 1, 8, tzinfo=SH)) == []
