"""In Chromium: the week's plan beside what citizens wrote about most; one click on
「加入选题」 plans a topic from a word, and the word is marked as planned."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account
from govwx.content.models import Topic
from govwx.desk.models import TopicCount
from govwx.desk.topics import bucket_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_a_word_citizens_wrote_becomes_a_topic(
    live_server: Any, page: Page, account: Account, account_admin: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    now = bucket_of(timezone.now())
    for word, n in (("停水", 42), ("供暖", 17), ("社保", 6)):
        TopicCount.objects.create(account=account, word=word, bucket=now, count=n)
    Topic.objects.create(account=account, title="冬季防火提示", date=timezone.localdate())
    login(page, live_server.url, "acctadmin", "pw-admin-1")
    page.goto(live_server.url + "/plan/")
    expect(page.locator("#citizens-words li")).to_have_count(3)
    expect(page.locator("#citizens-words li").first).to_contain_text("停水")
    expect(page.locator("#citizens-words li").first).to_contain_text("42")
    page.locator("li[data-word=供暖] .word-add").click()
    expect(page.locator(".flash")).to_contain_text("已加入选题「群众关注：供暖」")
    expect(page.locator("li[data-word=供暖]")).to_contain_text("已加入")
    expect(page.locator("#plan-table .topic-title")).to_have_text(
        ["冬季防火提示", "群众关注：供暖"]
    )
    page.screenshot(path=str(SHOTS / "content-plan.png"), full_page=True)
    assert Topic.objects.filter(title="群众关注：供暖", owner=account_admin).count() == 1
