"""The service hub as a citizen uses it, in Chromium on the sandbox's phone: the demo's
published menu → the hub → a guide in two taps; 公积金 → the guide's card; a location →
the nearest office."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from govwx.console.management.commands import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_menu_hub_guide_in_two_taps_keyword_card_and_nearest_office(
    demo_site: str, page: Page
) -> None:
    from govwx.accounts.models import Account
    from govwx.services.reach import report

    account = Account.objects.get(appid=demo.APPID)
    demo.publish_demo_menu(account)  # through the WeChat API client into the sandbox
    # what govwx computes for the menu it published: every guide within two taps
    default = report(account).menus[0]
    assert (default.over_limit, default.unreachable) == ([], [])
    assert default.services["GJJ-001"].guide_taps == 2
    assert default.services["GJJ-001"].guide_path == ("便民服务", "公积金提取")
    assert default.services["SB-001"].guide_path == ("服务大厅", "社会保障卡申领")
    page.set_viewport_size({"width": 420, "height": 800})
    page.goto(demo_site + "/sandbox/")
    page.click("#new-follower")
    expect(page.locator("#follow")).to_be_enabled()
    page.click("#follow")
    expect(page.locator("#messages .bubble.out").last).to_contain_text("感谢关注")

    # tap 1: 服务大厅 in the menu bar opens the hub in the in-phone browser
    menu = page.locator("#menu")
    expect(menu.locator(".menu-item > .menu-button")).to_have_text(["服务大厅", "便民服务", "互动"])
    menu.get_by_role("button", name="服务大厅").click()
    frame = page.frame_locator("#browser-frame")
    expect(frame.locator("h1")).to_have_text("办事服务")
    expect(frame.locator(".bar-title")).to_have_text("示例市发布")
    # tap 2: a service on the hub opens its guide
    frame.get_by_role("link", name="住房公积金提取").first.click()
    expect(frame.locator("h1")).to_have_text("住房公积金提取")
    expect(frame.locator("body")).to_contain_text("申请材料")
    expect(frame.locator("body")).to_contain_text("示例市住房公积金管理中心营业部")
    expect(frame.get_by_role("link", name="在线办理")).to_have_attribute(
        "href", f"{demo_site}/sandbox/web/gjj/tiqu"
    )
    page.screenshot(path="/tmp/hub-two-taps.png")
    page.click("#browser-close")

    # 公积金 typed in the chat: the guide's news card, which opens the same guide
    page.click("#to-keyboard")
    page.fill("#text", "公积金")
    page.click("#send")
    card = page.locator("#messages .news-card").last
    expect(card).to_contain_text("住房公积金提取")
    expect(card).to_have_attribute("href", f"{demo_site}/h/{demo.APPID}/s/GJJ-001/")
    card.click()
    expect(frame.locator("h1")).to_have_text("住房公积金提取")
    page.click("#browser-close")

    # a location near the housing fund's counter: the nearest offices, nearest first
    page.click("#send-location")
    page.fill("#location-x", "34.2611")
    page.fill("#location-y", "108.9423")
    page.fill("#location-label", "钟楼")
    page.click("#location-send")
    answer = page.locator("#messages .bubble.out").last
    expect(answer).to_contain_text("离您最近的办事网点")
    expect(answer).to_contain_text("1. 示例市住房公积金管理中心营业部（430 米）")
    expect(answer).not_to_contain_text("<a")  # WeChat shows the links as links
    page.screenshot(path="/tmp/hub-nearest.png")
    answer.get_by_role("link", name="查看网点详情（可办 2 项）").first.click()
    expect(frame.locator("h1")).to_have_text("示例市住房公积金管理中心营业部")
    expect(frame.locator(".list .name")).to_have_text(["住房公积金提取", "住房公积金贷款"])
