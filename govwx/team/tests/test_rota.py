"""The duty rota over the 2026 National Day holiday: holiday duty from the calendar,
overlaps refused, gaps found, overrides audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.team import services
from govwx.team.models import Rota, Shift, ShiftPattern

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rota(account: Account) -> Rota:
    rota = Rota.objects.create(name="新媒体值班")
    rota.accounts.add(account)
    # working days: a day shift in the office and a night watch; days off: two 12-hour
    # shifts; a leader on duty every day
    ShiftPattern.objects.create(rota=rota, name="白班", start=time(8), hours=12, days="working")
    ShiftPattern.objects.create(rota=rota, name="夜班", start=time(20), hours=12, days="all")
    ShiftPattern.objects.create(rota=rota, name="节假日白班", start=time(8), hours=12, days="off")
    ShiftPattern.objects.create(rota=rota, name="带班", start=time(8), hours=24, layer="leader")
    return rota


@pytest.fixture
def people(django_user_model: Any) -> dict[str, list[Any]]:
    make = django_user_model.objects.create_user
    return {"operator": [make(f"op{i}") for i in range(3)], "leader": [make("leader1")]}


def test_holiday_duty_follows_the_2026_arrangement(rota: Rota, people: Any) -> None:
    # 20 September (Sunday) is a make-up working day; 1–7 October are off;
    # 10 October (Saturday) is a make-up working day
    services.generate(rota, date(2026, 9, 19), 23, people)

    def day_pattern(day: date) -> str:
        start = datetime.combine(day, time(8), SH)
        return Shift.objects.get(rota=rota, layer="operator", starts_at=start).pattern.name

    assert day_pattern(date(2026, 9, 19)) == "节假日白班"  # Saturday
    assert day_pattern(date(2026, 9, 20)) == "白班"  # Sunday, make-up working day
    assert {day_pattern(date(2026, 10, d)) for d in range(1, 8)} == {"节假日白班"}
    assert day_pattern(date(2026, 10, 8)) == "白班"
    assert day_pattern(date(2026, 10, 10)) == "白班"  # Saturday, make-up working day
    assert day_pattern(date(2026, 10, 11)) == "节假日白班"
    # round the clock, both layers: no gap in the 23 days
    start = datetime(2026, 9, 19, 8, tzinfo=SH)
    end = datetime(2026, 10, 12, 8, tzinfo=SH)
    assert services.gaps(rota, start, end) == []
    assert services.gaps(rota, start, end, layer="leader") == []
    assert services.on_duty(rota, datetime(2026, 10, 3, 3, tzinfo=SH)) != []
    assert AuditEvent.objects.filter(name="rota.generated").count() == 1


def test_overlaps_are_refused_and_nothing_is_written(rota: Rota, people: Any) -> None:
    with pytest.raises(ValidationError, match="重叠"):
        # the same person as operator and as 24-hour leader on duty
        services.generate(
            rota,
            date(2026, 10, 1),
            2,
            {"operator": people["operator"][:1], "leader": people["operator"][:1]},
        )
    assert not Shift.objects.exists()
    services.generate(rota, date(2026, 10, 1), 2, people)
    with pytest.raises(ValidationError, match="重叠"):
        services.generate(rota, date(2026, 10, 2), 1, people)  # the same days again
    assert Shift.objects.count() == 2 * 3  # holiday day + night + leader, two days


def test_gaps_overrides_and_people_who_leave(
    rota: Rota, people: Any, django_user_model: Any
) -> None:
    services.generate(rota, date(2026, 11, 2), 1, people)  # Monday
    day = datetime(2026, 11, 2, tzinfo=SH)
    # nobody before 08:00 on the first day, and after the night watch ends
    found = services.gaps(rota, day, day.replace(day=4))
    assert [
        (g.starts_at.astimezone(SH).hour, g.ends_at.astimezone(SH).strftime("%d %H")) for g in found
    ] == [(0, "02 08"), (8, "04 00")]
    # a person leaves: their shift becomes a gap, flagged, not dropped
    night = Shift.objects.get(pattern__name="夜班")
    Shift.objects.filter(pk=night.pk).update(person=None)
    assert any(g.starts_at == night.starts_at for g in services.gaps(rota, day, day.replace(day=4)))
    stand_in = django_user_model.objects.create_user("standin")
    services.override(night, stand_in, note="替班")
    night.refresh_from_db()
    assert (night.person, night.source) == (stand_in, "override")
    assert AuditEvent.objects.filter(name="rota.override").count() == 1
    # the stand-in cannot also take the 24-hour leader shift, which overlaps the night
    leader = Shift.objects.get(layer="leader")
    with pytest.raises(ValidationError):
        services.override(leader, stand_in)
    leader.refresh_from_db()
    assert leader.person == people["leader"][0]


def test_the_rota_as_ics_reads_back(
    client: Any, rota: Rota, people: Any, operator: Any, outsider: Any
) -> None:
    from icalendar import Calendar

    services.generate(rota, date(2026, 10, 1), 2, people)
    start = datetime(2026, 10, 1, tzinfo=SH)
    cal = Calendar.from_ical(services.rota_ics(rota, start, datetime(2026, 10, 3, tzinfo=SH)))
    events = sorted(cal.walk("VEVENT"), key=lambda e: (e.decoded("dtstart"), str(e["summary"])))
    assert len(events) == 6
    first = events[0]
    assert first.decoded("dtstart") == datetime(2026, 10, 1, 8, tzinfo=SH)
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(hours=24)
    assert "带班" in str(first["summary"]) and "leader1" in str(first["summary"])
    # over HTTP: members of the rota's account only
    with time_machine.travel(datetime(2026, 9, 30, 12, tzinfo=SH)):
        client.force_login(operator)
        r = client.get(f"/team/rotas/{rota.pk}/rota.ics")
        assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
        assert len(Calendar.from_ical(r.content).walk("VEVENT")) == 6
        client.force_login(outsider)
        assert client.get(f"/team/rotas/{rota.pk}/rota.ics").status_code == 404


def test_gaps_in_the_next_30_days_are_alerted_once(
    rota: Rota, people: Any, account: Account
) -> None:
    from govwx.team.models import Alert

    services.generate(rota, date(2026, 11, 2), 2, people)  # Monday and Tuesday only
    now = datetime(2026, 11, 2, 9, tzinfo=SH)
    # from Wednesday 08:00 to the horizon: no operator, and no leader on duty
    assert services.check_gaps(now) == 2
    assert services.check_gaps(now) == 0  # once
    operator, leader = Alert.objects.filter(kind="gap").order_by("pk")
    assert operator.account == account
    # the gaps run to the end of the 30 days looked at: no length is made up for them
    assert operator.text == "新媒体值班：11-04 08:00 起无人值班（之后没有排班）"
    assert leader.text == "新媒体值班：11-04 08:00 起无带班领导（之后没有排班）"


def test_a_gap_between_planned_shifts_has_its_length(rota: Rota, people: Any) -> None:
    from govwx.team.models import Alert

    services.generate(rota, date(2026, 11, 2), 2, people)  # Monday and Tuesday
    services.generate(rota, date(2026, 11, 6), 2, people)  # Friday and Saturday
    services.check_gaps(datetime(2026, 11, 2, 9, tzinfo=SH))
    texts = set(Alert.objects.filter(kind="gap").values_list("text", flat=True))
    assert "新媒体值班：11-04 08:00 起 48 小时无人值班" in texts
    assert "新媒体值班：11-04 08:00 起 48 小时无带班领导" in texts


def test_a_gap_in_a_year_the_calendar_does_not_know_says_so(
    rota: Rota, people: Any, account: Account
) -> None:
    from govwx.team.models import Alert

    services.generate(rota, date(2026, 12, 28), 4, people)  # to 1 January 08:00
    now = datetime(2026, 12, 28, 9, tzinfo=SH)
    assert services.check_gaps(now) == 2
    texts = sorted(Alert.objects.filter(kind="gap").values_list("text", flat=True))
    assert texts == [
        "新媒体值班：01-01 08:00 起无人值班（之后没有排班；2027 年节假日安排尚未确认，可按暂定日历排班）",
        "新媒体值班：01-01 08:00 起无带班领导（之后没有排班；2027 年节假日安排尚未确认，可按暂定日历排班）",
    ]
