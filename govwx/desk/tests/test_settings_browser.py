"""The desk's settings in Chromium, as an account's admin uses them: a routing rule added
and tried in the test box (its rule, department and type shown), a time limit changed and
its preview on the holiday calendar following; a canned reply with variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect

from govwx.accounts.models import Account
from govwx.console.management.commands import demo
from govwx.desk.models import Case, RoutingRule, TimeLimit
from govwx.desk.services import Limits, intake
from govwx.desk.settings_services import preview
from govwx.wechat.models import InboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def shown(at: object) -> str:
    return timezone.localtime(at).strftime("%-m月%-d日 %H:%M")  # type: ignore[arg-type]


def test_an_admin_adds_a_rule_tries_it_and_changes_a_time_limit(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, demo_site, *demo.ADMIN)
    page.goto(demo_site + "/")
    page.get_by_role("link", name="设置").first.click()
    page.goto(demo_site + "/settings/routing/")
    expect(page.locator("#mode-auto")).to_be_checked()  # automatic routing, the default

    # an empty keyword is refused, in words, and nothing is added
    before = RoutingRule.objects.count()
    page.select_option("#id_department", label="市城市管理局")
    page.click("#save-rule")
    expect(page.locator("#rule-form")).to_contain_text("关键词不能为空")
    assert RoutingRule.objects.count() == before

    page.fill("#id_keyword", "积水")
    page.select_option("#id_case_type", label="求助")
    page.select_option("#id_department", label="市城市管理局")
    page.click("#save-rule")
    expect(page.locator(".flash")).to_contain_text("已添加分办规则「积水」")
    row = page.locator("#routing-rules tr", has_text="积水")
    expect(row).to_contain_text("求助")
    expect(row).to_contain_text("市城市管理局")

    page.fill("#try-text", "解放路下立交桥积水很深，车开不过去了")
    page.click("#try-submit")
    expect(page.locator("#try-outcome")).to_have_attribute("data-outcome", "rule")
    expect(page.locator("#try-rule")).to_have_text("积水")
    expect(page.locator("#try-department")).to_have_text("市城市管理局")
    expect(page.locator("#try-type")).to_have_text("求助")
    expect(page.locator("#try-outcome")).to_contain_text("将自动转办")
    page.screenshot(path=str(SHOTS / "settings-routing.png"), full_page=True)

    page.fill("#try-text", "请问图书馆几点开门")
    page.click("#try-submit")
    expect(page.locator("#try-outcome")).to_have_attribute("data-outcome", "norule")
    expect(page.locator("#try-why")).to_contain_text("消息中没有任何规则的关键词")

    page.get_by_role("link", name="办理时限").first.click()
    expect(page.locator("h1")).to_have_text("办理时限")
    complaint = page.locator("#limit-complaint")
    default = preview(Limits(1, "working_days", 10, "working_days"))
    expect(page.locator("#preview-complaint")).to_contain_text("今天 16:00 收到的投诉")
    expect(page.locator("#preview-complaint .due-resolve")).to_have_text(shown(default.resolve.at))
    expect(page.locator("#calendar-link")).to_have_attribute("href", "/calendar/")

    # zero is refused and nothing is saved
    complaint.get_by_label("投诉：办结时限").fill("0")
    page.click("#save-complaint")
    expect(complaint).to_contain_text("办结时限至少为 1 工作日")
    assert not TimeLimit.objects.exists()

    complaint.get_by_label("投诉：办结时限").fill("3")
    page.click("#save-complaint")
    expect(page.locator(".flash")).to_contain_text("已保存「投诉」的办理时限")
    changed = preview(Limits(1, "working_days", 3, "working_days"))
    assert changed.resolve.at < default.resolve.at
    expect(page.locator("#preview-complaint .due-resolve")).to_have_text(shown(changed.resolve.at))
    saved = TimeLimit.objects.get(case_type="complaint")
    assert (saved.resolution, saved.resolution_unit) == (3, "working_days")
    page.screenshot(path=str(SHOTS / "settings-time-limits.png"), full_page=True)

    page.get_by_role("link", name="快捷回复").first.click()
    page.fill("#id_title", "已转办")
    page.fill("#id_text", "{姓名}您好")
    page.click("#save-reply")
    expect(page.locator("#reply-form")).to_contain_text("未知的变量 {姓名}")
    page.fill("#id_text", "{昵称}您好，您的诉求（编号 {诉求编号}）已转{部门}办理，请耐心等待。")
    page.click("#save-reply")
    expect(page.locator(".flash")).to_contain_text("已添加快捷回复「已转办」")
    page.screenshot(path=str(SHOTS / "settings-replies.png"), full_page=True)

    # on a case, the picker fills the reply box with the variables for that case
    case = take_in_one("下水道井盖丢了，晚上很危险")
    assert case.department is not None and case.department.name == "市城市管理局"
    page.goto(f"{demo_site}/desk/cases/{case.pk}/")
    page.select_option("#canned", label="已转办")
    expect(page.locator("#reply-text")).to_have_value(
        f"市民朋友您好，您的诉求（编号 {case.pk}）已转市城市管理局办理，请耐心等待。"
    )
    page.screenshot(path=str(SHOTS / "settings-canned-on-case.png"), full_page=True)

    # the leader on duty (a supervisor) reads the settings and changes nothing
    leader = new_context().new_page()
    login(leader, demo_site, *demo.LEADER)
    leader.goto(demo_site + "/settings/time-limits/")
    expect(leader.locator("#preview-complaint .due-resolve")).to_have_text(
        shown(changed.resolve.at)
    )
    expect(leader.locator("#save-complaint")).to_have_count(0)
    expect(leader.locator("#read-only")).to_have_text("只读：您可以查看，只有管理员可以修改。")
    leader.goto(demo_site + "/settings/routing/")
    expect(leader.locator("#routing-rules")).to_contain_text("积水")
    expect(leader.locator("#rule-form")).to_have_count(0)
    expect(leader.locator("#mode-current")).to_contain_text("自动转办")
    leader.screenshot(path=str(SHOTS / "settings-routing-readonly.png"), full_page=True)


def take_in_one(text: str) -> Case:
    now = timezone.now()
    account = Account.objects.get(appid=demo.APPID)
    msg = InboundMessage.objects.create(
        account=account, openid="oBrowser1", dedup_key="browser:1", msg_type="text",
        content=text, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip
    return intake(msg.pk)
