"""The workload page and its exports: every figure per person and per shift, from cases
taken in through the callback, answered by named people, swept past their time limits,
on a rota generated over three days."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case
from govwx.desk.workload import Period, default_period, parse_period, workload
from govwx.desk.workload_views import human_duration, minutes
from govwx.inbox.tests.wxpeer import Peer, text_xml
from govwx.team import services as team
from govwx.team.models import Alert, Rota, Shift, ShiftPattern

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period(date(2025, 11, 1), date(2025, 11, 30))
OTHER_APPID = "wx00000000000000ff"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in November 2025 (3 November is a Monday, a working day)."""
    return datetime(2025, 11, day, hour, minute, tzinfo=SH)


@contextmanager
def clock(when: datetime) -> Iterator[None]:
    with time_machine.travel(when, tick=False):
        yield


def citizen_writes(
    client: Client, account: Account, text: str, openid: str, when: datetime, msg_id: int
) -> Case:
    """A follower's message through the signed, encrypted callback; the desk's loop takes
    it in from the stored row."""
    with clock(when):
        r = Peer(client, appid=account.appid).post(text_xml(text, openid=openid, msg_id=msg_id))
        assert r.status_code == 200
        assert services.take_in_pending() == (1, 0)
    return Case.objects.get(account=account, openid=openid)


def reply(case: Case, when: datetime, actor: Any, text: str = "您好，已收到。") -> Case:
    with clock(when):
        case.refresh_from_db()
        services.reply_to_case(case, text, revision=case.revision, actor=actor)
    case.refresh_from_db()
    return case


def ack(account: Account, subject: str, when: datetime, user: Any) -> None:
    with clock(when):
        team.acknowledge(Alert.objects.get(account=account, subject=subject), user)


@dataclass
class Scene:
    account: Account
    other: Account
    alice: Any
    bob: Any
    lead: Any
    li: Any
    admin: Any
    outsider: Any
    cases: dict[str, Case]


@pytest.fixture
def scene(
    client: Client,
    account: Account,
    other_account: Account,
    account_admin: Any,
    outsider: Any,
    django_user_model: Any,
) -> Scene:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    dept = Department.objects.create(organisation=org, name="市人社局")
    make = django_user_model.objects.create_user
    alice, bob, lead, li = make("alice"), make("bob"), make("lead"), make("li")
    add_member(account, alice, Membership.Role.OPERATOR)
    add_member(account, bob, Membership.Role.OPERATOR)
    add_member(account, lead, Membership.Role.SUPERVISOR)
    add_member(account, li, Membership.Role.LIAISON, department=dept)

    # day shifts for alice, nights for bob, the leader on duty round the clock: 3–5 Nov
    rota = Rota.objects.create(name="新媒体值班")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="日班", start=time(8), hours=12)
    ShiftPattern.objects.create(rota=rota, name="夜班", start=time(20), hours=12)
    ShiftPattern.objects.create(rota=rota, name="带班", start=time(8), hours=24, layer="leader")
    team.generate(rota, date(2025, 11, 3), 3, {"operator": [alice, bob], "leader": [lead]})

    # another account, on its own rota, at the same hours: none of it may show
    other_rota = Rota.objects.create(name="另一个县值班")
    other_rota.accounts.add(other_account)
    Shift.objects.create(
        rota=other_rota, layer="operator", person=outsider, starts_at=at(3, 8), ends_at=at(3, 20)
    )
    x = citizen_writes(client, other_account, "咨询医保", "oX", at(3, 9, 30), 900)
    ack(other_account, f"case:{x.pk}", at(3, 9, 35), outsider)
    reply(x, at(3, 9, 40), outsider)

    # Monday 3 November
    a = citizen_writes(client, account, "请问社保卡怎么补办", "oA", at(3, 9), 1)
    ack(account, f"case:{a.pk}", at(3, 9, 5), alice)
    with clock(at(3, 9, 10)):
        a = services.assign_case(a, dept, revision=a.revision, actor=alice)
    with clock(at(3, 9, 20)):
        a = services.accept_case(a, revision=a.revision, actor=li)
    a = reply(a, at(3, 9, 45), li)  # first response after 45 minutes, by the liaison
    with clock(at(3, 10)):
        a = services.resolve_case(a, revision=a.revision, actor=li)
    b = citizen_writes(client, account, "请问公积金怎么提取", "oB", at(3, 10), 2)
    b = reply(b, at(3, 12, 5), alice)  # 2 h 5 min
    d = citizen_writes(client, account, "求助：楼道的灯坏了好几天", "oD", at(3, 14), 3)
    with clock(at(3, 14, 30)):
        services.add_note(d, "已联系物业", actor=alice)
    b = reply(b, at(3, 21), bob, "补充说明")  # a second reply: not a first response
    c = citizen_writes(client, account, "咨询落户政策", "oC", at(3, 22), 4)
    ack(account, f"case:{c.pk}", at(3, 22, 30), bob)
    # a request for help is acknowledged within 4 hours: D's first response is late
    assert services.sweep(at(3, 23)) == {"warning": 0, "response_breached": 1, "breached": 0}

    # Tuesday 4 November
    c = reply(c, at(4, 9, 30), alice)  # 11 h 30 min, the night's case answered by day
    e = citizen_writes(client, account, "咨询医保报销", "oE", at(4, 10), 5)
    e = reply(e, at(4, 10, 20), alice)  # 20 min
    assert services.sweep(at(4, 12)) == {"warning": 1, "response_breached": 0, "breached": 0}

    # Wednesday 5 November: D is past its one working day
    assert services.sweep(at(5, 9)) == {"warning": 0, "response_breached": 0, "breached": 1}
    ack(account, f"sweep:{at(5, 9).isoformat()}", at(5, 9, 10), alice)
    d.refresh_from_db()
    assert d.response_breached_at == at(3, 23) and d.breached_at == at(5, 9)
    return Scene(
        account,
        other_account,
        alice,
        bob,
        lead,
        li,
        account_admin,
        outsider,
        {"A": a, "B": b, "C": c, "D": d, "E": e, "X": x},
    )


