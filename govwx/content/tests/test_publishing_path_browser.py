"""The whole publishing path in Chromium, as the people of an office use it, against the
sandbox playing WeChat over HTTP:

1. a department's liaison uploads a picture to the material library, writes an article
   with it in the editor (their department as its source) and submits it;
2. the same liaison verifies it (核实: the source department's liaison);
3. an editor changes it (a second revision), a reviewer proofreads it (校对) with every
   check passing;
4. the office's admin approves it (签发) for a few minutes later; the desk's loop
   (`govwx desk run`, its chore `content.publish_due`) leaves it alone until then, and at
   its time publishes it;
5. WeChat gets the draft and the publish job, ends the job and pushes PUBLISHJOBFINISH to
   govwx's callback: the console shows the article published with its WeChat URL;
6. a follower's phone shows it in the account's history and opens it;
7. the operator previews it to their own WeChat, then mass-sends it to a tag: the
   MASSSENDJOBFINISH counts show in the console, the tagged followers' phones have it,
   an untagged follower's has not;
8. the article's H5 page shows its title and picture, and the account's RSS, Atom and
   JSON feeds, fetched over HTTP, carry it with its link.

The screenshots of each step go to GOVWX_SCREENSHOTS."""

from __future__ import annotations

import calendar
import io
import json
import os
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest
import time_machine
from django.core.management import call_command
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect

from govwx.accounts.models import Account, AuditEvent, Department
from govwx.content import workflow
from govwx.content.models import Article, MassCall, MassSend, Material, Revision, Step
from govwx.lib import chores
from govwx.wechat.client import WeChatClient
from govwx.wechat.models import InboundMessage
from govwx.wechat.tests.test_client import Sandbox

from . import test_publishing
from .test_mass import chat, followers
from .test_publishing import drafts, history, run_jobs

wx = test_publishing.wx  # the sandbox fixture, shared

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))
SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 3, 10, 0, tzinfo=SH)
DUE = START + timedelta(minutes=5)
TITLE = "东湖水厂12月6日停水检修"
S = Article.Status


def photo() -> bytes:
    """A picture of a water works: sky, a tank and water (a JPEG, as a camera takes)."""
    img = Image.new("RGB", (640, 400), "#bfe3f5")
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 280, 640, 400), fill="#3a78b5")
    draw.rectangle((180, 140, 460, 280), fill="#d9d9d9", outline="#666", width=4)
    draw.ellipse((180, 110, 460, 170), fill="#eeeeee", outline="#666", width=4)
    for x in range(0, 640, 40):
        draw.arc((x, 300, x + 40, 330), 180, 360, fill="#e8f4ff", width=3)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def desk_loop_pass() -> None:
    """One pass of `govwx desk run`, every chore due (the loop runs each at most once
    per its interval, on the monotonic clock the test does not travel)."""
    for chore in chores._chores.values():
        chore.last = float("-inf")
    call_command("desk", "run", "--once", stdout=io.StringIO())


def fetch(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.headers["Content-Type"]), bytes(answer.read())


