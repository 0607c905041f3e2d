"""The sandbox's phone in Chromium (the platform driven over HTTP only): the published
menu as WeChat shows it, its taps sent as WeChat's events to govwx, pages opened in the
in-phone browser, a location picked, a tagged follower's conditional menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from govwx.console.management.commands import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def publish(site: str) -> None:
    from govwx.accounts.models import Account
    from govwx.wechat.client import WeChatClient

    WeChatClient(Account.objects.get(appid=demo.APPID)).create_menu(
        {
            "button": [
                {
                    "name": "办事服务",
                    "sub_button": [
                        {"type": "click", "name": "最新通知", "key": "MENU_NEWS"},
                        {"type": "view", "name": "服务大厅", "url": f"{site}/h/{demo.APPID}/"},
                        {"type": "view", "name": "政府网站", "url": "https://www.gov.cn/"},
                    ],
                },
                {"type": "location_select", "name": "附近网点", "key": "MENU_NEARBY"},
                {"type": "click", "name": "我要投诉", "key": "MENU_COMPLAINT"},
            ]
        }
    )


def test_menu_taps_send_events_open_the_in_phone_browser_and_pick_a_location(
    demo_site: str, page: Page
) -> None:
    from govwx.wechat.models import InboundMessage

    publish(demo_site)
    page.set_viewport_size({"width": 420, "height": 780})
    page.goto(demo_site + "/sandbox/")
    page.click("#new-follower")
    expect(page.locator("#follow")).to_be_enabled()
    menu = page.locator("#menu")
    expect(menu.locator(".menu-item > .menu-button")).to_have_count(3)

    # following loads the menu again; that answer is held back until the follower has
    # switched to the keyboard, and a menu arriving late keeps the mode they chose
    held: list[Route] = []
    page.route("**/menu?openid=*", lambda route: held.append(route))
    page.click("#follow")
    expect(page.locator("#messages .bubble.out").last).to_contain_text("感谢关注")

    # WeChat opens on the menu bar; ⌨ switches to the composer and back
    expect(menu.locator(".menu-item > .menu-button")).to_have_text(
        ["办事服务", "附近网点", "我要投诉"]
    )
    expect(page.locator("#text")).to_be_hidden()
    page.click("#to-keyboard")
    expect(page.locator("#text")).to_be_visible()
    expect(menu).to_be_hidden()
    assert held
    for route in held:
        with page.expect_response(route.request.url):
            route.continue_()
    page.unroute("**/menu?openid=*")
    page.evaluate("() => new Promise((done) => setTimeout(done, 50))")
    expect(page.locator("#text")).to_be_visible()
    page.click("#to-menu")
    expect(menu).to_be_visible()

    # a sub-menu pops up above its button; its item sends CLICK and the reply shows
    submenu = menu.locator(".submenu")
    expect(submenu).to_be_hidden()
    menu.get_by_role("button", name="办事服务").click()
    expect(submenu).to_be_visible()
    expect(submenu.locator(".menu-button")).to_have_text(["最新通知", "服务大厅", "政府网站"])
    page.screenshot(path="/tmp/phone-menu.png")
    submenu.get_by_role("menuitem", name="最新通知").click()
    expect(submenu).to_be_hidden()
    expect(page.locator("#messages .bubble.out").last).to_contain_text("最新通知：本周六")
    expect(page.locator("#messages .note").last).to_have_text("点击菜单：MENU_NEWS")

    # a VIEW item on govwx's own site opens inside the phone
    menu.get_by_role("button", name="办事服务").click()
    submenu.get_by_role("menuitem", name="服务大厅").click()
    browser = page.locator("#browser")
    expect(browser).to_be_visible()
    expect(page.locator("#browser-title")).to_have_text("服务大厅")
    frame = page.frame_locator("#browser-frame")
    expect(frame.locator("body")).to_contain_text("示例市发布")
    expect(page.locator("#messages .note").last).to_contain_text(f"/h/{demo.APPID}/")
    page.screenshot(path="/tmp/phone-browser.png")
    page.click("#browser-close")
    expect(browser).to_be_hidden()

    # another site's page is named, with a link to a new tab, and not loaded in the phone
    menu.get_by_role("button", name="办事服务").click()
    submenu.get_by_role("menuitem", name="政府网站").click()
    expect(page.locator("#browser-external")).to_be_visible()
    expect(page.locator("#browser-url")).to_have_text("https://www.gov.cn/")
    expect(page.locator("#browser-open")).to_have_attribute("href", "https://www.gov.cn/")
    expect(page.locator("#browser-frame")).to_be_hidden()
    page.click("#browser-close")

    # location_select: a preset place of the demo city, then a free latitude and longitude
    menu.get_by_role("button", name="附近网点").click()
    expect(page.locator("#location-picker")).to_be_visible()
    page.locator("#places button", has_text="钟楼广场").click()
    expect(page.locator("#location-picker")).to_be_hidden()
    expect(page.locator("#messages .note").last).to_have_text("发送位置：钟楼广场")
    page.click("#to-keyboard")
    page.click("#send-location")
    page.fill("#location-x", "34.25")
    page.fill("#location-y", "108.95")
    page.fill("#location-label", "南门")
    page.click("#location-send")
    expect(page.locator("#messages .bubble.in").last).to_have_text("[位置] 南门")

    events = list(
        InboundMessage.objects.filter(account__appid=demo.APPID)
        .exclude(event="subscribe")
        .order_by("id")
        .values_list("msg_type", "event", "payload__EventKey")
    )
    assert events == [
        ("event", "CLICK", "MENU_NEWS"),
        ("event", "VIEW", f"{demo_site}/h/{demo.APPID}/"),
        ("event", "VIEW", "https://www.gov.cn/"),
        ("event", "location_select", "MENU_NEARBY"),
        ("location", "", None),
    ]
    selected = InboundMessage.objects.get(event="location_select").payload["SendLocationInfo"]
    assert selected == {
        "Location_X": "34.2611",
        "Location_Y": "108.9423",
        "Scale": "15",
        "Label": "钟楼广场",
        "Poiname": "钟楼",
    }
    located = InboundMessage.objects.get(msg_type="location").payload
    assert (located["Location_X"], located["Location_Y"], located["Label"]) == (
        "34.25",
        "108.95",
        "南门",
    )


def test_a_tagged_follower_sees_the_conditional_menu_and_its_view_carries_the_menuid(
    demo_site: str, page: Page
) -> None:
    from govwx.accounts.models import Account
    from govwx.wechat.client import WeChatClient
    from govwx.wechat.models import InboundMessage

    publish(demo_site)
    driver = f"{demo_site}/sandbox/api/accounts/{demo.APPID}"
    made = page.request.post(f"{driver}/tags", data={"name": "企业"})
    assert made.status == 201, made.text()
    tag_id = made.json()["id"]
    client = WeChatClient(Account.objects.get(appid=demo.APPID))
    menuid = client.add_conditional_menu(
        {
            "button": [
                {"type": "view", "name": "企业开办", "url": f"{demo_site}/sandbox/web/qiye"},
                {"type": "click", "name": "最新通知", "key": "MENU_NEWS"},
            ],
            "matchrule": {"tag_id": str(tag_id)},
        }
    )
    page.goto(demo_site + "/sandbox/")
    page.click("#new-follower")
    page.click("#follow")
    expect(page.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    tagged = page.locator("#follower").input_value()
    top = page.locator("#menu .menu-item > .menu-button")
    expect(top).to_have_text(["办事服务", "附近网点", "我要投诉"])
    tagging = page.request.post(f"{driver}/followers/{tagged}/tags", data={"tag_id": tag_id})
    assert tagging.ok, tagging.text()

    page.click("#new-follower")  # another follower: the default menu
    expect(page.locator("#follower option")).to_have_count(2)
    expect(page.locator("#follower")).not_to_have_value(tagged)
    expect(top).to_have_text(["办事服务", "附近网点", "我要投诉"])
    page.select_option("#follower", tagged)  # back to the tagged one: the menu reloads
    expect(top).to_have_text(["企业开办", "最新通知"])
    top.filter(has_text="企业开办").click()
    expect(page.frame_locator("#browser-frame").locator("body")).to_be_visible()
    expect(page.locator("#browser-title")).to_have_text("企业开办")
    page.click("#browser-close")
    expect(page.locator("#messages .note").last).to_contain_text("/sandbox/web/qiye")
    view = InboundMessage.objects.get(openid=tagged, event="VIEW").payload
    assert (view["EventKey"], view["MenuId"]) == (f"{demo_site}/sandbox/web/qiye", menuid)


def test_the_buttons_wait_for_the_account_and_the_follower(demo_site: str, page: Page) -> None:
    """Until the accounts and the followers are loaded nothing can be created or followed
    (a tap there would go nowhere, or to a follower that is not chosen yet)."""
    held: list[Route] = []
    page.route("**/sandbox/api/accounts", lambda route: held.append(route))
    page.goto(demo_site + "/sandbox/")
    expect(page.locator("#new-follower")).to_be_disabled()
    expect(page.locator("#follow")).to_be_disabled()
    expect(page.locator("#unfollow")).to_be_disabled()
    assert len(held) == 1
    page.route("**/followers", lambda route: held.append(route))
    held[0].continue_()
    page.unroute("**/sandbox/api/accounts")
    expect(page.locator("#new-follower")).to_be_enabled()
    # a follower is created while the account's followers are still being asked for
    page.click("#new-follower")
    expect(page.locator("#follower option")).to_have_count(0)
    expect(page.locator("#follow")).to_be_disabled()
    for route in held[1:]:
        route.continue_()
    page.unroute("**/followers")
    expect(page.locator("#follower option")).to_have_count(1)
    expect(page.locator("#follow")).to_be_enabled()
    page.click("#follow")
    expect(page.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    expect(page.locator("#unfollow")).to_be_enabled()