def mins(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 60


def people_table(rows: Any) -> list[tuple[Any, ...]]:
    return [
        (
            r.name,
            r.role,
            r.handled,
            r.replies,
            r.first_responses,
            mins(r.median_first_response),
            mins(r.mean_first_response),
            r.breached,
            r.response_breached,
            r.alerts_acknowledged,
            r.shifts,
        )
        for r in rows
    ]


def shifts_table(rows: Any) -> list[tuple[Any, ...]]:
    return [
        (
            r.person,
            r.pattern,
            r.layer,
            f"{r.starts_at.astimezone(SH):%d %H:%M}",
            f"{r.ends_at.astimezone(SH):%d %H:%M}",
            r.opened,
            r.first_responses,
            r.first_responses_by_person,
            mins(r.median_first_response),
            r.breached,
            r.response_breached,
            r.alerts_raised,
            r.alerts_acknowledged,
        )
        for r in rows
    ]


OPERATOR, SUPERVISOR, LIAISON, ADMIN = (
    "运营人员（值班员）",
    "督办人（带班领导）",
    "部门联络员",
    "管理员",
)
MEAN_ALICE = (20 + 125 + 690) / 3  # 278⅓ minutes


def test_it_counts_every_figure_per_person(scene: Scene) -> None:
    data = workload(scene.account, NOVEMBER)
    assert people_table(data.people) == [
        # handled A (transfer), B, C, E (replies), D (a note); D breached both limits
        ("alice", OPERATOR, 5, 3, 3, 125, MEAN_ALICE, 1, 1, 2, 3),
        ("bob", OPERATOR, 1, 1, 0, None, None, 0, 0, 1, 3),
        # the liaison: accepted, answered and resolved A
        ("li", LIAISON, 1, 1, 1, 45, 45, 0, 0, 0, 0),
        ("acctadmin", ADMIN, 0, 0, 0, None, None, 0, 0, 0, 0),
        ("lead", SUPERVISOR, 0, 0, 0, None, None, 0, 0, 0, 3),
    ]


def test_it_counts_every_figure_per_shift(scene: Scene) -> None:
    data = workload(scene.account, NOVEMBER)
    assert shifts_table(data.shifts) == [
        # person, pattern, layer, start, end, opened, first responses (all, by the person
        # on duty), median first response of the shift's cases, breaches (resolution,
        # first response), alerts (raised, acknowledged)
        ("alice", "日班", "值班员", "03 08:00", "03 20:00", 3, 2, 1, 85, 0, 0, 3, 1),
        ("lead", "带班", "带班领导", "03 08:00", "04 08:00", 4, 2, 0, 125, 0, 1, 4, 2),
        ("bob", "夜班", "值班员", "03 20:00", "04 08:00", 1, 0, 0, 690, 0, 1, 1, 1),
        ("alice", "日班", "值班员", "04 08:00", "04 20:00", 1, 2, 2, 20, 0, 0, 2, 0),
        ("lead", "带班", "带班领导", "04 08:00", "05 08:00", 1, 2, 0, 20, 0, 0, 2, 0),
        ("bob", "夜班", "值班员", "04 20:00", "05 08:00", 0, 0, 0, None, 0, 0, 0, 0),
        ("alice", "日班", "值班员", "05 08:00", "05 20:00", 0, 0, 0, None, 1, 0, 1, 1),
        ("lead", "带班", "带班领导", "05 08:00", "06 08:00", 0, 0, 0, None, 1, 0, 1, 1),
        ("bob", "夜班", "值班员", "05 20:00", "06 08:00", 0, 0, 0, None, 0, 0, 0, 0),
    ]


def test_a_period_counts_its_own_days_and_whole_shifts(scene: Scene) -> None:
    data = workload(scene.account, Period(date(2025, 11, 4), date(2025, 11, 4)))
    assert people_table(data.people) == [
        ("alice", OPERATOR, 2, 2, 2, 355, 355, 0, 0, 0, 1),
        ("acctadmin", ADMIN, 0, 0, 0, None, None, 0, 0, 0, 0),
        ("bob", OPERATOR, 0, 0, 0, None, None, 0, 0, 0, 2),
        ("lead", SUPERVISOR, 0, 0, 0, None, None, 0, 0, 0, 2),
        ("li", LIAISON, 0, 0, 0, None, None, 0, 0, 0, 0),
    ]
    # the shifts that reach into 4 November, each counted whole
    assert [(r[0], r[3], r[5]) for r in shifts_table(data.shifts)] == [
        ("lead", "03 08:00", 4),
        ("bob", "03 20:00", 1),
        ("alice", "04 08:00", 1),
        ("lead", "04 08:00", 1),
        ("bob", "04 20:00", 0),
    ]
    # a local day: 4 November 00:00 in Shanghai is 3 November 16:00 UTC
    assert Period(date(2025, 11, 4), date(2025, 11, 4)).start == datetime.fromisoformat(
        "2025-11-03T16:00:00+00:00"
    )
    assert workload(scene.account, Period(date(2025, 12, 1), date(2025, 12, 31))).shifts == []


def test_a_shift_still_to_come_is_not_listed(scene: Scene) -> None:
    # 4 November 09:00: the day shift and the leader's have begun, the night has not
    with clock(at(4, 9)):
        data = workload(scene.account, NOVEMBER)
    assert [(r[0], r[3]) for r in shifts_table(data.shifts)] == [
        ("alice", "03 08:00"),
        ("lead", "03 08:00"),
        ("bob", "03 20:00"),
        ("alice", "04 08:00"),
        ("lead", "04 08:00"),
    ]
    assert {r.name: r.shifts for r in data.people if r.shifts} == {
        "alice": 2,
        "lead": 2,
        "bob": 1,
    }


def test_shifts_off_the_hour_and_vacant_shifts(scene: Scene) -> None:
    rota = Rota.objects.get(name="新媒体值班")
    # a stand-in for 20 minutes, and a shift whose person has left (a gap)
    Shift.objects.create(
        rota=rota, layer="operator", person=scene.li, starts_at=at(3, 9, 30), ends_at=at(3, 9, 50)
    )
    Shift.objects.create(rota=rota, layer="operator", starts_at=at(5, 9), ends_at=at(5, 10))
    data = workload(scene.account, NOVEMBER)
    rows = shifts_table(data.shifts)
    assert len(rows) == 11
    # A's first response at 09:45 falls in the stand-in's minutes, and was theirs
    assert rows[2] == ("li", "", "值班员", "03 09:30", "03 09:50", 0, 1, 1, None, 0, 0, 0, 0)
    # the gap has no one on duty, so nothing "by the person on duty"; the breach at 09:00
    assert rows[-2] == ("（空缺）", "", "值班员", "05 09:00", "05 10:00", 0, 0, 0, None, 1, 0, 1, 1)
    # the other shifts, counted by the minute now, are unchanged
    assert rows[0] == ("alice", "日班", "值班员", "03 08:00", "03 20:00", 3, 2, 1, 85, 0, 0, 3, 1)
    assert rows[3] == ("bob", "夜班", "值班员", "03 20:00", "04 08:00", 1, 0, 0, 690, 0, 1, 1, 1)
    assert [(r.name, r.shifts) for r in data.people if r.name == "li"] == [("li", 1)]


def test_only_the_accounts_own_data(scene: Scene, django_user_model: Any) -> None:
    data = workload(scene.other, NOVEMBER)
    # the other account's operator answered its one case within 10 minutes on their shift
    assert people_table(data.people) == [("outsider", OPERATOR, 1, 1, 1, 10, 10, 0, 0, 1, 1)]
    assert shifts_table(data.shifts) == [
        ("outsider", "", "值班员", "03 08:00", "03 20:00", 1, 1, 1, 10, 0, 0, 1, 1)
    ]
    names = {r.name for r in workload(scene.account, NOVEMBER).people}
    assert "outsider" not in names


def test_someone_without_a_handling_role_still_counts(scene: Scene) -> None:
    # bob leaves the account: what he did stays his, shown without a role
    Membership.objects.filter(account=scene.account, user=scene.bob).delete()
    rows = {r.name: r for r in workload(scene.account, NOVEMBER).people}
    assert (rows["bob"].role, rows["bob"].handled, rows["bob"].replies) == ("—", 1, 1)


def test_durations_read_as_words_and_minutes() -> None:
    assert human_duration(timedelta(hours=2, minutes=5)) == "2 小时 5 分"
    assert human_duration(timedelta(minutes=45, seconds=59)) == "45 分"
    assert human_duration(timedelta(days=1, hours=3)) == "1 天 3 小时"
    assert human_duration(timedelta(seconds=30)) == "不到 1 分钟"
    assert human_duration(None) == "—"
    assert minutes(timedelta(minutes=125)) == 125
    assert minutes(timedelta(seconds=16700)) == 278.3
    assert minutes(None) is None


# ------------------------------------------------------------------ the period


def test_the_default_period_is_the_local_month() -> None:
    assert default_period(date(2025, 11, 20)) == NOVEMBER
    assert default_period(date(2024, 2, 10)) == Period(date(2024, 2, 1), date(2024, 2, 29))
    # 1 December 01:00 in Shanghai is still 30 November in UTC
    with clock(datetime(2025, 12, 1, 1, tzinfo=SH)):
        assert default_period() == Period(date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        (
            "2025-13-01",
            "2025-11-30",
            "日期格式不正确：2025-13-01（应为 2026-11-01 这样的格式） / "
            "not a date: '2025-13-01' (use YYYY-MM-DD)",
        ),
        (
            "2025-11-01",
            "30/11/2025",
            "日期格式不正确：30/11/2025（应为 2026-11-01 这样的格式） / "
            "not a date: '30/11/2025' (use YYYY-MM-DD)",
        ),
        (
            "2025-11-30",
            "2025-11-01",
            "结束日期早于开始日期 / the end date is before the start date",
        ),
        ("2024-01-01", "2025-01-01", "统计期最长 366 天 / a period is at most 366 days"),
    ],
)
def test_a_bad_period_is_refused_for_the_default(first: str, last: str, error: str) -> None:
    with clock(datetime(2025, 11, 20, 12, tzinfo=SH)):
        assert parse_period(first, last) == (NOVEMBER, [error])


