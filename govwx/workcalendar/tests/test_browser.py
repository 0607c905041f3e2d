"""An admin enters next year's holiday arrangement in Chromium: the banner, the notice
pasted, the twelve-month preview, the confirmation."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.workcalendar.models import CalendarYear

from .notices import NOTICE_2027

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def test_an_admin_pastes_previews_and_confirms_a_year(
    live_server: Any, page: Page, account_admin: Any
) -> None:
    from govwx.desk import calendar_watch
    from govwx.workcalendar.services import seed_from_package

    seed_from_package()  # transactional tests start with empty tables
    calendar_watch.forget()
    CalendarYear.objects.filter(year=2027).delete()
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "acctadmin")
    page.fill("#id_password", "pw-admin-1")
    page.click("button[type=submit]")
    banner = page.locator(".calendar-banner")
    expect(banner).to_contain_text("2027 年节假日安排尚未录入：截止时间为暂定")
    banner.get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text("2027 年节假日安排")

    page.fill("#id_text", NOTICE_2027)
    page.click("#preview")
    new_year = page.locator('#year-grid td[data-date="2027-01-01"]')
    expect(new_year).to_have_class("cal-holiday")
    expect(new_year).to_have_attribute("title", "元旦")
    expect(page.locator('#year-grid td[data-date="2027-02-20"]')).to_contain_text("班")
    expect(page.locator('#year-grid td[data-date="2027-01-09"]')).to_have_class("cal-weekend")
    expect(page.locator("#periods")).to_contain_text("元旦")
    expect(page.locator("#notice-errors")).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path="/tmp/calendar.png", full_page=True)

    page.fill("#id_source", "国办发明电〔2026〕9号（测试）")
    page.click("#confirm")
    expect(page.locator(".flash")).to_contain_text("已确认 2027 年节假日安排")
    expect(page.locator("#year-status")).to_contain_text("已确认")
    expect(page.locator("#year-status")).to_contain_text("国办发明电〔2026〕9号（测试）")
    expect(page.locator(".calendar-banner")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "calendar-confirmed.png"), full_page=True)
    assert CalendarYear.objects.get(year=2027).confirmed
