"""In Chromium: a colleague mistypes her password ten times and is told in words that
logins are paused; the account's admin sees it at 设置 › 登录锁定, lifts it, and she logs
in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.conftest import make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_a_lockout_is_told_shown_to_the_admin_and_lifted(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    account: Account = make_account()
    zhang = django_user_model.objects.create_user("zhang", password="pw-zhang-1", first_name="张敏")
    add_member(account, zhang, Membership.Role.OPERATOR)
    boss = django_user_model.objects.create_user("boss", password="pw-boss-1")
    add_member(account, boss, Membership.Role.ADMIN)
    base = live_server.url

    for _ in range(10):
        log_in(page, base, "zhang", "wrong")
    log_in(page, base, "zhang", "pw-zhang-1")
    alert = page.locator("p.error[role=alert]")
    expect(alert).to_contain_text("登录失败次数过多")
    expect(alert).to_contain_text("设置 › 登录锁定")
    expect(page.locator("#id_username")).to_have_value("zhang")
    shot(page, "login-locked")

    admin = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    log_in(admin, base, "boss", "pw-boss-1")
    admin.goto(base + "/settings/lockouts/")
    row = admin.locator('#lockouts tr[data-username="zhang"]')
    expect(row).to_contain_text("张敏")
    expect(row).to_contain_text("已锁定，至")
    expect(admin.locator("nav.subnav")).to_contain_text("登录锁定")
    shot(admin, "settings-lockouts")
    admin.click("#lift-zhang")
    expect(admin.locator("body")).to_contain_text("已解除 zhang 的登录锁定")
    expect(admin.locator("#lockouts")).to_contain_text("本公众号的成员最近没有登录失败")
    shot(admin, "settings-lockouts-lifted")

    log_in(page, base, "zhang", "pw-zhang-1")
    expect(page.locator("body")).to_contain_text("示例市发布")
    expect(page).not_to_have_url(base + "/login/")
