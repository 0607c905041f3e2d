"""The menu builder in Chromium: an operator builds a menu with a sub-menu, watches the
phone preview, is refused a name that is too long with the rule named, saves, publishes,
and the sandbox (WeChat) serves the menu."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.services.models import Category, MenuVersion, Service
from govwx.wechat.client import clear_local_tokens

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_builds_and_publishes_a_menu(
    live_server: Any,
    settings: Any,
    cache_table: None,
    city_account: Account,
    django_user_model: Any,
    page: Page,
) -> None:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    settings.GOVWX_PUBLIC_URL = live_server.url
    cache.clear()
    clear_local_tokens()
    body = {
        "name": city_account.name,
        "appid": city_account.appid,
        "secret": city_account.app_secret,
        "token": city_account.token,
        "aes_key": city_account.aes_key,
        "mode": city_account.mode,
    }
    urllib.request.urlopen(
        urllib.request.Request(
            live_server.url + "/sandbox/api/accounts",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        ),
        timeout=10,
    ).close()
    assert city_account.organisation is not None
    Service.objects.create(
        organisation=city_account.organisation,
        code="SB001",
        name="社保卡补办",
        category=Category.SOCIAL_SECURITY,
    )
    user = django_user_model.objects.create_user("menuop", password="pw-menuop-1")
    add_member(city_account, user, Membership.Role.OPERATOR)

    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "menuop")
    page.fill("#id_password", "pw-menuop-1")
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()
    page.goto(live_server.url + "/services/menu/")

    # A top button opening the hub
    page.click("#add-top")
    top = page.locator("#mb-editor .mb-top").nth(0)
    top.locator(".item-name").fill("大厅")
    top.locator(".item-kind").select_option("hub")
    preview = page.locator("#pv-menu")
    expect(preview.locator(".pv-top").nth(0)).to_contain_text("大厅")
    expect(preview.locator(".pv-top").nth(0).locator(".pv-bytes")).to_have_text("6/16")

    # A second one with a sub-menu: a service and a CLICK key
    page.click("#add-top")
    parent = page.locator("#mb-editor .mb-top").nth(1)
    parent.locator(".item-name").fill("办事")
    parent.locator(".item-kind").select_option("parent")
    parent = page.locator("#mb-editor .mb-top").nth(1)
    parent.locator(".add-sub").click()
    parent = page.locator("#mb-editor .mb-top").nth(1)
    sub = parent.locator(".mb-sub").nth(0)
    sub.locator(".item-name").fill("社保卡补办")
    sub.locator(".item-kind").select_option("service")
    page.locator("#mb-editor .mb-top").nth(1).locator(".mb-sub").nth(0).locator(
        ".item-service"
    ).select_option("SB001")
    page.locator("#mb-editor .mb-top").nth(1).locator(".add-sub").click()
    sub2 = page.locator("#mb-editor .mb-top").nth(1).locator(".mb-sub").nth(1)
    sub2.locator(".item-name").fill("我要留言")
    sub2.locator(".item-key").fill("LEAVE_MSG")
    preview.locator(".pv-top").nth(1).click()
    expect(preview.locator(".pv-pop .pv-sub")).to_have_count(2)
    expect(preview.locator(".pv-pop .pv-sub").nth(0)).to_contain_text("社保卡补办")
    expect(page.locator("#pv-problems")).to_contain_text("符合微信规则")

    # A name over 16 bytes: the preview says so as it is typed, and the server refuses it
    page.locator("#mb-editor .mb-top").nth(0).locator(".item-name").fill("政务服务大厅")
    expect(preview.locator(".pv-top").nth(0).locator(".pv-error")).to_have_text("名称超过 16 字节")
    expect(preview.locator(".pv-top").nth(0).locator(".pv-bytes")).to_have_text("18/16")
    page.click("#save-draft")
    expect(page.locator("#menu-error")).to_have_text(
        "菜单名称「政务服务大厅」超过 16 字节（一级菜单，现为 18 字节） / "
        "name 「政务服务大厅」 over 16 bytes"
    )
    assert not MenuVersion.objects.exists()

    # The builder kept the menu; fix the name, save, publish
    page.locator("#mb-editor .mb-top").nth(0).locator(".item-name").fill("服务大厅")
    expect(page.locator("#pv-problems")).to_contain_text("符合微信规则")
    page.screenshot(path="/tmp/menu-builder.png", full_page=True)
    page.click("#save-draft")
    expect(page.locator(".flash")).to_contain_text("已保存草稿（版本 1）")
    page.click("#publish")
    expect(page.locator(".flash")).to_contain_text("版本 1 已发布。")
    expect(page.locator("#menu-versions tr[data-version='1']")).to_have_attribute(
        "data-status", "published"
    )

    with urllib.request.urlopen(
        f"{live_server.url}/sandbox/api/accounts/{city_account.appid}/menu", timeout=10
    ) as response:
        seen = json.loads(response.read())
    check_published(seen, live_server.url, city_account)

    # A conditional menu: the follower tags are read from WeChat by a POST (CSRF token
    # sent), queued, and the builder asks for them until they are there.
    urllib.request.urlopen(
        urllib.request.Request(
            f"{live_server.url}/sandbox/api/accounts/{city_account.appid}/tags",
            data=json.dumps({"name": "退休人员"}).encode(),
            headers={"Content-Type": "application/json"},
        ),
        timeout=10,
    ).close()
    page.goto(live_server.url + "/services/menu/")
    page.click("#add-conditional")
    expect(page.locator(".conditional-tag option")).to_have_count(1)  # 请选择 only
    page.click("#refresh-tags")
    expect(page.locator(".conditional-tag option")).to_have_count(2)
    expect(page.locator(".conditional-tag option").nth(1)).to_contain_text("退休人员")


def check_published(seen: Any, base: str, city_account: Account) -> None:
    hub = f"{base}/h/{city_account.appid}/"
    assert seen == {
        "menu": {
            "button": [
                {"type": "view", "name": "服务大厅", "url": hub, "sub_button": []},
                {
                    "name": "办事",
                    "sub_button": [
                        {
                            "type": "view",
                            "name": "社保卡补办",
                            "url": f"{hub}s/SB001/",
                            "sub_button": [],
                        },
                        {"type": "click", "name": "我要留言", "key": "LEAVE_MSG", "sub_button": []},
                    ],
                },
            ]
        },
        "menuid": "",
    }
