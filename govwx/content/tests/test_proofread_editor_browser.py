"""Proofreading as one types, in Chromium: an editor types a sentence with a half-width
comma and sees it underlined and listed, accepts the suggestion with one click and the
underline goes; an ID number is a veto that offers its mask and no dismissal; a writer
sees 忽略 disabled and why, an admin dismisses a finding with a reason — remembered, so
the reviewer's 校对 step does not ask again. And the positions: the server's offsets
(characters) land on the right words in Quill, with an embed (one position) and a
character outside the BMP (two UTF-16 units) before them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.accounts.models import Account, AuditEvent
from govwx.content import articles, publishing, workflow
from govwx.content.models import Article, Dismissal

from .test_workflow import draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))
COMMA = "请于12月5日前报名,逾期不候。"
ID_NUMBER = "11010519491231002X"
CHECK = "/content/articles/proofread/"


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def underlined(page: Page, severity: str) -> list[str]:
    """The words underlined in the page for `severity` (CSS highlights)."""
    return page.evaluate(
        """(name) => { const h = CSS.highlights.get(name);
             return h ? [...h].map(r => r.toString()) : []; }""",
        "proof-" + severity,
    )


def test_an_editor_sees_a_slip_underlined_and_accepts_the_suggestion(
    live_server: Any, page: Page, account: Account, editor: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    login(page, base, "editor", "pw-editor")
    page.goto(base + "/content/articles/new/")
    expect(page.locator("#proof-state")).to_be_hidden()  # the first check answered
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith(CHECK) else None)
    page.fill("#id_title", "报名通知")
    page.click(".ab-block[data-type=text] .ql-editor")
    page.keyboard.type("本次培训面向全市社区工作者。")
    page.keyboard.press("Enter")
    page.keyboard.type(COMMA)

    item = page.locator("#proof-list .proof-item")
    expect(item).to_have_count(1)
    # asked once typing stopped, not at each of the 34 keys
    assert 1 <= len(asked) < 5, asked
    expect(item).to_have_attribute("data-severity", "error")
    expect(item).to_contain_text("第 1 段")
    expect(item).to_contain_text("中文语句中的逗号应使用全角形式「，」")
    assert underlined(page, "error") == [","]
    expect(page.locator("#proof-count")).to_have_text("1 处")
    # a writer may not dismiss: the button is there, disabled, and says why
    expect(item.locator(".proof-dismiss")).to_be_disabled()
    expect(item.locator(".proof-why")).to_have_text(
        "忽略校对提示须由管理员、审核操作，并说明理由；请修改文字，或请他们审阅。"
    )
    page.screenshot(path=str(SHOTS / "proofread-editor-underlined.png"), full_page=True)
    page.locator("#proofread").screenshot(path=str(SHOTS / "proofread-editor-list.png"))
    block = page.locator(".ab-block[data-type=text]")
    block.screenshot(path=str(SHOTS / "proofread-editor-block-error.png"))

    item.locator(".proof-accept").click()
    expect(page.locator(".ab-block[data-type=text] .ql-editor")).to_contain_text(
        "请于12月5日前报名，逾期不候。"
    )
    assert underlined(page, "error") == []
    expect(page.locator("#proof-ok")).to_be_visible()  # checked again: nothing left
    block.screenshot(path=str(SHOTS / "proofread-editor-block-accepted.png"))
    expect(page.locator("#proof-list .proof-item")).to_have_count(0)

    # personal data: a veto, its mask offered, no dismissal (the caret was left after
    # the accepted words: to the end first)
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(f"咨询人身份证号{ID_NUMBER}。")
    veto = page.locator("#proof-list .proof-item[data-severity=veto]")
    expect(veto).to_have_count(1)
    expect(veto).to_contain_text("含有身份证号码，发布前应删除或遮盖")
    expect(veto.locator(".proof-dismiss")).to_have_count(0)
    expect(veto.locator(".proof-veto-note")).to_have_text("否决项不能忽略，须修改文字")
    assert underlined(page, "veto") == [ID_NUMBER]
    page.screenshot(path=str(SHOTS / "proofread-editor-veto.png"), full_page=True)
    block.screenshot(path=str(SHOTS / "proofread-editor-block-veto.png"))
    veto.locator(".proof-accept").click()
    expect(page.locator(".ab-block[data-type=text] .ql-editor")).to_contain_text(
        "咨询人身份证号110105********002X。"
    )
    expect(page.locator("#proof-ok")).to_be_visible()
    assert underlined(page, "veto") == []

    # a finding in the title: the field is marked, the suggestion replaces its words
    page.fill("#id_title", "报名通知,速看")
    title = page.locator("#proof-list .proof-item[data-part=title]")
    expect(title).to_have_count(1)
    expect(page.locator("#id_title")).to_have_class("proof-flagged proof-flagged-error")
    title.locator(".proof-accept").click()
    expect(page.locator("#id_title")).to_have_value("报名通知，速看")
    expect(page.locator("#proof-ok")).to_be_visible()

    page.click("#save")
    expect(page.locator(".flash")).to_contain_text("已保存「报名通知，速看」")
    assert "报名，逾期" in Article.objects.get().html
    assert not Dismissal.objects.exists()


def test_an_admin_dismisses_a_finding_with_a_reason_and_the_reviewer_is_not_asked_again(
    live_server: Any, page: Page, new_context: Callable[..., BrowserContext],
    account: Account, editor: Any, reviewer: Any, account_admin: Any,
) -> None:  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    a = draft(account, editor, "报名通知", html=f"<p>第一段。</p><p>{COMMA}</p>")
    articles.unlock_article(a, actor=editor)  # the writer has left the editor
    login(page, base, "acctadmin", "pw-admin-1")
    page.goto(f"{base}/content/articles/{a.pk}/edit/")
    item = page.locator("#proof-list .proof-item")
    expect(item).to_have_count(1)
    assert underlined(page, "error") == [","]
    item.locator(".proof-dismiss").click()
    item.locator(".proof-confirm").click()
    expect(item.locator(".proof-reason .error")).to_have_text("请说明忽略的理由")
    assert not Dismissal.objects.exists()
    item.locator(".proof-reason-input").fill("报名系统导出的原文，保持一致")
    page.screenshot(path=str(SHOTS / "proofread-editor-dismissing.png"), full_page=True)
    item.locator(".proof-confirm").click()
    done = page.locator("#proof-list .proof-item.dismissed")
    expect(done).to_contain_text("已忽略（acctadmin：报名系统导出的原文，保持一致）")
    assert underlined(page, "error") == []
    expect(page.locator("#proof-count")).to_have_text("")
    page.locator("#proofread").screenshot(path=str(SHOTS / "proofread-editor-dismissed.png"))
    d = Dismissal.objects.get()
    assert (d.reason, d.by, d.found) == ("报名系统导出的原文，保持一致", account_admin, ",")
    assert AuditEvent.objects.filter(name="proofread.dismissed").count() == 1
    # reloaded, it stays dismissed (remembered for that paragraph)
    page.reload()
    expect(page.locator("#proof-list .proof-item.dismissed")).to_have_count(1)
    page.goto(f"{base}/content/articles/{a.pk}/")  # leave the editor: its lock goes

    # the reviewer's 校对: shown as dismissed, and the step passes
    a = workflow.submit(Article.objects.get(pk=a.pk), revision=1, actor=editor)
    other = new_context().new_page()
    login(other, base, "reviewer", "pw-reviewer")
    other.goto(f"{base}/content/articles/{a.pk}/workflow/")
    finding = other.locator("#checks .finding[data-severity=error]")
    expect(finding).to_have_attribute("data-dismissed", "1")
    expect(finding).to_contain_text("已忽略（acctadmin：报名系统导出的原文，保持一致）")
    other.screenshot(path=str(SHOTS / "proofread-workflow-dismissed.png"), full_page=True)
    other.click("#do-proofread")
    expect(other.locator(".flash")).to_contain_text("已校对，转签发")

    # approved and published with it (WeChat's end of the job recorded here)
    a = workflow.approve(Article.objects.get(pk=a.pk), revision=1, actor=account_admin)
    Article.objects.filter(pk=a.pk).update(status=Article.Status.PUBLISHING)
    assert publishing.finish(a, 0, "art-1", "https://mp.weixin.qq.com/s/1")  # on commit: marked

    # 校对统计, from the content navigation: this month's finding, by family, and the
    # error that reached the public with who dismissed it and why
    other.click("#nav-proofread-report")
    expect(other.locator("h1")).to_have_text("校对统计")
    expect(other.locator("#total-findings")).to_have_text("1")
    expect(other.locator("#total-error")).to_have_text("1")
    expect(other.locator("#total-published")).to_have_text("1")
    row = other.locator(f"#published-errors tr[data-article='{a.pk}']")
    expect(row.locator(".found")).to_have_text("「,」")
    expect(row.locator(".by")).to_contain_text("acctadmin")
    expect(row.locator(".reason")).to_have_text("报名系统导出的原文，保持一致")
    expect(other.locator("#chart canvas")).to_have_count(1)  # ECharts drew it
    other.screenshot(path=str(SHOTS / "proofread-report.png"), full_page=True)


def test_the_servers_offsets_land_on_the_words_in_quill_past_an_embed(
    live_server: Any, page: Page, account: Account, editor: Any
) -> None:
    base = live_server.url
    login(page, base, "editor", "pw-editor")
    page.goto(base + "/content/articles/new/")
    expect(page.locator("#proof-state")).to_be_hidden()  # the first check answered
    found = page.evaluate(
        """async () => {
          const html = '<p>图<img src="https://x.cn/1.png">\\u{20000}后,文</p>';
          const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
          const r = await fetch("/content/articles/proofread/", {method: "POST",
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
            body: JSON.stringify({title: "", author: "", digest: "",
                                  body: [{type: "text", html: html}]})});
          const f = (await r.json()).findings.find(f => f.text === ",");
          // a Quill that keeps pictures (the editor's blocks do not), the same content
          const holder = document.createElement("div");
          document.body.append(holder);
          const q = new Quill(holder, {formats: ["image"]});
          q.setContents([{insert: "图"}, {insert: {image: "https://x.cn/1.png"}},
                         {insert: "\\u{20000}后,文\\n"}]);
          const s = articleProofread.quillText(q);
          const span = articleProofread.spanIn(s, f);
          return {start: f.start, end: f.end, part: f.part, text: s, span: span,
                  quill: q.getText(span[0], span[1]), length: q.getLength()};
        }"""
    )
    # the server counts characters: 图 ￼ 𠀀 后 , → 4; Quill counts the embed as one
    # position and 𠀀 as two UTF-16 units → 5
    assert (found["start"], found["end"], found["part"]) == (4, 5, "body.0.html")
    assert found["text"] == "图\ufffc\U00020000后,文\n"
    assert found["span"] == [5, 1]
    assert found["quill"] == ","
    assert found["length"] == 8