def test_an_article_goes_from_a_department_to_wechat_followers_and_the_web(
    live_server: Any,
    settings: Any,
    page: Page,
    new_context: Callable[..., BrowserContext],
    wx: Sandbox,
    account: Account,
    department: Department,
    liaison: Any,
    editor: Any,
    reviewer: Any,
    account_admin: Any,
    operator: Any,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = str(live_server.url)
    settings.GOVWX_PUBLIC_URL = base
    # the browser's clock is not travelled: no cookie may expire by the server's clock
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    # WeChat's jobs end when the test says so (the driver's jobs/run), not on a timer
    settings.GOVWX_SANDBOX_PUBLISH_SECONDS = 600
    settings.GOVWX_SANDBOX_MASS_SECONDS = 600
    picture_file = tmp_path / "东湖水厂.jpg"
    picture_file.write_bytes(photo())

    def person(username: str, password: str) -> Page:
        p = page if username == "liaison" else new_context().new_page()
        p.goto(base + "/login/")
        p.fill("#id_username", username)
        p.fill("#id_password", password)
        p.click("button[type=submit]")
        expect(p.locator("#logout")).to_be_visible()
        return p

    def shot(p: Page, name: str) -> None:
        p.screenshot(path=str(SHOTS / f"path-{name}.png"), full_page=True)

    with time_machine.travel(START, tick=True) as clock:
        east = followers(wx, account, 2, "East", tag="东湖片区")
        [west] = followers(wx, account, 1, "West")
        [me] = followers(wx, account, 1, "Op")  # the operator's own WeChat

        # ---------------------------------------------------------- 1. the liaison writes
        liaison_page = person("liaison", "pw-liaison")
        liaison_page.goto(base + "/content/materials/")
        liaison_page.click("#upload-link")
        liaison_page.set_input_files("#id_files", str(picture_file))
        liaison_page.fill("#id_caption", "东湖水厂清水池")
        liaison_page.click("#upload-submit")
        expect(liaison_page.locator(".flash")).to_contain_text("已上传「东湖水厂」")
        pic = Material.objects.get()
        assert (pic.kind, pic.title, pic.caption, pic.uploaded_by_id, pic.width, pic.height) == (
            "image", "东湖水厂", "东湖水厂清水池", liaison.pk, 640, 400
        )  # fmt: skip
        shot(liaison_page, "1-material")

        liaison_page.goto(base + "/content/articles/")
        liaison_page.click("#new-article")
        expect(liaison_page.locator("#id_source_department")).to_have_value(str(department.pk))
        expect(liaison_page.locator("#id_source_department option")).to_have_text(["市水务局"])
        liaison_page.fill("#id_title", TITLE)
        liaison_page.fill("#id_author", "市水务局")
        liaison_page.fill("#id_digest", "东湖片区12月6日停水8小时")
        liaison_page.click(".ab-block[data-type=text] .ql-editor")
        liaison_page.keyboard.type("12月6日9时至17时，东湖水厂检修，东湖片区停水。")
        liaison_page.click("#add-bar [data-add=image]")
        block = liaison_page.locator(".ab-block[data-type=image]")
        block.locator(".pick-material").click()
        liaison_page.locator(f"#picker [data-material='{pic.pk}']").click()
        expect(block.locator(".ab-caption")).to_have_value("东湖水厂清水池")
        liaison_page.click("#cover-pick")
        liaison_page.locator(f"#picker [data-material='{pic.pk}']").click()
        expect(liaison_page.locator("#cover-title")).to_have_text("东湖水厂")
        expect(liaison_page.locator("#pv-body img")).to_have_attribute(
            "src", f"/content/materials/{pic.pk}/file"
        )
        expect(liaison_page.locator("#checks-ok")).to_be_visible()
        shot(liaison_page, "1-editor")
        liaison_page.click("#save")
        expect(liaison_page.locator(".flash")).to_contain_text(f"已保存「{TITLE}」（第 1 版）")
        a = Article.objects.get()
        assert (a.status, a.revision, a.source_department_id, a.cover_id, a.created_by_id) == (
            S.DRAFT, 1, department.pk, pic.pk, liaison.pk
        )  # fmt: skip
        assert a.body[1] == {"type": "image", "material": pic.pk, "caption": "东湖水厂清水池"}

        liaison_page.goto(f"{base}/content/articles/{a.pk}/")
        liaison_page.click("#workflow-link")
        liaison_page.fill("#comment", "请核实停水时间")
        liaison_page.click("#do-submit")
        expect(liaison_page.locator(".flash")).to_contain_text("已提交")
        expect(liaison_page.locator("#status")).to_have_attribute("data-status", "verifying")

        # ---------------------------------------------------------- 2. 核实
        liaison_page.goto(base + "/content/workflow/")
        liaison_page.locator("#waiting tr[data-step=verify] a").click()
        expect(liaison_page.locator("#current-step")).to_contain_text(
            "核实（市水务局） · 可办理：liaison"
        )
        liaison_page.fill("#comment", "停水时间已与水厂核对")
        liaison_page.click("#do-verify")
        expect(liaison_page.locator(".flash")).to_contain_text("已核实，转校对")
        expect(liaison_page.locator("#status")).to_have_attribute("data-status", "proofreading")
        shot(liaison_page, "2-verified")

        # ---------------------------------------------------------- 3. edited, proofread
        editor_page = person("editor", "pw-editor")
        editor_page.goto(f"{base}/content/articles/{a.pk}/")
        editor_page.click("#edit-article")
        editor_page.click(".ab-block[data-type=text] .ql-editor")
        editor_page.keyboard.press("Control+End")
        editor_page.keyboard.press("Enter")
        editor_page.keyboard.type("请居民提前储水，咨询电话12345。")
        editor_page.fill("#id_note", "补充储水提示和咨询电话")
        editor_page.click("#save")
        expect(editor_page.locator(".flash")).to_contain_text(f"已保存「{TITLE}」（第 2 版）")
        editor_page.goto(f"{base}/content/articles/{a.pk}/")  # leaves the editor
        expect(editor_page.locator("#revision-table tr[data-revision]")).to_have_count(2)
        shot(editor_page, "3-revisions")
        a.refresh_from_db()
        assert (a.status, a.revision) == (S.PROOFREADING, 2)
        assert list(
            Revision.objects.filter(article=a)
            .order_by("number")
            .values_list("number", "author__username", "note")
        ) == [(1, "liaison", "新建"), (2, "editor", "补充储水提示和咨询电话")]
        assert "咨询电话12345" in a.body[0]["html"]

        reviewer_page = person("reviewer", "pw-reviewer")
        reviewer_page.goto(base + "/content/workflow/")
        reviewer_page.locator("#waiting tr[data-step=proofread] a").click()
        expect(reviewer_page.locator("#facts")).to_contain_text("第 2 版")
        expect(reviewer_page.locator("#current-step")).to_contain_text(
            "校对 · 可办理：reviewer、acctadmin"
        )
        expect(reviewer_page.locator("#checks-clean")).to_have_text("未发现问题")
        assert workflow.review(a).findings == []  # articles.check and every check in CHECKS
        reviewer_page.fill("#comment", "文字无误")
        reviewer_page.click("#do-proofread")
        expect(reviewer_page.locator(".flash")).to_contain_text("已校对，转签发")
        expect(reviewer_page.locator("#status")).to_have_attribute("data-status", "approving")
        shot(reviewer_page, "3-proofread")

        # ---------------------------------------------------------- 4. 签发 for 10:05
        admin_page = person("acctadmin", "pw-admin-1")
        admin_page.goto(base + "/content/workflow/")
        admin_page.locator("#waiting tr[data-step=approve] a").click()
        expect(admin_page.locator("#current-step")).to_contain_text("签发 · 可办理：acctadmin")
        admin_page.check("#when-later")
        admin_page.fill("#scheduled-for-input", "2026-11-03T10:05")
        admin_page.fill("#comment", "同意发布")
        admin_page.click("#do-approve")
        expect(admin_page.locator(".flash")).to_contain_text("已签发，定于 2026-11-03 10:05 发布")
        expect(admin_page.locator("#scheduled-for")).to_have_text("2026-11-03 10:05")
        shot(admin_page, "4-approved")
        a.refresh_from_db()
        assert (a.status, a.scheduled_for) == (S.SCHEDULED, DUE)

        desk_loop_pass()  # before its time: nothing goes to WeChat
        a.refresh_from_db()
        assert (a.status, a.wechat_draft_id, a.publish_id) == (S.SCHEDULED, "", "")
        assert drafts(account) == 0

        # ---------------------------------------------------------- 5. published
        clock.move_to(DUE + timedelta(seconds=1))
        desk_loop_pass()  # the chore content.publish_due, as the loop runs it
        a.refresh_from_db()
        assert a.status == S.PUBLISHING and a.wechat_draft_id and a.publish_id
        assert drafts(account) == 1  # draft/add reached WeChat
        status = WeChatClient(account).publish_status(a.publish_id)
        assert status["publish_status"] == 1  # freepublish/submit: the job is under way
        submitted = AuditEvent.objects.get(name="article.submitted_to_wechat")
        assert (submitted.data["draft"], submitted.data["publish_id"]) == (
            a.wechat_draft_id, a.publish_id
        )  # fmt: skip
        pic.refresh_from_db()
        assert pic.wechat_media_id and pic.article_url.startswith(wx.base + "/")

        finished = run_jobs(wx, account)  # WeChat ends the job and tells govwx
        assert [(j["kind"], j["publish_status"], j["delivery"]["status"]) for j in finished] == [
            ("publish", 0, 200)
        ]
        assert InboundMessage.objects.get(event="PUBLISHJOBFINISH").handled_by == "content"
        a.refresh_from_db()
        assert a.status == S.PUBLISHED and a.wechat_article_id == finished[0]["article_id"]
        assert a.wechat_url.startswith(wx.base + "/s/") and a.published_at is not None
        assert a.published_at >= DUE
        assert drafts(account) == 0

        operator_page = person("operator", "pw-operator-1")
        operator_page.goto(f"{base}/content/articles/{a.pk}/")
        expect(operator_page.locator("#publishing-state")).to_have_attribute(
            "data-status", "published"
        )
        expect(operator_page.locator("#publishing-status")).to_have_text("已发布")
        expect(operator_page.locator("#wechat-link")).to_have_attribute("href", a.wechat_url)
        expect(operator_page.locator("#wechat-link")).to_have_text(a.wechat_url)
        expect(operator_page.locator("#h5-link")).to_have_attribute("href", f"/a/{a.token}/")
        shot(operator_page, "5-published")
        admin_page.reload()
        expect(admin_page.locator("#steps tbody tr")).to_have_count(5)
        expect(admin_page.locator("#steps tbody tr[data-outcome=done]")).to_have_count(5)
        # the publish step's comment, the WeChat URL, wraps inside the card
        assert admin_page.locator("#steps").evaluate(
            "t => t.scrollWidth <= t.parentElement.clientWidth"
        )
        shot(admin_page, "5-steps")
        steps = [
            (s.kind, s.outcome, s.actor.get_username() if s.actor else None, s.revision)
            for s in a.steps.select_related("actor").order_by("id")
        ]
        assert steps == [
            (Step.Kind.SUBMIT, "done", "liaison", 1),
            (Step.Kind.VERIFY, "done", "liaison", 1),
            (Step.Kind.PROOFREAD, "done", "reviewer", 2),
            (Step.Kind.APPROVE, "done", "acctadmin", 2),
            (Step.Kind.PUBLISH, "done", None, 2),
        ]
        assert a.steps.get(kind=Step.Kind.PUBLISH).comment == a.wechat_url

        # ---------------------------------------------------------- 6. on a phone
        phone = new_context().new_page()
        phone.set_viewport_size({"width": 420, "height": 820})
        phone.goto(base + "/sandbox/")
        expect(phone.locator("#follower option")).to_have_count(4)
        phone.select_option("#follower", west)
        phone.get_by_test_id("open-history").click()
        listed = phone.get_by_test_id("history-list").get_by_test_id("article-card")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text(TITLE)
        listed.click()
        expect(phone.get_by_test_id("article-title")).to_have_text(TITLE)
        expect(phone.get_by_test_id("article-author")).to_have_text("市水务局")
        expect(phone.get_by_test_id("article-account")).to_have_text("示例市发布")
        expect(phone.get_by_test_id("article-date")).to_have_text(
            a.published_at.astimezone(SH).strftime("%Y-%m-%d %H:%M")
        )
        body = phone.frame_locator("[data-testid=article-body]")
        expect(body.locator("p").first).to_have_text(
            "12月6日9时至17时，东湖水厂检修，东湖片区停水。"
        )
        expect(body.locator("body")).to_contain_text("咨询电话12345")
        expect(body.locator("img")).to_have_attribute("src", pic.article_url)
        body.locator("img").evaluate("img => img.decode()")
        assert body.locator("img").evaluate("img => img.naturalWidth") == 640
        expect(phone.get_by_test_id("article-reads")).to_have_text("阅读 1")
        shot(phone, "6-phone-article")
        phone.get_by_test_id("article-close").click()
        phone.get_by_test_id("history-close").click()
        expect(phone.get_by_test_id("history")).to_be_hidden()
        [shown] = history(wx, account)
        assert (shown["origin"], shown["items"][0]["url"]) == ("publish", a.wechat_url)

        # ---------------------------------------------------------- 7. 群发 to a tag
        confirmed: list[str] = []

        def accept(dialog: Any) -> None:
            confirmed.append(dialog.message)
            dialog.accept()

        operator_page.on("dialog", accept)
        operator_page.click("#mass-this")
        expect(operator_page.locator("#quota")).to_have_text("今天还可群发 1 次")
        expect(operator_page.locator("#ms-article")).to_have_value(str(a.pk))
        operator_page.check("input[name=target][value=tag]")
        operator_page.click("#read-tags")
        expect(operator_page.locator(".flash")).to_contain_text("正在从微信读取标签")
        expect(operator_page.locator("#ms-tag option[value='100']")).to_have_text(
            "东湖片区（2 人）"
        )
        operator_page.select_option("#ms-tag", "100")
        operator_page.fill("#ms-to", me)
        operator_page.click("#do-preview")
        expect(operator_page.locator(".flash")).to_contain_text(f"预览已发送到 {me}")
        assert [(e["kind"], e["msg_type"]) for e in chat(wx, account, me)] == [
            ("preview", "mpnews")
        ]
        assert [chat(wx, account, o) for o in [*east, west]] == [[], [], []]
        expect(operator_page.locator("#quota-again")).to_have_text("今天还可群发 1 次")
        shot(operator_page, "7-mass-compose")
        operator_page.click("#do-send")
        expect(operator_page.locator(".flash")).to_contain_text("已提交群发")
        row = operator_page.locator("#send-table tbody tr").first
        expect(row).to_have_attribute("data-status", "sent")
        expect(row).to_contain_text("标签：东湖片区")
        expect(row).to_contain_text("等待微信回报")
        expect(operator_page.locator("#quota")).to_have_text("今天还可群发 0 次")
        assert [m[:6] for m in confirmed] == ["群发后无法撤"]

        finished = run_jobs(wx, account)  # WeChat sends it; MASSSENDJOBFINISH comes
        assert [(j["kind"], j["sent_count"]) for j in finished] == [("mass", 2)]
        send = MassSend.objects.get()
        call = send.calls.get()
        assert (send.status, send.kind, send.article_id, send.tag_id, send.to_all) == (
            MassSend.Status.SENT, "mpnews", a.pk, 100, False
        )  # fmt: skip
        assert (call.status, call.total, call.filtered, call.sent, call.errors) == (
            MassCall.Status.FINISHED, 2, 2, 2, 0
        )  # fmt: skip
        assert InboundMessage.objects.get(event="MASSSENDJOBFINISH").handled_by == "content"
        operator_page.reload()
        expect(row.locator(".sent-count")).to_have_text("2 / 2 人")
        shot(operator_page, "7-mass-list")
        row.get_by_role("link", name="详情").click()
        expect(operator_page.locator("#send-counts")).to_have_text(
            "目标 2 人，过滤后 2 人，成功 2 人，失败 0 人"
        )
        shot(operator_page, "7-mass-detail")

        for openid in east:
            phone.select_option("#follower", openid)
            card = phone.locator("#messages [data-testid=article-card]")
            expect(card).to_have_count(1)
            expect(card).to_have_attribute("data-kind", "mass")
            expect(card).to_contain_text(TITLE)
        shot(phone, "7-phone-tagged")
        card.click()
        expect(phone.get_by_test_id("article-title")).to_have_text(TITLE)
        expect(phone.get_by_test_id("article-reads")).to_have_text("阅读 1")
        phone.get_by_test_id("article-close").click()
        phone.select_option("#follower", west)
        expect(phone.locator("#messages .note")).to_have_text(
            ["你关注了该公众号"]
        )  # the chat loaded
        expect(phone.locator("#messages [data-testid=article-card]")).to_have_count(0)
        shot(phone, "7-phone-untagged")
        phone.select_option("#follower", me)
        preview = phone.locator("#messages [data-testid=article-card]")
        expect(preview).to_have_count(1)
        expect(preview).to_have_attribute("data-kind", "preview")
        for openid in east:
            [got] = chat(wx, account, openid)
            assert (got["kind"], got["payload"]["articles"][0]["title"]) == ("mass", TITLE)
        assert chat(wx, account, west) == []
        assert [h["origin"] for h in history(wx, account)] == ["mass", "publish"]

        # ---------------------------------------------------------- 8. the web
        h5 = new_context().new_page()
        h5.set_viewport_size({"width": 375, "height": 812})
        h5.goto(f"{base}/a/{a.token}/")
        expect(h5.locator("#title")).to_have_text(TITLE)
        expect(h5.locator("#author")).to_have_text("市水务局")
        img = h5.locator("#body img")
        expect(img).to_have_attribute("src", f"/a/{a.token}/m/{pic.pk}")
        img.evaluate("img => img.decode()")
        assert img.evaluate("img => img.naturalWidth") == 640
        shot(h5, "8-h5")

    link = f"{base}/a/{a.token}/"
    published = a.published_at
    assert published is not None
    kind, rss = fetch(f"{base}/feeds/{account.appid}/rss.xml")
    assert kind == "application/rss+xml; charset=utf-8"
    kind, atom = fetch(f"{base}/feeds/{account.appid}/atom.xml")
    assert kind == "application/atom+xml; charset=utf-8"
    for raw, version in ((rss, "rss20"), (atom, "atom10")):
        feed = feedparser.parse(raw)
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == version and feed.feed.title == "示例市发布"
        [entry] = feed.entries
        assert (entry.title, entry.link) == (TITLE, link)
        assert entry.summary == "东湖片区12月6日停水8小时"
        assert calendar.timegm(entry.published_parsed) == int(published.timestamp())
        assert f'src="{base}/a/{a.token}/m/{pic.pk}"' in entry.content[0].value
    kind, raw_json = fetch(f"{base}/feeds/{account.appid}/feed.json")
    assert kind.startswith("application/feed+json")
    # feedparser 6.0 reads RSS and Atom only: the JSON Feed is read as JSON
    data = json.loads(raw_json)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    [item] = data["items"]
    assert (item["title"], item["url"], item["id"]) == (TITLE, link, link)
    assert f'src="{base}/a/{a.token}/m/{pic.pk}"' in item["content_html"]
    assert Article.objects.get(pk=a.pk).reads == 1  # the H5 page, opened once
