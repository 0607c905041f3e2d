"""The demo's data: what `govwx demo` seeds on a fresh database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from govwx.console.management.commands import demo
from govwx.services.catalogue import offices_for, services_for
from govwx.team.models import Shift

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calendar(db: Any) -> None:
    from govwx.workcalendar.services import forget, seed_from_package

    seed_from_package()
    forget()


def test_in_december_the_rota_plans_january_provisionally(calendar: None) -> None:
    with time_machine.travel(datetime(2026, 12, 2, 10, tzinfo=SH), tick=False):
        account = demo.seed()
        demo.seed_rota(account)
    shifts = Shift.objects.order_by("starts_at")
    assert shifts.first().starts_at.astimezone(SH) == datetime(2026, 11, 30, 8, tzinfo=SH)
    assert shifts.last().ends_at.astimezone(SH) == datetime(2027, 2, 1, 8, tzinfo=SH)
    # 2027 is not confirmed yet: January is planned on the provisional calendar
    january = shifts.filter(starts_at__gte=datetime(2027, 1, 1, tzinfo=SH))
    assert set(january.values_list("provisional_year", flat=True)) == {2027}
    now = datetime(2026, 12, 2, 10, tzinfo=SH)
    assert shifts.filter(starts_at__lte=now, ends_at__gt=now).count() == 2  # day shift, leader


def test_in_june_the_rota_covers_two_months(calendar: None) -> None:
    with time_machine.travel(datetime(2026, 6, 10, 10, tzinfo=SH), tick=False):
        account = demo.seed()
        demo.seed_rota(account)
    last = Shift.objects.order_by("-ends_at").first()
    assert last.ends_at.astimezone(SH) == datetime(2026, 8, 1, 8, tzinfo=SH)


def test_the_catalogue_is_imported_from_the_demo_spreadsheets(calendar: None) -> None:
    account = demo.seed()
    services = services_for(account)
    assert len(services) == 12 and len(offices_for(account)) == 5
    housing = next(s for s in services if s.code == "GJJ-001")
    assert housing.online_url == "http://127.0.0.1:8000/sandbox/web/gjj/tiqu"
    assert [o.code for o in housing.offices.all()] == ["GJJ-01", "GJJ-02", "ZW-01"]
    assert housing.department is not None and housing.department.name == "市住房和城乡建设局"


def test_the_county_reuses_the_city_catalogue_overrides_and_withdraws(calendar: None) -> None:
    from govwx.accounts.models import Account

    demo.seed()
    county = Account.objects.get(appid=demo.COUNTY_APPID)
    assert county.organisation is not None and county.organisation.parent is not None
    services = {s.code: s for s in services_for(county)}
    assert len(services) == 12  # 12 of the city's, less 企业开办, plus 宅基地
    assert "QY-001" not in services and services["XC-001"].name == "农村宅基地申请"
    assert services["SB-001"].name == "社会保障卡申领（县内办理）"  # the county's own version
    assert services["GJJ-001"].organisation == county.organisation.parent  # the city's
    assert {o.code for o in offices_for(county)} == {
        "ZW-01", "GJJ-01", "GJJ-02", "SB-01", "GA-01", "XZW-01", "XSB-01"
    }  # fmt: skip


def test_every_demo_service_keyword_reaches_its_guide_card(calendar: None) -> None:
    """No keyword rule of the demo stands in front of a service's guide."""
    from govwx.inbox import pipeline, runtime
    from govwx.wechat.protocol import TextMessage

    account = demo.seed()
    rt = runtime.get(account.appid)
    assert rt is not None
    for s in services_for(account):
        for keyword in s.keywords:
            msg = TextMessage("gh", "o1", 0, "text", 1, {}, content=keyword)
            decision = pipeline.decide(rt, msg)
            assert decision.handled_by == "service", (s.code, keyword, decision)
            assert decision.replies[0].data["articles"][0]["title"] == s.name, (s.code, keyword)


def test_the_county_answers_a_follow_its_menu_clicks_and_what_nothing_answers(
    calendar: None,
) -> None:
    from govwx.accounts.models import Account
    from govwx.inbox import pipeline, runtime
    from govwx.services.menu import click_answers
    from govwx.wechat.protocol import SubscribeEvent, TextMessage

    demo.seed()
    county = Account.objects.get(appid=demo.COUNTY_APPID)
    rt = runtime.get(county.appid)
    assert rt is not None
    follow = pipeline.decide(rt, SubscribeEvent("gh", "o1", 0, "event", None, {}, name="subscribe"))
    assert follow.replies[0].data["content"].startswith("感谢关注示例县发布")
    unanswered = pipeline.decide(rt, TextMessage("gh", "o1", 0, "text", 1, {}, content="路灯坏了"))
    assert unanswered.handled_by == "desk"
    assert unanswered.replies[0].data["content"].startswith("您的留言已收到")
    # every CLICK key of the demo menu the county publishes has its answer there
    with open(demo.DEMO / "menu.json", encoding="utf-8") as f:
        tree = json.load(f)
    keys = {
        leaf["key"]
        for top in tree["button"]
        for leaf in top.get("sub_button", [top])
        if leaf.get("kind") == "click"
    }
    assert keys and keys <= set(click_answers(county))
    # the keywords its welcome suggests find their guides
    for keyword, name in (
        ("社保卡", "社会保障卡申领（县内办理）"),
        ("宅基地", "农村宅基地申请"),
        ("公积金", "住房公积金提取"),
    ):
        assert keyword in follow.replies[0].data["content"]
        found = pipeline.decide(rt, TextMessage("gh", "o1", 0, "text", 2, {}, content=keyword))
        assert found.handled_by == "service", keyword
        assert found.replies[0].data["articles"][0]["title"] == name


