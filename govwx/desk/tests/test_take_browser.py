"""In Chromium, what a new office tripped on: the operator takes a case (领取) and the
page says so and names her; her reply is signed with her name; resolving it clears the
alert; the editor who opens the desk gets the console's own page naming who may."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.console.management.commands import demo
from govwx.desk.services import announce_new_cases, take_in_pending
from govwx.team.models import Alert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("GOVWX_SCREENSHOTS", "")


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_take_reply_resolve_and_a_page_the_role_may_not_open(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext]
) -> None:
    phone = page
    phone.goto(demo_site + "/sandbox/")
    phone.click("#new-follower")
    phone.click("#follow")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    phone.fill("#text", "楼下的烧烤店每天半夜还很吵，能不能管一管")
    phone.click("#send")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("您的留言已收到")
    assert take_in_pending() == (1, 0)
    announce_new_cases()
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE)

    office = new_context().new_page()
    login(office, demo_site, *demo.OPERATOR)
    office.goto(demo_site + "/desk/cases/")
    office.get_by_role("link", name=re.compile("烧烤店")).click()
    expect(office.locator("#case-handler")).to_have_text("—")
    office.click("#do-take")
    expect(office.locator(".flash-success")).to_have_text("已领取，由您办理")
    expect(office.locator("#case-handler")).to_have_text("运营值班员")
    expect(office.locator("#case-status")).to_have_text("办理中")
    office.fill("#reply-text", "已联系城管夜间巡查，请您留意。")
    office.click("#do-reply")
    expect(office.locator(".flash-success")).to_have_text("已答复群众")
    expect(office.locator("#conversation .author").last).to_have_text("运营值班员")
    shot(office, "case-taken")
    office.click("#do-resolve")
    expect(office.locator(".flash-success")).to_have_text("已办结")
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None

    # the account's admin oversees its alerts: settled with the case, by whom
    admin = new_context().new_page()
    login(admin, demo_site, *demo.ADMIN)
    admin.goto(demo_site + "/team/alerts/")
    row = admin.locator(f'tr[data-alert="{alert.pk}"]')
    expect(row).to_contain_text("烧烤店")
    expect(row).to_contain_text("已确认 · 运营值班员")
    shot(admin, "alerts")

    editor = new_context().new_page()
    login(editor, demo_site, "bianji", demo.LEADER[1])
    response = editor.goto(demo_site + "/desk/cases/")
    assert response is not None and response.status == 403
    expect(editor.locator("h1")).to_have_text("您的角色不能打开这个页面")
    expect(editor.locator("#forbidden-roles")).to_contain_text(
        "管理员、运营人员（值班员）、部门联络员、督办人（带班领导）"
    )
    expect(editor.locator(".mainnav")).to_be_visible()
    shot(editor, "forbidden")
