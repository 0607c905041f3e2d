"""The article editor in Chromium: an editor writes an article with a text block and a
picture from the material library, watches the phone preview and the live checks (a
title too long is named as it is typed), saves, edits again, compares the revisions and
restores the first; a second editor opening it sees who holds the lock, and gets it once
the first has left the editor."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.content.models import Article, Material, Revision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    """What the browser sends on its own (a beacon) lands a moment later."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_an_editor_writes_previews_saves_compares_and_restores(
    live_server: Any,
    page: Page,
    new_context: Callable[..., BrowserContext],
    editor: Any,
    editor2: Any,
    picture: Material,
    department: Any,
) -> None:
    base = live_server.url
    login(page, base, "editor")
    page.goto(base + "/")
    page.click("#nav-content")
    expect(page.locator("#nav-content")).to_have_attribute("aria-current", "page")
    page.click("#new-article")
    expect(page.locator("h1")).to_have_text("写文章")

    # the title is counted against WeChat's 64 characters; over it, the check says so
    page.fill("#id_title", "长" * 33)
    expect(page.locator("#title-count")).to_have_text("33 / 32")
    expect(page.locator("#title-count")).to_have_class("count over")
    expect(page.locator("#live-problems")).to_contain_text("标题最多 32 字，现为 33 字")
    page.fill("#id_title", "东湖区明日停水")
    expect(page.locator("#title-count")).to_have_text("7 / 32")
    expect(page.locator("#pv-title")).to_have_text("东湖区明日停水")
    page.fill("#id_author", "市水务局")
    page.select_option("#id_source_department", label="市水务局")

    # a text block (Quill) and a picture block from the material library
    page.click(".ab-block[data-type=text] .ql-editor")
    page.keyboard.type("明天 9 时至 17 时，东湖区部分小区停水，请提前储水。")
    page.click("#add-bar [data-add=image]")
    image = page.locator(".ab-block[data-type=image]")
    image.locator(".pick-material").click()
    expect(page.locator("#picker")).to_be_visible()
    page.locator(f"#picker [data-material='{picture.pk}']").click()
    expect(page.locator("#picker")).to_be_hidden()
    expect(image.locator(".ab-pick img")).to_have_attribute(
        "src", f"/content/materials/{picture.pk}/file"
    )
    expect(image.locator(".ab-caption")).to_have_value("新建的水厂")  # the material's
    image.locator(".ab-caption").fill("东湖水厂检修现场")
    page.click("#cover-pick")
    page.locator(f"#picker [data-material='{picture.pk}']").click()
    expect(page.locator("#cover-title")).to_have_text("水厂")

    # the phone preview: the text and the picture as WeChat lays them out
    body = page.locator("#pv-body")
    expect(body).to_contain_text("东湖区部分小区停水")
    expect(body.locator("img")).to_have_attribute("src", f"/content/materials/{picture.pk}/file")
    page.wait_for_function("() => document.querySelector('#pv-body img').naturalWidth === 64")
    expect(body).to_contain_text("东湖水厂检修现场")
    expect(page.locator("#checks-ok")).to_be_visible()
    expect(page.locator("#pv-author")).to_have_text("市水务局")
    page.screenshot(path="/tmp/articles-editor.png", full_page=True)
    page.locator("#phone").screenshot(path="/tmp/articles-phone.png")

    # an iframe written as HTML: named before anything is sent, refused by the save,
    # and the editor comes back with everything typed (the block still in HTML)
    page.click("#add-bar [data-add=text]")
    third = page.locator(".ab-block").nth(2)
    third.locator(".ab-toggle").click()
    third.locator(".ab-source").fill('<iframe src="https://x.cn/"></iframe>')
    expect(page.locator("#live-problems")).to_contain_text(
        "第 3 段：正文不能含有内嵌网页（iframe）"
    )
    expect(third).to_have_class("ab-block has-problem")
    page.click("#save")
    expect(page.locator("#article-errors")).to_contain_text(
        "第 3 段：正文不能含有内嵌网页（iframe）"
    )
    assert not Article.objects.exists()
    expect(page.locator("#id_title")).to_have_value("东湖区明日停水")
    expect(page.locator("#cover-title")).to_have_text("水厂")
    third = page.locator(".ab-block").nth(2)
    expect(third.locator(".ab-source")).to_have_value('<iframe src="https://x.cn/"></iframe>')
    third.locator(".ab-remove").click()
    expect(page.locator("#checks-ok")).to_be_visible()

    page.click("#save")
    expect(page.locator(".flash")).to_contain_text("已保存「东湖区明日停水」（第 1 版）")
    a = Article.objects.get()
    assert a.revision == 1 and a.locked_by == editor and a.cover == picture
    assert a.source_department == department
    assert a.body[1] == {"type": "image", "material": picture.pk, "caption": "东湖水厂检修现场"}
    assert "东湖区部分小区停水" in a.body[0]["html"] and "&nbsp;" not in a.body[0]["html"]

    # edit again: a better title, a sentence more, the picture moved first
    expect(page.locator(".ab-block")).to_have_count(2)
    page.fill("#id_title", "东湖区明日停水通知")
    page.click(".ab-block[data-type=text] .ql-editor")
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("咨询电话：12345。")
    page.locator(".ab-block[data-type=image] .ab-up").click()
    expect(page.locator(".ab-block").first).to_have_attribute("data-type", "image")
    page.fill("#id_note", "补充咨询电话")
    page.click("#save")
    expect(page.locator(".flash")).to_contain_text("（第 2 版）")
    a.refresh_from_db()
    assert a.revision == 2 and a.title == "东湖区明日停水通知"
    assert [b["type"] for b in a.body] == ["image", "text"] and "12345" in a.body[1]["html"]

    # compare the revisions, then restore the first
    page.click("#article-link")
    expect(page.locator("#revision-table tr[data-revision]")).to_have_count(2)
    page.click("#compare")
    expect(page.locator(".diff .del").first).to_contain_text("东湖区明日停水")
    expect(page.locator(".diff .ins").first).to_contain_text("东湖区明日停水通知")
    expect(page.locator("#diff")).to_contain_text("咨询电话：12345。")
    page.screenshot(path="/tmp/articles-compare.png", full_page=True)
    page.go_back()
    page.locator("tr[data-revision='1'] .restore").click()
    expect(page.locator(".flash")).to_contain_text("已恢复第 1 版，保存为第 3 版。")
    expect(page.locator("#current-revision")).to_have_text("3")
    page.screenshot(path="/tmp/articles-detail.png", full_page=True)
    a.refresh_from_db()
    assert a.title == "东湖区明日停水" and Revision.objects.filter(article=a).count() == 3

    # the editor opens it again; a second editor sees who holds it, read-only
    page.click("#edit-article")
    expect(page.locator("#id_title")).to_have_value("东湖区明日停水")
    expect(page.locator("#pv-body img")).to_have_count(1)
    other = new_context().new_page()
    login(other, base, "editor2")
    other.goto(f"{base}/content/articles/{a.pk}/edit/")
    expect(other.locator("#readonly")).to_contain_text("editor 自")
    expect(other.locator("#readonly")).to_contain_text("起正在编辑这篇文章")
    expect(other.locator("#unlock")).to_have_count(0)
    expect(other.locator("#pv-title")).to_have_text("东湖区明日停水")
    other.screenshot(path="/tmp/articles-locked.png", full_page=True)

    # the first editor leaves the editor: the lock goes with them
    page.goto(base + "/content/articles/")
    expect(page.locator(f"#articles tr[data-article='{a.pk}']")).to_contain_text("草稿")
    page.screenshot(path="/tmp/articles-list.png", full_page=True)
    wait_for(lambda: Article.objects.get(pk=a.pk).locked_by_id is None)
    other.reload()
    expect(other.locator("#article-form")).to_be_visible()
    a.refresh_from_db()
    assert a.locked_by == editor2