def test_the_operators_take_days_and_nights_in_turn(calendar: None) -> None:
    with time_machine.travel(datetime(2026, 11, 10, 10, tzinfo=SH), tick=False):
        account = demo.seed()
        demo.seed_rota(account)
    day = datetime(2026, 11, 2, tzinfo=SH)
    week = Shift.objects.filter(
        layer="operator", starts_at__gte=day, starts_at__lt=day.replace(day=5)
    ).order_by("starts_at")
    names = [(s.pattern.name, s.person.username) for s in week]
    assert len(names) == 6 and len({who for _, who in names}) == 3
    # nobody works two shifts in a row, and each works days and nights
    assert all(a[1] != b[1] for a, b in zip(names, names[1:], strict=False))
    for who in ("operator", "zhiban2", "zhiban3"):
        assert {kind for kind, w in names if w == who} == {"白班", "夜班"}


def test_every_keyword_the_welcome_suggests_is_answered(calendar: None) -> None:
    """A follower who types what the city's welcome suggests is never left to the desk."""
    from govwx.inbox import pipeline, runtime
    from govwx.wechat.protocol import TextMessage

    account = demo.seed()
    rt = runtime.get(account.appid)
    assert rt is not None
    with open(demo.DEMO / "ruleset.json", encoding="utf-8") as f:
        welcome = json.load(f)["welcome"]
    suggested = welcome.split("：", 1)[1].split("……")[0].split("、")
    assert suggested == ["社保", "公积金", "户籍", "疫苗", "入学", "交通违法", "天气"]
    for keyword in suggested:
        msg = TextMessage("gh", "o1", 0, "text", 1, {}, content=keyword)
        assert pipeline.decide(rt, msg).handled_by in {"rule", "service"}, keyword


def test_it_prints_who_is_on_duty_and_the_new_case_alert_goes_to_them(
    calendar: None, settings: Any
) -> None:
    """A newcomer logs in as the person printed as on duty and sees the alert bell."""
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from govwx.accounts.models import Account
    from govwx.desk import services as desk
    from govwx.team.models import Alert
    from govwx.wechat.models import InboundMessage

    settings.GOVWX_SANDBOX = False  # no phone sandbox to register with in this test
    out = StringIO()
    at = datetime(2026, 11, 10, 10, tzinfo=SH)  # a Tuesday morning: the day shift
    with time_machine.travel(at, tick=False):
        call_command("demo", stdout=out)
        account = Account.objects.get(appid=demo.APPID)
        [line] = [x for x in out.getvalue().splitlines() if "现在值班" in x]
        operator, leader = demo.on_duty_now(account)
        assert line == (
            f"  现在值班 / on duty now: {operator}；{leader}"
            "  (新诉求提醒发给值班员 / new-case alerts go to the operator on duty)"
        )
        assert leader == "带班领导 daiban / govwx-demo（带班领导，至 08:00）"
        assert operator.endswith(" / govwx-demo（值班员，至 20:00）")
        login = operator.split(" ")[1]
        msg = InboundMessage.objects.create(
            account=account,
            openid="o-demo",
            dedup_key="m:demo",
            msg_type="text",
            content="小区路灯不亮",
            sent_at=at,
            received_at=at,
            handled_by="desk",
        )
        desk.intake(msg.pk)
        desk.announce_new_cases(at)
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE)
    assert [u.username for u in alert.recipients.all()] == [login]
    # the person printed can log in with the password printed
    assert get_user_model().objects.get(username=login).check_password("govwx-demo")


def test_the_publishing_desk_has_pictures_a_draft_information_to_verify_and_a_plan(
    calendar: None,
) -> None:
    from govwx.content.models import Article, Material, Step, Topic

    account = demo.seed()
    assert set(Material.objects.filter(account=account).values_list("caption", flat=True)) == {
        "东湖水厂新建的清水池", "市政府召开常务会议",
    }  # fmt: skip
    draft = Article.objects.get(account=account, status=Article.Status.DRAFT)
    assert draft.cover is not None and "人民路" in draft.html
    info = Article.objects.get(account=account, status=Article.Status.VERIFYING)
    step = Step.objects.get(article=info, outcome=Step.Outcome.OPEN)
    assert step.kind == Step.Kind.VERIFY and step.department == info.source_department
    assert info.source_department is not None and info.source_department.name == "市城市管理局"
    assert Topic.objects.filter(account=account).count() == 2
