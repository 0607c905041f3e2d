"""The duty rota in Chromium: the office's admin builds a rota in the console; a citizen
writes at 03:00; the operator on duty sees the alert under the bell and does not
acknowledge it; 15 minutes later the leader on duty (带班领导) has it too."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import BrowserContext, Page, expect

from govwx.console.management.commands import demo
from govwx.desk.services import take_in_pending
from govwx.team.models import Alert, Shift
from govwx.team.services import escalate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_a_case_at_three_in_the_night_reaches_the_leader_on_duty(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext], settings: Any
) -> None:
    # the browser's clock is not travelled: no cookie may expire by the server's clock
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    with time_machine.travel(datetime(2026, 11, 10, 2, 30, tzinfo=SH), tick=True) as clock:
        admin = page
        login(admin, demo_site, *demo.ADMIN)
        admin.goto(demo_site + "/team/rotas/")
        admin.fill("#rota-name", "夜间值班")
        admin.click("#create-rota")
        expect(admin.locator("h1")).to_have_text("夜间值班")
        for name, layer in (("全天值守", "operator"), ("带班", "leader")):
            admin.fill("#pattern-name", name)
            admin.select_option("#pattern-layer", layer)
            admin.fill("#pattern-start", "00:00")
            admin.fill("#pattern-hours", "24")
            admin.select_option("#pattern-days", "all")
            admin.click("#add-pattern")
            expect(admin.locator("#patterns")).to_contain_text(name)
        admin.fill("#gen-first", "2026-11-10")
        admin.fill("#gen-days", "7")
        admin.locator("#gen-operators label", has_text="运营值班员").locator("input").check()
        admin.locator("#gen-leaders label", has_text="带班领导").locator("input").check()
        admin.click("#do-generate")
        expect(admin.locator(".flash")).to_contain_text("排班已生成")
        expect(admin.locator("#now-on-duty")).to_have_text("运营值班员")
        expect(admin.locator("#now-leader")).to_have_text("带班领导")
        assert Shift.objects.filter(rota__name="夜间值班").count() == 14
        admin.screenshot(path="test-results/screenshots/rota.png", full_page=True)

        clock.move_to(datetime(2026, 11, 10, 3, 0, tzinfo=SH))
        phone = new_context().new_page()
        phone.goto(demo_site + "/sandbox/")
        phone.click("#new-follower")
        phone.click("#follow")
        expect(phone.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
        phone.fill("#text", "凌晨三点，我们楼的水管爆了，楼道全是水")
        phone.click("#send")
        expect(phone.locator("#messages .bubble.out").last).to_contain_text("您的留言已收到")
        assert take_in_pending() == (1, 0)  # what `govwx desk run` does every second

        operator = new_context().new_page()
        login(operator, demo_site, *demo.OPERATOR)
        expect(operator.locator("#bell-count")).to_have_text("1")
        operator.click("#bell")
        row = operator.locator("#alerts tbody tr").first
        expect(row).to_contain_text("水管爆了")
        expect(row).to_contain_text("值班员")
        # … and does not acknowledge it

        clock.shift(timedelta(minutes=16))
        assert escalate() == 1  # `govwx desk run` checks every second
        leader = new_context().new_page()
        login(leader, demo_site, *demo.LEADER)
        expect(leader.locator("#bell-count")).to_have_text("1")
        leader.click("#bell")
        row = leader.locator("#alerts tbody tr").first
        expect(row).to_contain_text("水管爆了")
        expect(row).to_contain_text("带班领导")
        leader.screenshot(path="test-results/screenshots/alert-leader.png", full_page=True)
        leader.locator("#alerts tbody tr").first.locator("button").click()
        expect(leader.locator("#alerts tbody tr").first).to_contain_text("已确认")
        alert = Alert.objects.get(kind="new_case")
        assert alert.acknowledged_by is not None
        assert alert.acknowledged_by.get_username() == demo.LEADER[0]
        # the chain stops: nothing goes on to the supervisors
        clock.shift(timedelta(minutes=45))
        assert escalate() == 0
