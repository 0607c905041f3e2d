"""The demo's rota for January seen in Chromium in December, before the State Council's
2027 arrangement is confirmed: every day has its provisional kind, and the page says so."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account
from govwx.console.management.commands import demo
from govwx.team.models import Rota

from .test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")


def test_the_january_rota_is_provisional_in_december(
    demo_site: str, page: Page, settings: Any
) -> None:
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    with time_machine.travel(datetime(2026, 12, 5, 10, tzinfo=SH), tick=True):
        demo.seed_rota(Account.objects.get(appid=demo.APPID))
        rota = Rota.objects.get()
        login(page, demo_site, *demo.ADMIN)
        page.goto(f"{demo_site}/team/rotas/{rota.pk}/?month=2027-01")
        note = page.locator(".provisional-note")
        expect(note).to_have_count(1)
        expect(note).to_contain_text("2027 年节假日安排尚未确认，按暂定日历排班")
        expect(page.locator("#month")).not_to_contain_text("未知")
        expect(page.locator('tr[data-day="2027-01-01"] [data-kind]')).to_have_text("工作日（暂定）")
        expect(page.locator('tr[data-day="2027-01-02"] [data-kind]')).to_have_text("休息日（暂定）")
        expect(page.locator(".shift-provisional")).to_have_count(31 * 3)
        expect(page.locator("#gap-count")).to_have_text("0")
        page.set_viewport_size({"width": 1280, "height": 1100})
        page.locator("#month").screenshot(path="/tmp/rota-jan.png")
