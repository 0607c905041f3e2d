"""设置 › 校对词表 in Chromium, as the demo's admin uses it: a leader added without a title
is refused in words, added with one, and the test box then flags the wrong title given
to them (the name family), marked in the text; the leader retired, the same text passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from govwx.console.management.commands import demo
from govwx.content.models import ProofEntry
from govwx.content.proofread import FAMILIES, NAME
from govwx.content.proofread import families as _families  # noqa: F401  (registers them)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))
TEXT = "副市长王建国出席会议并讲话。"


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_an_admin_adds_a_leader_and_the_test_box_flags_a_wrong_title(
    demo_site: str, page: Page
) -> None:
    assert NAME in FAMILIES  # the family this test is written against
    SHOTS.mkdir(parents=True, exist_ok=True)
    login(page, demo_site, *demo.ADMIN)
    page.goto(demo_site + "/settings/routing/")
    page.locator("#nav-proofread").click()
    expect(page.locator("h1")).to_have_text("校对词表")
    expect(page.locator("#nav-proofread")).to_have_attribute("aria-current", "page")

    leaders = page.locator("#list-leader")
    leaders.get_by_label("姓名", exact=True).fill("王建国")
    page.click("#add-leader")
    expect(leaders).to_contain_text("请填写领导的职务")
    assert not ProofEntry.objects.filter(kind=ProofEntry.Kind.LEADER).exists()

    leaders.get_by_label("姓名", exact=True).fill("王建国")
    leaders.get_by_label("职务", exact=True).fill("市长")
    page.click("#add-leader")
    expect(page.locator(".flash")).to_contain_text("已添加领导姓名职务「王建国」")
    row = leaders.locator("tr", has_text="王建国")
    expect(row).to_contain_text("市长")
    expect(row).to_contain_text("本公众号")

    page.fill("#try-text", TEXT)
    page.click("#try-submit")
    finding = page.locator('#try-findings li[data-rule="name.title"]')
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("王建国的职务是「市长」，不是「副市长」。")
    expect(finding).to_contain_text("建议：市长")
    expect(page.locator("#try-marked mark.pf-error").first).to_contain_text("副市长")
    expect(page.locator("#try-text")).to_have_value(TEXT)
    page.screenshot(path=str(SHOTS / "proofread-word-lists.png"), full_page=True)

    page.once("dialog", lambda d: d.accept())  # 停用这个词条？
    row.get_by_role("button", name="停用「王建国」").click()
    expect(page.locator(".flash")).to_contain_text("已停用领导姓名职务「王建国」")
    expect(leaders.locator("tr", has_text="王建国")).to_have_count(0)
    page.fill("#try-text", TEXT)
    page.click("#try-submit")
    expect(page.locator('#try-findings li[data-rule="name.title"]')).to_have_count(0)
