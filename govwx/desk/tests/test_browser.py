"""The desk's whole round in Chromium: a citizen asks what no rule answers on the phone
page → the case is in the inbox → the operator transfers it → the department's liaison
replies → the citizen sees the reply, rates it → the summary counts it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.console.management.commands import demo
from govwx.desk.services import take_in_pending

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_the_whole_round(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    phone = page
    phone.goto(demo_site + "/sandbox/")
    phone.click("#new-follower")
    phone.click("#follow")
    bubbles = phone.locator("#messages .bubble.out")
    expect(bubbles.last).to_contain_text("感谢关注")
    phone.fill("#text", "我家小区门口的路灯坏了一个星期了")
    phone.click("#send")
    expect(bubbles.last).to_contain_text("您的留言已收到")

    assert take_in_pending() == (1, 0)  # what `govwx desk run` does every second

    office = new_context().new_page()
    login(office, demo_site, *demo.OPERATOR)
    office.goto(demo_site + "/desk/cases/")
    office.get_by_role("link", name=re.compile("路灯坏了")).click()
    # routing gave the case to the bureau (路灯, automatic by default); the operator confirms it
    expect(office.locator("#assign-department option:checked")).to_have_text("市城市管理局")
    office.click("#do-assign")
    expect(office.locator("#case-department")).to_have_text("市城市管理局")

    dept = new_context().new_page()
    login(dept, demo_site, *demo.LIAISON)
    dept.goto(demo_site + "/desk/cases/")
    dept.get_by_role("link", name=re.compile("路灯坏了")).click()
    dept.click("#do-accept")
    expect(dept.locator("#case-status")).to_have_text("办理中")
    dept.fill("#reply-text", "已安排维修班组，今天下班前修好。")
    dept.click("#do-reply")
    expect(dept.locator("#case-status")).to_have_text("已答复")
    expect(dept.locator("[data-delivery]").last).to_have_attribute("data-delivery", "sent")

    reply = phone.locator("#messages .bubble.out", has_text="已安排维修班组")
    expect(reply).to_be_visible(timeout=10000)  # the phone page polls every 2 s
    link = re.search(r"https?://\S+/desk/rate/\S+/", reply.inner_text())
    assert link is not None
    rating = phone.context.new_page()
    rating.goto(link.group(0))
    rating.check("#score-satisfied")
    rating.fill("#comment", "很及时")
    rating.click("#submit")
    expect(rating.locator("#thanks")).to_be_visible()

    office.goto(demo_site + "/desk/summary/")
    expect(office.locator("#case-count")).to_have_text("1")
    expect(office.locator("#rate-response")).to_have_text("100.0%")
    expect(office.locator("#rate-satisfaction")).to_have_text("100.0%")
    office.screenshot(path="test-results/screenshots/desk-summary.png", full_page=True)
    dept.screenshot(path="test-results/screenshots/desk-case.png", full_page=True)
