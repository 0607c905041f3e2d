"""A missing year of the calendar: the years found missing, the alert (once per account
and year, to its admins and supervisors), the console's banner, and the calendar pages
(the years, a year's preview and confirmation) for each kind of person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.desk import calendar_watch
from govwx.desk.models import Case
from govwx.team.models import Alert, Layer, Rota, Shift
from govwx.workcalendar.models import CalendarYear, SpecialDay
from govwx.workcalendar.signals import year_confirmed
from govwx.workcalendar.tests.notices import NOTICE_2026, NOTICE_2027

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 12, 5, 10, tzinfo=SH)
BANNER = "2027 年节假日安排尚未录入：截止时间为暂定"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    calendar_watch.forget()
    yield
    calendar_watch.forget()


def member(account: Account, name: str, role: str, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(name, password="pw-" + name)
    add_member(account, user, role)
    return user


def provisional_case(account: Account, year: int, openid: str = "o-1") -> Case:
    return Case.objects.create(
        account=account,
        openid=openid,
        case_type="consultation",
        subject="社保",
        opened_at=TODAY,
        first_response_due=TODAY,
        resolve_due=TODAY,
        provisional_year=year,
    )


def provisional_shift(account: Account, year: int, person: Any) -> Shift:
    rota = Rota.objects.create(name="值班表")
    rota.accounts.add(account)
    start = datetime(year, 1, 4, 9, tzinfo=SH)
    return Shift.objects.create(
        rota=rota,
        layer=Layer.OPERATOR,
        person=person,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        provisional_year=year,
    )


# ------------------------------------------------------------------ missing years


def test_next_year_is_missing_from_1_november_local_time() -> None:
    # 2026-10-31 23:59 in Shanghai is 15:59 UTC; 2026-11-01 00:00 is 16:00 UTC on the 31st
    assert calendar_watch.missing_years(datetime(2026, 10, 31, 23, 59, tzinfo=SH)) == []
    assert calendar_watch.missing_years(datetime(2026, 11, 1, 0, 0, tzinfo=SH)) == [2027]


def test_the_years_provisional_rows_assumed_are_missing(account: Account, operator: Any) -> None:
    provisional_case(account, 2028)
    provisional_shift(account, 2029, operator)
    assert calendar_watch.missing_years(datetime(2026, 6, 1, tzinfo=SH)) == [2028, 2029]
    CalendarYear.objects.create(year=2028, source="x", confirmed=True)
    assert calendar_watch.missing_years(datetime(2026, 6, 1, tzinfo=SH)) == [2029]
    assert calendar_watch.provisional_counts(account) == {
        2028: calendar_watch.Provisional(cases=1),
        2029: calendar_watch.Provisional(shifts=1),
    }


# ------------------------------------------------------------------ the alert


@pytest.fixture
def watchers(
    account: Account,
    other_account: Account,
    account_admin: Any,
    operator: Any,
    django_user_model: Any,
) -> dict[str, Any]:
    return {
        "admin": account_admin,
        "operator": operator,
        "supervisor": member(account, "leader", Membership.Role.SUPERVISOR, django_user_model),
        "other_admin": member(
            other_account, "otheradmin", Membership.Role.ADMIN, django_user_model
        ),
    }


def test_the_alert_is_raised_once_per_account_and_year_from_1_november(
    account: Account, other_account: Account, watchers: dict[str, Any]
) -> None:
    provisional_case(account, 2027)
    with time_machine.travel(datetime(2026, 10, 31, 23, 59, tzinfo=SH), tick=False):
        CalendarYear.objects.create(year=2027, source="—", confirmed=False)
        Case.objects.update(provisional_year=None)
        assert calendar_watch.check_calendar() == 0
    Case.objects.update(provisional_year=2027)
    with time_machine.travel(datetime(2026, 11, 1, 0, 0, tzinfo=SH), tick=False):
        assert calendar_watch.check_calendar() == 2
        assert calendar_watch.check_calendar() == 0  # idempotent
    alerts = {a.account_id: a for a in Alert.objects.filter(kind=Alert.Kind.CALENDAR)}
    assert set(alerts) == {account.pk, other_account.pk}
    mine = alerts[account.pk]
    assert mine.subject == "calendar:2027"
    assert mine.text == "2027 年节假日安排尚未确认，截止时间为暂定"
    assert mine.link == "/calendar/year/?year=2027"
    assert mine.detail.startswith("本公众号有 1 件诉求的截止时间、0 个班次按暂定日历计算")
    assert set(mine.recipients.all()) == {watchers["admin"], watchers["supervisor"]}
    assert list(alerts[other_account.pk].recipients.all()) == [watchers["other_admin"]]
    assert "此后截止时间落在 2027 年的诉求" in alerts[other_account.pk].detail


def test_no_alert_on_31_october_without_provisional_rows(watchers: dict[str, Any]) -> None:
    with time_machine.travel(datetime(2026, 10, 31, 23, 59, tzinfo=SH), tick=False):
        assert calendar_watch.check_calendar() == 0
    assert not Alert.objects.exists()


# ------------------------------------------------------------------ the banner


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_banner_shows_to_admins_and_supervisors_while_a_year_is_missing(
    account: Account, watchers: dict[str, Any]
) -> None:
    with time_machine.travel(TODAY, tick=False):
        for role in ("admin", "supervisor"):
            home = logged_in(watchers[role]).get("/").content.decode()
            assert 'hx-get="/calendar/banner/"' in home, role
            body = logged_in(watchers[role]).get("/calendar/banner/").content.decode()
            assert BANNER in body and 'href="/calendar/year/?year=2027"' in body
        assert (
            'hx-get="/calendar/banner/"'
            not in logged_in(watchers["operator"]).get("/").content.decode()
        )
        assert logged_in(watchers["operator"]).get("/calendar/banner/").status_code == 403
        CalendarYear.objects.create(year=2027, source="x", confirmed=True)
        assert (
            BANNER in logged_in(watchers["admin"]).get("/calendar/banner/").content.decode()
        )  # cached
        calendar_watch.forget()
        body = logged_in(watchers["admin"]).get("/calendar/banner/").content.decode()
        assert body.strip() == ""


# ------------------------------------------------------------------ the pages


def test_the_years_page(account: Account, watchers: dict[str, Any]) -> None:
    provisional_case(account, 2027)
    provisional_shift(account, 2027, watchers["operator"])
    with time_machine.travel(TODAY, tick=False):
        r = logged_in(watchers["admin"]).get("/calendar/")
        assert r.status_code == 200
        body = r.content.decode()
        assert '<tr data-year="2027" class="year-missing">' in body
        row = body.split('data-year="2027"')[1].split("</tr>")[0]
        assert ">未录入<" in row
        assert '<td class="num">1</td> <td class="num">1</td>' in " ".join(row.split())
        assert "录入</a>" in row
        assert "chinesecalendar 1.11.0" in body.split('data-year="2026"')[1].split("</tr>")[0]
        supervisor = logged_in(watchers["supervisor"]).get("/calendar/").content.decode()
        assert "录入</a>" not in supervisor.split('data-year="2027"')[1].split("</tr>")[0]
        assert logged_in(watchers["operator"]).get("/calendar/").status_code == 403


def post_notice(client: Client, action: str, text: str = NOTICE_2027, source: str = "") -> Any:
    return client.post(
        "/calendar/year/?year=2027",
        {"year": "2027", "text": text, "source": source, "action": action},
    )


def test_an_admin_previews_then_confirms_a_year(account: Account, watchers: dict[str, Any]) -> None:
    heard: list[int] = []

    def receiver(sender: Any, year: int, **kwargs: Any) -> int:
        heard.append(year)
        return 3

    year_confirmed.connect(receiver, dispatch_uid="test-page")
    admin = logged_in(watchers["admin"])
    try:
        with time_machine.travel(TODAY, tick=False):
            r = admin.get("/calendar/year/")  # the first missing year
            assert r.status_code == 200 and r.context["year"] == 2027
            assert "只有管理员" not in r.content.decode()
            r = post_notice(admin, "preview")
            body = r.content.decode()
            assert r.status_code == 200
            assert (
                '<td class="cal-holiday" data-date="2027-01-01" title="元旦">1<span class="cal-xiu">休</span>'
                in body
            )
            assert (
                '<td class="cal-workday" data-date="2027-02-20" title="春节">20<span class="cal-ban">班</span>'
                in body
            )
            assert '<td class="cal-weekend" data-date="2027-01-09">' in body
            assert 'id="confirm"' in body
            assert not CalendarYear.objects.filter(year=2027).exists()  # a preview stores nothing
            r = post_notice(admin, "confirm", source="国办发明电〔2026〕9号")
            assert r.status_code == 302 and r["Location"] == "/calendar/year/?year=2027"
            page = admin.get(r["Location"]).content.decode()
    finally:
        year_confirmed.disconnect(dispatch_uid="test-page")
    assert heard == [2027]
    assert "已确认 2027 年节假日安排（来源：国办发明电〔2026〕9号）" in page
    assert "来源：国办发明电〔2026〕9号，确认于 2026-12-05 10:00" in page
    assert 'id="notice-form"' not in page
    assert CalendarYear.objects.get(year=2027).confirmed
    assert SpecialDay.objects.filter(date__year=2027).count() == 34


def test_the_message_counts_what_the_receivers_recomputed(
    account: Account, watchers: dict[str, Any]
) -> None:
    from govwx.desk.calendar_watch.views import _confirmed_message
    from govwx.workcalendar.services import Entered

    row = CalendarYear(year=2027, source="通知", confirmed=True)
    assert _confirmed_message(2027, Entered(row, {"desk": 12, "team": 3})) == (
        "已确认 2027 年节假日安排（来源：通知）。已按新日历重新计算：12 件诉求的截止时间、3 个班次。"
    )
    assert _confirmed_message(2027, Entered(row, {"desk": 0})).endswith(
        "没有需要重新计算的暂定截止时间。"
    )


def test_errors_are_listed_and_nothing_is_stored(
    account: Account, watchers: dict[str, Any]
) -> None:
    admin = logged_in(watchers["admin"])
    before = (SpecialDay.objects.count(), CalendarYear.objects.count(), AuditEvent.objects.count())
    with time_machine.travel(TODAY, tick=False):
        r = post_notice(admin, "preview", NOTICE_2026)
        assert r.status_code == 400
        body = r.content.decode()
        assert "这是 2026 年的通知，正在录入的是 2027 年" in body
        assert 'id="confirm"' not in body
        r = post_notice(admin, "confirm", NOTICE_2026, source="x")  # a forged confirm
        assert r.status_code == 400
        r = post_notice(admin, "confirm", NOTICE_2027, source="")  # no source
        assert r.status_code == 400 and "请注明来源" in r.content.decode()
    assert (
        SpecialDay.objects.count(),
        CalendarYear.objects.count(),
        AuditEvent.objects.count(),
    ) == before


def test_a_supervisor_reads_and_cannot_confirm(account: Account, watchers: dict[str, Any]) -> None:
    leader = logged_in(watchers["supervisor"])
    with time_machine.travel(TODAY, tick=False):
        body = leader.get("/calendar/year/?year=2027").content.decode()
        assert "只有管理员可以录入节假日安排。" in body and 'id="notice-form"' not in body
        assert post_notice(leader, "confirm", source="x").status_code == 403
        assert logged_in(watchers["operator"]).get("/calendar/year/").status_code == 403
        assert leader.get("/calendar/year/?year=1899").status_code == 404
        assert leader.get("/calendar/year/?year=abc").status_code == 404
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_confirmed_year_shows_its_days(account: Account, watchers: dict[str, Any]) -> None:
    body = logged_in(watchers["supervisor"]).get("/calendar/year/?year=2026").content.decode()
    assert "chinesecalendar 1.11.0" in body
    assert '<td class="cal-holiday" data-date="2026-02-23" title="春节">' in body
    assert '<td class="cal-workday" data-date="2026-02-14" title="春节">' in body


def test_the_page_in_english(account: Account, watchers: dict[str, Any]) -> None:
    admin = logged_in(watchers["admin"])
    with translation.override("zh-hans"), time_machine.travel(TODAY, tick=False):
        admin.post("/i18n/setlang/", {"language": "en", "next": "/"})
        body = admin.get("/calendar/year/?year=2027").content.decode()
        banner = admin.get("/calendar/banner/").content.decode()
    assert "Holiday arrangement 2027" in body and "Preview" in body and "预览" not in body
    assert "2027 holiday arrangement not entered yet: deadlines are provisional" in banner


def test_confirming_a_year_someone_just_confirmed_says_who(
    account: Account, watchers: dict[str, Any], django_user_model: Any
) -> None:
    from govwx.workcalendar import notice, services

    other = member(account, "admin2", Membership.Role.ADMIN, django_user_model)
    got = notice.parse(NOTICE_2027, 2027)
    with time_machine.travel(TODAY, tick=False):
        services.enter_year(2027, got.periods, got.workdays, "国办发明电〔2026〕9号", actor=other)
        r = post_notice(logged_in(watchers["admin"]), "confirm", source="重复")
    assert r.status_code == 400
    assert (
        "2027 年已于 2026-12-05 10:00 由 admin2 确认（来源：国办发明电〔2026〕9号）"
        in r.content.decode()
    )
    assert CalendarYear.objects.get(year=2027).source == "国办发明电〔2026〕9号"
