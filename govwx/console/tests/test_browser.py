"""The whole path as a person uses it, in Chromium: a citizen on the sandbox's phone page
and an operator in the console, against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from govwx.console.management.commands import demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def send(phone: Page, text: str) -> None:
    if phone.locator("#to-keyboard").is_visible():  # a menu shows instead of the composer
        phone.click("#to-keyboard")
    phone.fill("#text", text)
    phone.click("#send")


def test_follow_ask_change_rule_ask_again(demo_site: str, page: Page) -> None:
    phone = page
    phone.goto(demo_site + "/sandbox/")
    expect(phone.locator("#account")).to_have_value(demo.APPID)
    phone.click("#new-follower")
    phone.click("#follow")
    replies = phone.locator("#messages .bubble.out")
    expect(replies.last).to_contain_text("感谢关注示例市发布")

    send(phone, "社保")
    expect(replies.last).to_contain_text("社保查询：1. 在“示例市人社”公众号")
    expect(phone.locator("#messages .bubble.in").last).to_have_text("社保")
    shot(phone, "phone-before")

    console = phone.context.new_page()
    console.goto(demo_site + "/login/")
    console.fill("#id_username", demo.ADMIN[0])
    console.fill("#id_password", demo.ADMIN[1])
    console.click("button[type=submit]")
    expect(console.locator("body")).to_contain_text("示例市发布")
    console.goto(demo_site + "/rules/?q=社保")
    console.get_by_role("link", name="社保", exact=True).first.click()
    console.fill("#id_reply_1", "社保卡补办已全市通办：带身份证到任一社保网点，当场取卡。")
    console.click("#save")
    expect(console.locator("body")).to_contain_text("已保存")
    shot(console, "console-rules")

    phone.bring_to_front()
    send(phone, "社保")
    expect(replies.last).to_have_text("社保卡补办已全市通办：带身份证到任一社保网点，当场取卡。")
    shot(phone, "phone-after")


def test_news_card_and_menu_click(demo_site: str, page: Page) -> None:
    from govwx.accounts.models import Account
    from govwx.wechat.client import WeChatClient

    WeChatClient(Account.objects.get(appid=demo.APPID)).create_menu(
        {"button": [{"type": "click", "name": "最新通知", "key": "MENU_NEWS"}]}
    )
    page.goto(demo_site + "/sandbox/")
    page.click("#new-follower")
    page.click("#follow")
    expect(page.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    send(page, "办事指南")
    card = page.locator("#messages .news-card").last
    expect(card).to_contain_text("示例市政务服务事项办事指南")
    page.click("#to-menu")
    page.locator("#menu .menu-button", has_text="最新通知").click()
    expect(page.locator("#messages .bubble.out").last).to_contain_text("最新通知：本周六")
    shot(page, "phone-news-menu")
