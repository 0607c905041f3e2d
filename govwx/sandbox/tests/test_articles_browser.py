"""The phone page's articles, in Chromium: a mass-sent article arrives as a card, opens as
WeChat shows it (title, author, account, date, the content in a sandboxed frame where no
script runs), takes a like and a 在看 and gives them back; the history lists it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.sandbox import jobs, mass, material, publishing, services

from .conftest import register
from .mediafiles import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_follower_reads_and_likes_an_article(live_server: Any, page: Page) -> None:
    account = register()
    follower = services.create_follower(account, "oReader000000000000000000001", "小王")
    services.follow(follower)
    thumb = material.add(account, "thumb", picture(size=(120, 90)), "cover.jpg")
    draft = publishing.add_draft(
        account,
        {
            "articles": [
                {
                    "title": "示例市开展冬季供暖检查",
                    "author": "市发布",
                    "content": (
                        "<p>本市今日起开展冬季供暖设施安全检查。</p>"
                        '<p><img src="x" onerror="document.title=\'pwned\'"></p>'
                        "<script>document.title='pwned'</script>"
                    ),
                    "thumb_media_id": thumb.media_id,
                }
            ]
        },
    )
    mass.send_all(
        account,
        {
            "filter": {"is_to_all": True},
            "msgtype": "mpnews",
            "mpnews": {"media_id": draft.media_id},
        },
        live_server.url,
    )
    jobs.run_due(account, everything=True)

    page.goto(live_server.url + "/sandbox/")
    card = page.get_by_test_id("article-card").first
    expect(card).to_contain_text("示例市开展冬季供暖检查")
    card.click()
    view = page.get_by_test_id("article")
    expect(view).to_be_visible()
    expect(page.get_by_test_id("article-title")).to_have_text("示例市开展冬季供暖检查")
    expect(page.get_by_test_id("article-author")).to_have_text("市发布")
    expect(page.get_by_test_id("article-account")).to_have_text("示例市发布")
    expect(page.get_by_test_id("article-date")).to_have_text(
        publishing.Publication.objects.get()
        .created_at.astimezone(mass.SHANGHAI)
        .strftime("%Y-%m-%d %H:%M")
    )
    body = page.frame_locator("[data-testid=article-body]")
    expect(body.locator("p").first).to_have_text("本市今日起开展冬季供暖设施安全检查。")
    assert page.get_attribute("[data-testid=article-body]", "sandbox") == (
        "allow-popups allow-popups-to-escape-sandbox"
    )
    assert page.title() != "pwned"
    expect(page.get_by_test_id("article-reads")).to_have_text("阅读 1")

    like = page.get_by_test_id("article-like")
    like.click()
    expect(like).to_have_text("赞 1")
    expect(like).to_have_attribute("aria-pressed", "true")
    like.click()
    expect(like).to_have_text("赞 0")
    page.get_by_test_id("article-wow").click()
    expect(page.get_by_test_id("article-wow")).to_have_text("在看 1")
    page.get_by_test_id("article-close").click()
    expect(view).to_be_hidden()

    page.get_by_test_id("open-history").click()
    listed = page.get_by_test_id("history-list").get_by_test_id("article-card")
    expect(listed).to_have_count(1)
    listed.click()
    expect(page.get_by_test_id("article-reads")).to_have_text("阅读 2")
    expect(page.get_by_test_id("article-wow")).to_have_attribute("aria-pressed", "true")
