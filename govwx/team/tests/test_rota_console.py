"""Building and changing the rota by hand: patterns, swaps, released shifts, people who
leave, handoff notes; the console pages, the print view and the Excel sheet."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.team import services
from govwx.team.models import Alert, HandoffNote, Rota, Shift, ShiftPattern

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
BEFORE = datetime(2026, 11, 1, 12, tzinfo=SH)  # "now" in these tests: a Sunday noon


@pytest.fixture(autouse=True)
def _now() -> Any:
    with time_machine.travel(BEFORE, tick=False):
        yield


@pytest.fixture
def crew(account: Account, django_user_model: Any) -> dict[str, Any]:
    make = django_user_model.objects.create_user
    people = {n: make(n, password="pw-" + n) for n in ("zhang", "li", "wang", "chief", "boss")}
    for n in ("zhang", "li", "wang"):
        add_member(account, people[n], Membership.Role.OPERATOR)
    add_member(account, people["chief"], Membership.Role.SUPERVISOR)
    add_member(account, people["boss"], Membership.Role.ADMIN)
    return people


@pytest.fixture
def rota(account: Account, crew: dict[str, Any]) -> Rota:
    rota = services.create_rota("新媒体值班", [account], actor=crew["boss"])
    for name, start in (("早班", 0), ("中班", 8), ("晚班", 16)):
        services.add_pattern(rota, name=name, start=time(start), hours=8, actor=crew["boss"])
    services.add_pattern(
        rota, name="带班", start=time(8), hours=24, layer="leader", actor=crew["chief"]
    )
    services.generate(
        rota,
        date(2026, 11, 2),
        7,
        {"operator": [crew["zhang"], crew["li"], crew["wang"]], "leader": [crew["chief"]]},
    )
    return rota


def shift(rota: Rota, day: int, hour: int, layer: str = "operator") -> Shift:
    return Shift.objects.get(
        rota=rota, layer=layer, starts_at=datetime(2026, 11, day, hour, tzinfo=SH)
    )


def test_patterns_say_where_the_day_is_not_covered(account: Account, crew: Any) -> None:
    rota = services.create_rota("白天值班", [account], actor=crew["boss"])
    services.add_pattern(rota, name="白班", start=time(8), hours=12, days="working")
    problems = services.uncovered_hours(rota)
    assert "值班员·工作日：00:00–08:00、20:00–24:00 无班次" in problems[0]
    assert any(p.startswith("值班员·休息日：00:00–24:00") for p in problems)
    services.add_pattern(rota, name="夜班", start=time(20), hours=12)
    services.add_pattern(rota, name="休息日白班", start=time(8), hours=12, days="off")
    services.add_pattern(rota, name="带班", start=time(0), hours=24, layer="leader")
    assert services.uncovered_hours(rota) == []


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"name": " "}, "name"),
        ({"hours": 0}, "hours"),
        ({"hours": 25}, "hours"),
        ({"layer": "boss"}, "layer"),
        ({"days": "sometimes"}, "days"),
        ({"start": None}, "start"),
    ],
)
def test_a_bad_pattern_is_refused(account: Account, crew: Any, bad: Any, field: str) -> None:
    rota = services.create_rota("值班", [account])
    data = {"name": "夜班", "start": time(20), "hours": 12, "layer": "operator", "days": "all"}
    with pytest.raises(ValidationError) as info:
        services.add_pattern(rota, **{**data, **bad})
    assert field in info.value.message_dict
    assert not ShiftPattern.objects.exists()


def test_only_managers_build_rotas(account: Account, crew: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.create_rota("值班", [account], actor=crew["zhang"])
    rota = services.create_rota("值班", [account], actor=crew["chief"])
    with pytest.raises(PermissionDenied):
        services.add_pattern(rota, name="夜班", start=time(20), hours=12, actor=crew["li"])
    with pytest.raises(ValidationError):
        services.create_rota("  ", [account])
    assert Rota.objects.count() == 1


def test_a_swap_exchanges_two_shifts_and_is_audited(rota: Rota, crew: Any) -> None:
    a, b = shift(rota, 2, 0), shift(rota, 2, 8)  # zhang's early, li's middle shift
    assert (a.person, b.person) == (crew["zhang"], crew["li"])
    services.swap(a, b, actor=crew["zhang"])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.person, b.person, a.source) == (crew["li"], crew["zhang"], "swap")
    assert AuditEvent.objects.filter(name="rota.swapped").count() == 1
    # the rota still covers the week round the clock
    week = (datetime(2026, 11, 2, tzinfo=SH), datetime(2026, 11, 9, tzinfo=SH))
    assert services.gaps(rota, *week) == []


def test_a_swap_that_would_leave_a_gap_or_an_overlap_is_refused(
    rota: Rota, crew: Any, account: Account
) -> None:
    a, b = shift(rota, 2, 0), shift(rota, 2, 8)
    # a third person may not swap other people's shifts; a manager may
    with pytest.raises(PermissionDenied):
        services.swap(a, b, actor=crew["wang"])
    # li's login is disabled: li's shifts become gaps, and a swap into them is refused
    crew["li"].is_active = False
    crew["li"].save()  # login disabled: li's shifts become gaps, flagged
    b.refresh_from_db()
    assert b.person is None
    with pytest.raises(ValidationError, match="空档"):
        services.swap(a, b, actor=crew["boss"])
    # overlap: chief (leader 24 h) cannot swap into an operator shift
    leader = shift(rota, 2, 8, "leader")
    with pytest.raises(ValidationError, match="层级"):
        services.swap(a, leader, actor=crew["boss"])
    # no swap of two of one person's shifts
    c = shift(rota, 2, 16)
    with pytest.raises(ValidationError, match="同一人"):
        services.swap(a, Shift.objects.filter(rota=rota, person=crew["zhang"]).exclude(pk=a.pk)
                      .first(), actor=crew["boss"])  # fmt: skip
    # a swap that gives someone two overlapping shifts is refused and changes nothing
    extra = services.add_shift(rota, crew["wang"], a.starts_at, a.ends_at, actor=crew["boss"])
    with pytest.raises(ValidationError, match="重叠"):
        services.swap(a, c, actor=crew["boss"])  # wang would take a, where wang has `extra`
    a.refresh_from_db()
    c.refresh_from_db()
    assert (a.person, c.person) == (crew["zhang"], crew["wang"])
    assert extra.person == crew["wang"]
    assert not AuditEvent.objects.filter(name="rota.swapped").exists()


def test_a_released_shift_is_a_gap_alerted_at_once(rota: Rota, crew: Any, account: Account) -> None:
    a = shift(rota, 3, 16)
    with pytest.raises(ValidationError):
        services.release(a, "  ", actor=a.person)
    with pytest.raises(PermissionDenied):
        services.release(
            a, "病假", actor=crew["zhang"] if a.person != crew["zhang"] else crew["li"]
        )
    services.release(a, "病假", actor=a.person)
    a.refresh_from_db()
    assert a.person is None and a.note == "空缺：病假"
    alert = Alert.objects.get(kind="gap")
    assert "11-03 16:00 起 8 小时无人值班（病假）" in alert.text
    # the sweep sees the same gap and does not alert it twice
    services.check_gaps()
    assert Alert.objects.filter(kind="gap", subject=alert.subject).count() == 1
    # the leader on duty's shift released: a gap of that layer, said as such, once
    lead = shift(rota, 4, 8, "leader")
    services.release(lead, "外出开会", actor=lead.person)
    alert = Alert.objects.get(kind="gap", subject__endswith=f":leader:{lead.starts_at.isoformat()}")
    assert "11-04 08:00 起 24 小时无带班领导（外出开会）" in alert.text
    services.check_gaps()
    assert Alert.objects.filter(kind="gap", subject=alert.subject).count() == 1


def test_a_removed_staff_members_future_shifts_become_flagged_gaps(
    rota: Rota, crew: Any, account: Account
) -> None:
    wang = list(Shift.objects.filter(rota=rota, person=crew["wang"]))
    assert len(wang) == 7
    Membership.objects.get(user=crew["wang"], account=account).delete()
    assert not Shift.objects.filter(person=crew["wang"]).exists()
    vacant = Shift.objects.filter(rota=rota, person__isnull=True)
    assert vacant.count() == 7  # kept, with nobody on them: never silently dropped
    assert all(s.note == "空缺：人员已移除" for s in vacant)
    week = (datetime(2026, 11, 2, tzinfo=SH), datetime(2026, 11, 9, tzinfo=SH))
    assert len(services.gaps(rota, *week)) == 7
    assert Alert.objects.filter(kind="gap").count() == 7
    assert AuditEvent.objects.filter(name="rota.vacated").count() == 1


def test_handoff_notes(rota: Rota, crew: Any, account: Account) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 7, 50, tzinfo=SH), tick=False):
        note = services.add_handoff(rota, crew["zhang"], "  #12 水管爆裂 已转水务局，待回访  ")
    assert note.text == "#12 水管爆裂 已转水务局，待回访"
    assert note.shift == shift(rota, 2, 0)
    with pytest.raises(ValidationError):
        services.add_handoff(rota, crew["zhang"], "   ")
    with pytest.raises(ValidationError):
        services.add_handoff(rota, crew["zhang"], "字" * 2001)
    editor = type(crew["zhang"]).objects.create_user("editor1")
    add_member(account, editor, Membership.Role.EDITOR)
    with pytest.raises(PermissionDenied):
        services.add_handoff(rota, editor, "编辑不值班")
    assert HandoffNote.objects.count() == 1


def test_the_rota_pages(client: Client, rota: Rota, crew: Any, outsider: Any) -> None:
    client.force_login(crew["zhang"])
    r = client.get("/team/rotas/")
    assert r.status_code == 200 and "新媒体值班" in r.content.decode()
    r = client.get(f"/team/rotas/{rota.pk}/?month=2026-11")
    page = r.content.decode()
    assert r.status_code == 200
    assert "值班员·早班" in page and "带班领导·带班" in page
    assert 'id="generate"' not in page  # an operator does not build the rota
    # a handoff note through the page
    r = client.post(f"/team/rotas/{rota.pk}/", {"action": "handoff", "text": "交班：一切正常"})
    assert r.status_code == 302 and HandoffNote.objects.get().text == "交班：一切正常"
    # an operator cannot add patterns or generate: refused, nothing changes
    n = ShiftPattern.objects.count()
    client.post(f"/team/rotas/{rota.pk}/", {"action": "add_pattern", "name": "x", "start": "01:00",
                                            "hours": "2", "layer": "operator", "days": "all"})  # fmt: skip
    assert ShiftPattern.objects.count() == n
    # swap one's own shift through the shift page
    a, b = shift(rota, 2, 0), shift(rota, 2, 8)
    r = client.post(f"/team/rotas/{rota.pk}/shifts/{a.pk}/", {"action": "swap", "other": b.pk})
    a.refresh_from_db()
    assert a.person == crew["li"]
    # another account's person sees nothing of this rota
    client.force_login(outsider)
    assert client.get(f"/team/rotas/{rota.pk}/").status_code == 404
    assert client.get(f"/team/rotas/{rota.pk}/shifts/{a.pk}/").status_code == 404


def test_a_manager_builds_a_rota_in_the_console(
    client: Client, account: Account, crew: Any
) -> None:
    client.force_login(crew["boss"])
    r = client.post("/team/rotas/", {"name": "节假日值班", "accounts": [account.pk]})
    rota = Rota.objects.get(name="节假日值班")
    assert r.status_code == 302 and r["Location"] == f"/team/rotas/{rota.pk}/"
    url = f"/team/rotas/{rota.pk}/"
    for name, start, hours, layer in (("白班", "08:00", "12", "operator"),
                                      ("夜班", "20:00", "12", "operator"),
                                      ("带班", "08:00", "24", "leader")):  # fmt: skip
        client.post(url, {"action": "add_pattern", "name": name, "start": start, "hours": hours,
                          "layer": layer, "days": "all"})  # fmt: skip
    assert rota.patterns.count() == 3
    # bad input: the page says why and nothing is generated
    r = client.post(url, {"action": "generate", "first": "2026-10-01", "days": "0",
                          "operators": [crew["zhang"].pk]}, follow=True)  # fmt: skip
    assert "天数应为" in r.content.decode() and not Shift.objects.exists()
    r = client.post(url, {"action": "generate", "first": "2026-10-01", "days": "7",
                          "operators": [crew["zhang"].pk]}, follow=True)  # fmt: skip
    assert "没有人员" in r.content.decode() and not Shift.objects.exists()
    r = client.post(url, {"action": "generate", "first": "2026-10-01", "days": "7",
                          "operators": [crew["zhang"].pk, crew["li"].pk],
                          "leaders": [crew["chief"].pk]}, follow=True)  # fmt: skip
    assert Shift.objects.filter(rota=rota).count() == 7 * 3
    page = client.get(url + "?month=2026-10").content.decode()
    assert "国庆节" in page and "调休上班" in page  # 1 October; Saturday 10 October
    # the print view and the Excel sheet
    r = client.get(f"/team/rotas/{rota.pk}/print/?month=2026-10")
    assert r.status_code == 200 and "2026 年 10 月值班表" in r.content.decode()
    from openpyxl import load_workbook

    r = client.get(f"/team/rotas/{rota.pk}/rota.xlsx?month=2026-10")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "节假日值班 2026 年 10 月值班表"
    assert rows[1][:3] == ("日期", "星期", "类型") and "值班员·白班" in rows[1]
    first = rows[2]
    assert first[0].date() == date(2026, 10, 1) and first[1] == "周四" and first[2] == "国庆节"
    col = rows[1].index("值班员·夜班")
    assert first[col] == "li 20:00–08:00"
    assert rows[2 + 9][2] == "调休上班"  # Saturday 10 October
    assert rows[2 + 7][rows[1].index("空档")]  # 8 October: nobody planned, a gap


def test_a_manager_adds_a_shift_by_hand(client: Client, rota: Rota, crew: Any) -> None:
    client.force_login(crew["boss"])
    url = f"/team/rotas/{rota.pk}/"
    extra = {"action": "add_shift", "day": "2026-11-12", "start": "09:00", "hours": "4",
             "layer": "operator", "person": crew["boss"].pk, "note": "节前加强值守"}  # fmt: skip
    client.post(url, extra)
    added = Shift.objects.get(source="edited")
    assert added.starts_at == datetime(2026, 11, 12, 9, tzinfo=SH) and added.person == crew["boss"]
    # overlapping with the boss's own new shift, missing fields, an outsider: refused
    r = client.post(url, extra, follow=True)
    assert "重叠" in r.content.decode()
    r = client.post(url, {**extra, "hours": ""}, follow=True)
    assert "请填写日期、开始时间和时长" in r.content.decode()
    stranger = type(crew["boss"]).objects.create_user("stranger")
    r = client.post(url, {**extra, "person": stranger.pk}, follow=True)
    assert "请选择本值班表的人员" in r.content.decode()
    assert Shift.objects.filter(source="edited").count() == 1


def test_the_escalation_minutes_are_the_rotas(
    client: Client, rota: Rota, crew: Any, account: Account
) -> None:
    client.force_login(crew["boss"])
    url = f"/team/rotas/{rota.pk}/"
    r = client.post(url, {"action": "escalation", "leader_after": "0",
                          "supervisor_after": "10"}, follow=True)  # fmt: skip
    assert "升级时间应为" in r.content.decode()
    client.post(url, {"action": "escalation", "leader_after": "5", "supervisor_after": "10"})
    rota.refresh_from_db()
    assert (rota.leader_after, rota.supervisor_after) == (5, 10)
    client.force_login(crew["zhang"])  # an operator cannot change it
    client.post(url, {"action": "escalation", "leader_after": "60", "supervisor_after": "60"})
    rota.refresh_from_db()
    assert (rota.leader_after, rota.supervisor_after) == (5, 10)
    at = datetime(2026, 11, 3, 3, tzinfo=SH)
    alert = services.raise_alert(account, "new_case", "case:1", "新诉求 #1", at=at)
    assert alert is not None
    assert [u.username for u in alert.recipients.all()] == ["zhang"]  # on duty 00–08
    assert services.escalate(at + timedelta(minutes=4)) == 0
    assert services.escalate(at + timedelta(minutes=5)) == 1  # to the leader on duty
    assert services.escalate(at + timedelta(minutes=14)) == 0
    assert services.escalate(at + timedelta(minutes=15)) == 1  # to the supervisors
    alert.refresh_from_db()
    assert alert.level == 3
    assert {u.username for u in alert.recipients.all()} == {"zhang", "chief", "boss"}


def test_the_dashboard_shows_who_is_on_duty_and_the_gaps(
    client: Client, rota: Rota, crew: Any
) -> None:
    client.force_login(crew["li"])
    page = client.get("/").content.decode()
    assert 'id="duty"' in page and "无人值班" in page  # Sunday noon: the rota starts Monday
    # operators: until Monday 00:00 and after the week; leader: until Monday 08:00 and after
    assert 'data-gaps="4"' in page
    with time_machine.travel(datetime(2026, 11, 3, 9, tzinfo=SH), tick=False):
        page = client.get("/").content.decode()
    assert "无人值班" not in page
    assert "<td>li</td>" in page and "<td>chief</td>" in page  # on duty, leader on duty
    assert 'data-gaps="2"' in page


def test_gaps_name_their_layer_and_a_year_the_calendar_does_not_know(
    client: Client, rota: Rota, crew: Any
) -> None:
    client.force_login(crew["boss"])
    page = client.get(f"/team/rotas/{rota.pk}/").content.decode()
    listed = page[page.index('id="upcoming-gaps"') :].split("</div>")[0]
    assert '<li data-layer="operator">值班员：11-01 12:00 – 11-02 00:00</li>' in listed
    assert '<li data-layer="leader">带班领导：11-01 12:00 – 11-02 08:00</li>' in listed
    assert "unconfirmed-year" not in page and "年的节假日安排尚未确认" not in page
    # Near the end of the year the next 30 days reach 2027, which the calendar does not
    # know yet: the gap says that duty there can be planned on the provisional calendar.
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=SH), tick=False):
        client.force_login(crew["boss"])
        page = client.get(f"/team/rotas/{rota.pk}/").content.decode()
        home = client.get("/").content.decode()
    assert page.count('class="unconfirmed-year"') == 1
    # nothing is planned after: the gap is said to run on, not given the horizon's end
    assert '<li data-layer="operator">值班员：12-20 09:00 起（之后没有排班）</li>' in page
    assert "2027 年的节假日安排尚未确认：这段时间可先按暂定日历排班" in page
    assert "2027 年的节假日安排尚未确认，可按暂定日历排班" in home
    assert "最近 值班员 12-20 09:00" in home
    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=SH), tick=False):
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        home = client.get("/").content.decode()
        client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "The holiday arrangement of 2027 is not confirmed yet" in home


def test_a_shift_page_shows_its_history(client: Client, rota: Rota, crew: Any) -> None:
    a, b = shift(rota, 4, 0), shift(rota, 4, 8)
    services.swap(a, b, actor=crew["zhang"])
    services.override(a, crew["wang"], actor=crew["boss"], note="李休假")
    services.release(a, "王临时出差", actor=crew["wang"])
    client.force_login(crew["zhang"])
    page = client.get(f"/team/rotas/{rota.pk}/shifts/{a.pk}/").content.decode()
    history = page[page.index('id="shift-history"') :].split("</section>")[0]
    assert history.index("换班") < history.index("替班") < history.index("空出")
    assert "王临时出差" in history and "zhang" in history and "boss" in history
    other = client.get(f"/team/rotas/{rota.pk}/shifts/{b.pk}/").content.decode()
    other = other[other.index('id="shift-history"') :].split("</section>")[0]
    assert "换班" in other and "空出" not in other
