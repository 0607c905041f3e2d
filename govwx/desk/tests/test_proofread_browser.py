"""In Chromium: an operator answers a citizen with a mobile number in the reply, the
case page stops it and says why, with the reply kept in the box; the operator takes the
number out and sends, and the citizen's phone shows the reply."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.console.management.commands import demo
from govwx.desk.models import CaseMessage
from govwx.desk.services import take_in_pending
from govwx.wechat.models import OutboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MOBILE = "13812345678"


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_a_reply_with_a_mobile_number_is_stopped_then_fixed_and_sent(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    phone = page
    phone.goto(demo_site + "/sandbox/")
    phone.click("#new-follower")
    phone.click("#follow")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    phone.fill("#text", "我家楼下的井盖丢了，很危险")
    phone.click("#send")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("您的留言已收到")
    assert take_in_pending() == (1, 0)

    office = new_context().new_page()
    login(office, demo_site, *demo.OPERATOR)
    office.goto(demo_site + "/desk/cases/")
    office.get_by_role("link", name=re.compile("井盖丢了")).click()
    typed = f"已通知维修班组，师傅电话 {MOBILE}，可直接联系。"
    office.fill("#reply-text", typed)
    office.click("#do-reply")

    stopped = office.locator("#textcheck-refused")
    expect(stopped).to_contain_text("没有发送：校对发现以下问题。")
    expect(stopped).to_contain_text(
        f"【否决】答复：含有手机号码，发布前应删除或遮盖（《个人信息保护法》）：「{MOBILE}」，"
        "建议：138****5678"
    )
    expect(office.locator("#textcheck-confirm")).to_have_count(0)
    expect(office.locator("#reply-text")).to_have_value(typed)
    expect(office.locator("#case-status")).not_to_have_text("已答复")
    office.screenshot(path="test-results/screenshots/desk-reply-stopped.png", full_page=True)
    assert (
        OutboundMessage.objects.count(),
        CaseMessage.objects.filter(direction="out").count(),
    ) == (0, 0)

    office.fill("#reply-text", "已通知维修班组，今天下班前补上井盖；如有急事请拨打 12345 热线。")
    office.click("#do-reply")
    expect(office.locator("#case-status")).to_have_text("已答复")
    expect(office.locator("#textcheck-refused")).to_have_count(0)
    expect(office.locator("[data-delivery]").last).to_have_attribute("data-delivery", "sent")

    reply = phone.locator("#messages .bubble.out", has_text="今天下班前补上井盖")
    expect(reply).to_be_visible(timeout=10000)  # the phone page polls every 2 s
    expect(phone.locator("#messages")).not_to_contain_text(MOBILE)


def test_an_error_is_sent_anyway_and_an_admin_dismisses_one_in_a_rule(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    phone = page
    phone.goto(demo_site + "/sandbox/")
    phone.click("#new-follower")
    phone.click("#follow")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    phone.fill("#text", "小区路灯不亮")
    phone.click("#send")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("您的留言已收到")
    assert take_in_pending() == (1, 0)

    office = new_context().new_page()
    login(office, demo_site, *demo.OPERATOR)
    office.goto(demo_site + "/desk/cases/")
    office.get_by_role("link", name=re.compile("路灯不亮")).click()
    office.fill("#reply-text", "您好,已安排维修。")  # a half-width comma: an error
    office.click("#do-reply")
    expect(office.locator("#textcheck-refused")).to_contain_text("【错误】答复：中文语句中的逗号")
    office.screenshot(path="test-results/screenshots/desk-reply-confirm.png", full_page=True)
    office.click("#textcheck-confirm")
    expect(office.locator("#case-status")).to_have_text("已答复")
    expect(phone.locator("#messages .bubble.out", has_text="已安排维修")).to_be_visible(
        timeout=10000
    )

    admin = new_context().new_page()
    login(admin, demo_site, *demo.ADMIN)
    admin.goto(demo_site + "/rules/new/")
    admin.fill("#id_name", "井盖")
    admin.fill("#id_keywords", "井盖")
    admin.fill("#id_reply_1", "井盖丢失请拨打12345,我们马上处理。")
    admin.click("#save")
    expect(admin.locator("#textcheck-refused")).to_contain_text("没有保存：校对发现以下问题。")
    admin.click("#textcheck-dismiss")  # no reason yet: asked for one
    expect(admin.locator("#textcheck-extra")).to_have_text("请填写忽略的理由")
    admin.fill("#textcheck-reason", "热线号码后紧跟文字，按原稿")
    admin.screenshot(path="test-results/screenshots/rule-dismiss.png", full_page=True)
    admin.click("#textcheck-dismiss")
    expect(admin.locator(".flash")).to_contain_text("已创建规则“井盖”")