def test_a_good_or_partial_period() -> None:
    with clock(datetime(2025, 11, 20, 12, tzinfo=SH)):
        assert parse_period("2025-11-04", "2025-11-05") == (
            Period(date(2025, 11, 4), date(2025, 11, 5)),
            [],
        )
        assert parse_period("", None) == (NOVEMBER, [])
        assert parse_period("2025-11-10", "") == (Period(date(2025, 11, 10), NOVEMBER.last), [])
        assert parse_period("2025-01-01", "2025-12-31") == (
            Period(date(2025, 1, 1), date(2025, 12, 31)),
            [],
        )


# ------------------------------------------------------------------ the page


def test_the_page_shows_both_tables_in_local_time(
    client: Client, scene: Scene, django_assert_num_queries: Any
) -> None:
    client.force_login(scene.admin)
    r = client.get("/desk/workload/", {"from": "2025-11-01", "to": "2025-11-30"})
    assert r.status_code == 200
    body = r.content.decode()
    people = r.context["people"]
    assert people[0] == [
        "alice", OPERATOR, "5", "3", "3", "2 小时 5 分", "4 小时 38 分", "1", "1", "2", "3"
    ]  # fmt: skip
    shifts = r.context["shifts"]
    assert shifts[2] == [
        "新媒体值班", "夜班", "值班员", "bob", "2025-11-03 20:00", "2025-11-04 08:00",
        "1", "0", "0", "11 小时 30 分", "0", "1", "1", "1",
    ]  # fmt: skip
    assert "1 小时 25 分" in body and "2025-11-03 08:00" in body
    assert (
        'href="/desk/workload/export.csv?from=2025-11-01&amp;to=2025-11-30&amp;table=people"'
        in (body)
    )
    assert "outsider" not in body
    assert '<a href="/desk/workload/" aria-current="page">工作量</a>' in body  # the team's sub-nav
    with django_assert_num_queries(17):  # 5 to load the person and account, 1 the bell
        client.get("/desk/workload/", {"from": "2025-11-01", "to": "2025-11-30"})
    for i in range(3):
        reply(citizen_writes(client, scene.account, "咨询", f"o-more-{i}", at(6, 9), 10 + i),
              at(6, 10), scene.alice)  # fmt: skip
    with django_assert_num_queries(17):  # the same with more cases: no query per row
        client.get("/desk/workload/", {"from": "2025-11-01", "to": "2025-11-30"})


