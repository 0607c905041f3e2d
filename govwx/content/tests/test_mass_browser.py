"""In Chromium, against the sandbox: an operator opens a published article, mass-sends it
to a tag from the 群发 page (the quota shown first, a preview to their own WeChat), and
sees WeChat's counts once the MASSSENDJOBFINISH event has come; an article whose publish
failed shows why, and 重试 publishes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account
from govwx.content.models import Article, MassSend
from govwx.wechat.tests.test_client import Sandbox

from . import test_publishing
from .test_mass import chat, followers, published_article
from .test_publishing import (
    approved,
    history,
    run_jobs,
    schedule,
)

wx = test_publishing.wx  # the sandbox fixture, shared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_a_published_article_is_mass_sent_to_a_tag_and_its_counts_shown(
    live_server: Any,
    page: Page,
    wx: Sandbox,
    account: Account,
    operator: Any,
    editor: Any,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    east = followers(wx, account, 3, "East", tag="东湖片区")
    [west] = followers(wx, account, 1, "West")
    [me] = followers(wx, account, 1, "Op")  # the operator's own WeChat
    article = published_article(wx, account, editor)

    confirmed: list[str] = []

    def accept(dialog: Any) -> None:
        confirmed.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    login(page, base, "operator", "pw-operator-1")
    page.goto(f"{base}/content/articles/{article.pk}/")
    state = page.locator("#publishing-state")
    expect(state).to_have_attribute("data-status", "published")
    expect(page.locator("#wechat-link")).to_have_attribute("href", article.wechat_url)
    expect(page.locator("#h5-link")).to_have_attribute("href", f"/a/{article.token}/")
    page.screenshot(path=str(SHOTS / "publishing-article.png"), full_page=True)
    page.click("#mass-this")

    expect(page.locator("#quota")).to_have_text("今天还可群发 1 次")
    expect(page.locator("#ms-article")).to_have_value(str(article.pk))
    page.check("input[name=target][value=tag]")
    expect(page.locator("#tags-state")).to_contain_text("尚未从微信读取标签")
    page.click("#read-tags")
    expect(page.locator(".flash")).to_contain_text("正在从微信读取标签")
    expect(page.locator("#ms-tag option[value='100']")).to_have_text("东湖片区（3 人）")
    expect(page.locator("#ms-article")).to_have_value(str(article.pk))  # kept
    page.select_option("#ms-tag", "100")

    page.fill("#ms-to", me)
    page.click("#do-preview")
    expect(page.locator(".flash")).to_contain_text(f"预览已发送到 {me}")
    assert [e["kind"] for e in chat(wx, account, me)] == ["preview"]
    expect(page.locator("#ms-tag")).to_have_value("100")

    expect(page.locator("#quota-again")).to_have_text("今天还可群发 1 次")
    page.screenshot(path=str(SHOTS / "mass-compose.png"), full_page=True)
    page.click("#do-send")
    expect(page.locator(".flash")).to_contain_text("已提交群发")
    row = page.locator("#send-table tbody tr").first
    expect(row).to_have_attribute("data-status", "sent")
    expect(row).to_contain_text("标签：东湖片区")
    expect(row).to_contain_text("等待微信回报")
    expect(page.locator("#quota")).to_have_text("今天还可群发 0 次")

    run_jobs(wx, account)  # WeChat sends it; MASSSENDJOBFINISH comes to govwx
    page.reload()
    expect(row.locator(".sent-count")).to_have_text("3 / 3 人")
    page.screenshot(path=str(SHOTS / "mass-list.png"), full_page=True)
    for openid in east:
        assert [e["kind"] for e in chat(wx, account, openid)] == ["mass"]
    assert chat(wx, account, west) == []

    row.get_by_role("link", name="详情").click()
    expect(page.locator("#send-counts")).to_have_text(
        "目标 3 人，过滤后 3 人，成功 3 人，失败 0 人"
    )
    page.screenshot(path=str(SHOTS / "mass-detail.png"), full_page=True)
    page.click("#do-delete")
    expect(page.locator(".flash")).to_contain_text("已删除群发的图文")
    expect(page.locator("#send-status")).to_contain_text("已删除")
    assert [m[:6] for m in confirmed] == ["群发后无法撤", "删除后，粉丝"]  # asked first
    assert MassSend.objects.get().status == MassSend.Status.DELETED


def test_a_failed_publish_shows_why_and_retry_publishes_it(
    live_server: Any,
    page: Page,
    wx: Sandbox,
    account: Account,
    operator: Any,
    editor: Any,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    wx.call("POST", f"/api/accounts/{account.appid}/publish-failures", {"status": 4, "count": 1})
    a = approved(account, editor)
    schedule(a)
    run_jobs(wx, account)
    login(page, live_server.url, "operator", "pw-operator-1")
    page.goto(f"{live_server.url}/content/articles/{a.pk}/")
    expect(page.locator("#publishing-state")).to_have_attribute("data-status", "failed")
    expect(page.locator("#publishing-error")).to_have_text(
        "微信发布失败：平台审核不通过（状态 4）/ refused by the platform's review"
    )
    page.screenshot(path=str(SHOTS / "publishing-failed.png"), full_page=True)
    page.click("#publish-retry")
    expect(page.locator(".flash")).to_contain_text("已重新安排发布到微信")
    expect(page.locator("#publishing-state")).to_have_attribute("data-status", "publishing")
    run_jobs(wx, account)
    page.reload()
    expect(page.locator("#publishing-state")).to_have_attribute("data-status", "published")
    assert Article.objects.get(pk=a.pk).wechat_url
    assert [h["origin"] for h in history(wx, account)] == ["publish"]