def test_the_page_without_a_period_shows_this_month(client: Client, scene: Scene) -> None:
    client.force_login(scene.admin)
    with clock(datetime(2025, 11, 20, 12, tzinfo=SH)):
        r = client.get("/desk/workload/")
    assert r.status_code == 200 and r.context["period"] == NOVEMBER
    assert len(r.context["shifts"]) == 9


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"from": "2025-11-31", "to": "2025-11-30"}, "日期格式不正确：2025-11-31"),
        ({"from": "2025-11-30", "to": "2025-11-01"}, "结束日期早于开始日期"),
    ],
)
def test_the_page_with_a_bad_period_says_so(
    client: Client, scene: Scene, params: dict[str, str], error: str
) -> None:
    client.force_login(scene.admin)
    with clock(datetime(2025, 11, 20, 12, tzinfo=SH)):
        r = client.get("/desk/workload/", params)
    assert r.status_code == 400
    assert r.context["period"] == NOVEMBER and len(r.context["shifts"]) == 9
    body = r.content.decode()
    assert 'id="period-errors"' in body and error in body
    assert 'name="from" value="2025-11-01"' in body


# ------------------------------------------------------------------ exports


def test_the_csv_exports_read_back(client: Client, scene: Scene) -> None:
    client.force_login(scene.admin)
    period = {"from": "2025-11-01", "to": "2025-11-30"}
    r = client.get("/desk/workload/export.csv", {**period, "table": "people"})
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == (
        'attachment; filename="workload-people-20251101-20251130.csv"'
    )
    assert r.content.startswith("\ufeff".encode())  # a BOM: Excel reads the UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "姓名", "角色", "办理诉求", "答复", "首次响应", "首次响应用时（中位数）（分钟）",
        "首次响应用时（平均）（分钟）", "办结超时", "首次响应超时", "确认提醒", "值班班次",
    ]  # fmt: skip
    assert rows[1:] == [
        ["alice", OPERATOR, "5", "3", "3", "125", "278.3", "1", "1", "2", "3"],
        ["bob", OPERATOR, "1", "1", "0", "", "", "0", "0", "1", "3"],
        ["li", LIAISON, "1", "1", "1", "45", "45", "0", "0", "0", "0"],
        ["acctadmin", ADMIN, "0", "0", "0", "", "", "0", "0", "0", "0"],
        ["lead", SUPERVISOR, "0", "0", "0", "", "", "0", "0", "0", "3"],
    ]
    r = client.get("/desk/workload/export.csv", {**period, "table": "shifts"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:6] == ["值班表", "班次", "层级", "值班人员", "开始", "结束"]
    assert rows[0][9] == "本班诉求首次响应用时（中位数）（分钟）"
    assert len(rows) == 10
    assert rows[1] == [
        "新媒体值班", "日班", "值班员", "alice", "2025-11-03 08:00", "2025-11-03 20:00",
        "3", "2", "1", "85", "0", "0", "3", "1",
    ]  # fmt: skip


def test_the_excel_workbook_reads_back(client: Client, scene: Scene) -> None:
    from openpyxl import load_workbook

    client.force_login(scene.admin)
    r = client.get("/desk/workload/export.xlsx", {"from": "2025-11-01", "to": "2025-11-30"})
    assert r.status_code == 200
    assert r["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["按人员", "按班次"]
    people, shifts = book["按人员"], book["按班次"]
    assert all(cell.font.bold for cell in people[1]) and all(cell.font.bold for cell in shifts[1])
    assert people.column_dimensions["A"].width == 16
    assert people.column_dimensions["F"].width == 22
    assert shifts.column_dimensions["E"].width == 17
    values = [[c.value for c in row] for row in people.iter_rows()]
    assert values[0][5] == "首次响应用时（中位数）（分钟）"
    assert values[1] == ["alice", OPERATOR, 5, 3, 3, 125, 278.3, 1, 1, 2, 3]
    assert values[2] == ["bob", OPERATOR, 1, 1, 0, None, None, 0, 0, 1, 3]
    rows = [[c.value for c in row] for row in shifts.iter_rows()]
    assert len(rows) == 10
    assert rows[3] == [
        "新媒体值班", "夜班", "值班员", "bob", datetime(2025, 11, 3, 20), datetime(2025, 11, 4, 8),
        1, 0, 0, 690, 0, 1, 1, 1,
    ]  # fmt: skip
    assert shifts["E2"].number_format == "yyyy-mm-dd hh:mm"


@pytest.mark.parametrize(
    ("url", "params", "error"),
    [
        ("/desk/workload/export.csv", {"table": "cases"}, "table 应为 people 或 shifts"),
        ("/desk/workload/export.csv", {}, "table 应为 people 或 shifts"),
        (
            "/desk/workload/export.csv",
            {"table": "people", "from": "yesterday"},
            "日期格式不正确：yesterday",
        ),
        ("/desk/workload/export.xlsx", {"from": "2025-11-30", "to": "2025-11-01"}, "结束日期早于"),
    ],
)
def test_an_export_with_bad_input_exports_nothing(
    client: Client, scene: Scene, url: str, params: dict[str, str], error: str
) -> None:
    client.force_login(scene.admin)
    r = client.get(url, params)
    assert r.status_code == 400 and r["Content-Type"] == "text/plain; charset=utf-8"
    assert error in r.content.decode()
    assert "Content-Disposition" not in r


# ------------------------------------------------------------------ who may see it

URLS = ("/desk/workload/", "/desk/workload/export.csv?table=people", "/desk/workload/export.xlsx")


@pytest.mark.parametrize("url", URLS)
def test_anonymous_goes_to_login(client: Client, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith("/login/")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["alice", "li", "outsider"])
def test_roles_without_workload_view_are_refused(
    client: Client, scene: Scene, url: str, who: str
) -> None:
    client.force_login(getattr(scene, who))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["admin", "lead"])
def test_admins_and_supervisors_see_it(client: Client, scene: Scene, url: str, who: str) -> None:
    client.force_login(getattr(scene, who))
    assert client.get(url).status_code == 200


def test_another_accounts_admin_sees_only_theirs(
    client: Client, scene: Scene, django_user_model: Any
) -> None:
    boss = django_user_model.objects.create_user("other-admin")
    add_member(scene.other, boss, Membership.Role.ADMIN)
    client.force_login(boss)
    r = client.get("/desk/workload/export.csv", {"from": "2025-11-01", "to": "2025-11-30",
                                                  "table": "people"})  # fmt: skip
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["outsider", "other-admin"]
