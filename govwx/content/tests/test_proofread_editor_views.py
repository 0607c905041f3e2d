"""The editor's proofreading endpoints (POST JSON: the findings with their fields and
offsets; a dismissal with a reason) and the report page (/content/proofread/report/):
success, anonymous, an outsider, a role without the permission (nothing changed), and
how fast the editor's check answers for a 5,000-character body."""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent
from govwx.content import publishing, workflow
from govwx.content.models import Article, Dismissal, FindingRecord

from .test_workflow import draft, fresh

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
CHECK = "/content/articles/proofread/"
DISMISS = "/content/articles/proofread/dismiss/"
REPORT = "/content/proofread/report/"
COMMA = "请于12月5日前报名,逾期不候。"
ID_NUMBER = "11010519491231002X"
FIELDS: dict[str, Any] = {
    "title": "报名通知",
    "author": "市人社局",
    "digest": "",
    "body": [
        {"type": "text", "html": f"<p>第一段。</p><p>{COMMA}</p>"},
        {"type": "image", "material": None, "caption": f"身份证号{ID_NUMBER}"},
    ],
}
COMMA_KEY = "punctuation:punctuation.halfwidth:,"


def client_of(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post_json(client: Client, url: str, data: Any) -> Any:
    return client.post(url, json.dumps(data, ensure_ascii=False), content_type="application/json")


def changes() -> tuple[int, ...]:
    return (Dismissal.objects.count(), AuditEvent.objects.count(), FindingRecord.objects.count(),
            Article.objects.count())  # fmt: skip


def test_the_editor_gets_each_finding_with_its_field_and_offsets(
    account: Account, editor: Any
) -> None:
    before = changes()
    r = post_json(client_of(editor), CHECK, FIELDS)
    assert r.status_code == 200
    assert r["Server-Timing"].startswith("proofread;dur=")
    data = r.json()
    assert [
        (f["part"], f["where"], f["start"], f["end"], f["text"], f["severity"],
         f["severity_label"], f["family_label"], f["suggestion"], f["key"], f["dismissed"])
        for f in data["findings"]
    ] == [
        ("body.0.html", "第 1 段", 15, 16, ",", "error", "错误", "标点", "，", COMMA_KEY, None),
        ("body.1.caption", "第 2 段图片说明", 4, 22, ID_NUMBER, "veto", "否决", "个人信息",
         "110105********002X", f"personal_data:personal_data.id_card:{ID_NUMBER}", None),
    ]  # fmt: skip
    assert (
        data["findings"][0]["message"] == "中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）"
    )
    assert data["blocking"] == 2
    assert data["can_dismiss"] is False
    assert data["dismiss_why"] == (
        "忽略校对提示须由管理员、审核操作，并说明理由；请修改文字，或请他们审阅。"
    )
    assert changes() == before  # nothing is saved


def test_an_admin_dismisses_a_finding_in_the_editor_with_a_reason(
    account: Account, account_admin: Any
) -> None:
    c = client_of(account_admin)
    found = post_json(c, CHECK, FIELDS).json()
    assert found["can_dismiss"] is True and found["dismiss_why"] == ""
    comma, veto = found["findings"]
    ask = {**FIELDS, "part": comma["part"], "start": comma["start"], "end": comma["end"],
           "key": comma["key"]}  # fmt: skip
    before = changes()
    r = post_json(c, DISMISS, {**ask, "reason": "  "})
    assert (r.status_code, r.json()) == (400, {"error": "请说明忽略的理由"})
    r = post_json(c, DISMISS, {**ask, "key": veto["key"], "part": veto["part"],
                               "start": veto["start"], "end": veto["end"], "reason": "已核实"})  # fmt: skip
    assert r.status_code == 400 and r.json()["error"].startswith("否决项不能忽略")
    changed = {**FIELDS, "body": [{"type": "text", "html": "<p>第一段。</p><p>请于12月6日前报名,逾期不候。</p>"}]}  # fmt: skip
    r = post_json(c, DISMISS, {**changed, **{k: ask[k] for k in ("part", "start", "end")},
                               "key": COMMA_KEY, "start": 99, "reason": "原文"})  # fmt: skip
    assert r.status_code == 409
    assert r.json()["error"] == "这条提示已不在文中（文字已修改？），请看最新的检查结果。"
    assert changes() == before

    r = post_json(c, DISMISS, {**ask, "reason": "报名系统原文如此"})
    assert r.status_code == 200
    comma_now = r.json()["findings"][0]
    assert comma_now["dismissed"]["reason"] == "报名系统原文如此"
    assert comma_now["dismissed"]["by"] == "acctadmin"
    assert r.json()["blocking"] == 1  # the veto
    d = Dismissal.objects.get()
    assert (d.rule, d.reason, d.by) == (COMMA_KEY, "报名系统原文如此", account_admin)
    assert AuditEvent.objects.filter(name="proofread.dismissed", actor=account_admin).count() == 1
    # remembered: asked again with the same text, it is dismissed
    again = post_json(c, CHECK, FIELDS).json()["findings"][0]
    assert again["dismissed"]["reason"] == "报名系统原文如此"


def test_who_may_ask_and_who_may_dismiss(
    account: Account, editor: Any, reviewer: Any, outsider: Any, account_admin: Any
) -> None:
    found = post_json(client_of(account_admin), CHECK, FIELDS).json()["findings"][0]
    ask = {**FIELDS, "part": found["part"], "start": found["start"], "end": found["end"],
           "key": found["key"], "reason": "原文"}  # fmt: skip
    before = changes()
    for url in (CHECK, DISMISS):
        r = post_json(Client(), url, ask)
        assert r.status_code == 302 and r["Location"].startswith("/login/")
    # a reviewer does not write articles; a writer does not dismiss
    assert post_json(client_of(reviewer), CHECK, FIELDS).status_code == 403
    assert post_json(client_of(editor), DISMISS, ask).status_code == 403
    # an operator of another account: their own account's dismissals, none of ours
    r = post_json(client_of(outsider), CHECK, FIELDS)
    assert r.status_code == 200 and r.json()["findings"][0]["dismissed"] is None
    assert post_json(client_of(outsider), DISMISS, ask).status_code == 403
    assert changes() == before
    # the door without the editor's script: a form post lands on the list
    r = client_of(editor).post(CHECK, {"title": "t"})
    assert r.status_code == 302 and r["Location"] == "/content/articles/"
    r = client_of(editor).post(CHECK, "{", content_type="application/json")
    assert (r.status_code, r.json()) == (400, {"error": "请求不是有效的 JSON"})
    r = post_json(client_of(editor), CHECK, {**FIELDS, "body": "x"})
    assert r.status_code == 400 and "正文格式不正确" in r.json()["error"]
    assert client_of(editor).get(CHECK).status_code == 405


def test_the_editor_page_knows_where_to_ask_and_who_may_dismiss(
    account: Account, editor: Any, account_admin: Any
) -> None:
    for user, can in ((editor, False), (account_admin, True)):
        r = client_of(user).get(reverse("content:article_new"))
        setup = r.context["setup"]
        assert setup["urls"]["proofread"] == CHECK
        assert setup["urls"]["proofread_dismiss"] == DISMISS
        assert (setup["proofread"]["delay"], setup["proofread"]["can_dismiss"]) == (600, can)
        page = r.content.decode()
        assert 'id="proofread"' in page and 'id="proofread-strings"' in page
        assert "content/articles-proofread.js" in page


def test_the_editor_check_of_a_5000_character_body_is_fast(account: Account, editor: Any) -> None:
    """The server's time for a 5,000-character body, each time a new text (so nothing is
    served from the kept results), after one warm-up: the median well under 300 ms."""
    paragraph = "市政府召开常务会议，研究部署当前经济工作。会议指出，要坚持稳中求进工作总基调，扎实推进各项工作落实。"  # fmt: skip
    c = client_of(editor)

    def ask(n: int) -> float:
        text = "".join(f"<p>{n}-{i}：{paragraph}</p>" for i in range(100))
        fields = {**FIELDS, "body": [{"type": "text", "html": text}]}
        t0 = time.perf_counter()
        r = post_json(c, CHECK, fields)
        took = time.perf_counter() - t0
        assert r.status_code == 200
        return took

    assert len("".join(f"{0}-{i}：{paragraph}\n" for i in range(100))) >= 5000
    ask(0)
    times = [ask(n) for n in range(1, 6)]
    assert statistics.median(times) < 0.3, times


# ------------------------------------------------------------------ the report


def published_with_errors(account: Account, editor: Any, reviewer: Any, admin: Any) -> Article:
    a = draft(account, editor, "报名通知", html=f"<p>{COMMA}</p>")
    a = workflow.submit(a, revision=1, actor=editor)
    [error] = workflow.review(fresh(a)).blocking
    workflow.dismiss(a, error.key, "报名系统原文", revision=1, actor=reviewer)
    workflow.proofread(fresh(a), revision=1, actor=reviewer)
    workflow.approve(fresh(a), revision=1, actor=admin)
    Article.objects.filter(pk=a.pk).update(status=Article.Status.PUBLISHING)
    publishing.finish(fresh(a), 0, "art-1", "https://mp.weixin.qq.com/s/1")
    from govwx.content.proofread.article import mark_published

    mark_published(a.pk)  # after commit, which a test's transaction never reaches
    return fresh(a)


def test_the_report_shows_each_month_and_what_reached_publication(
    account: Account,
    editor: Any,
    reviewer: Any,
    account_admin: Any,
    outsider: Any,
    django_assert_num_queries: Any,
) -> None:
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=SH), tick=False):
        a = published_with_errors(account, editor, reviewer, account_admin)
        other = draft(account, editor, "另一篇", html=f"<p>身份证号{ID_NUMBER}。</p>")
        workflow.submit(other, revision=1, actor=editor)
        c = client_of(reviewer)
        c.get(REPORT)  # the session's account, once
        with django_assert_num_queries(12):
            r = c.get(REPORT)
        page = r.content.decode()
        only_replies = c.get(REPORT, {"where": "reply_rule"})
        unknown = c.get(REPORT, {"where": "nonsense"})
        outsiders = client_of(outsider).get(REPORT)
    assert r.status_code == 200
    assert (
        '<a href="/content/proofread/report/" id="nav-proofread-report" aria-current="page">'
        in page
    )
    rows = r.context["rows"]
    assert [(f"{x.month:%Y-%m}", x.total, x.severities, x.published) for x in rows[:2]] == [
        ("2026-11", 2, [1, 1, 0], 1), ("2026-10", 0, [0, 0, 0], 0)
    ]  # fmt: skip
    assert '<tr data-month="2026-11">' in page and '<tr data-month="2025-12">' in page
    assert f'<tr data-article="{a.pk}" data-family="punctuation">' in page
    assert "「,」" in page and "报名系统原文" in page and "reviewer" in page
    assert "echarts-6.1.0.min.js" in page
    assert r.context["chart"]["series"] == [
        {"name": "标点", "data": [0] * 11 + [1]}, {"name": "个人信息", "data": [0] * 11 + [1]}
    ]  # fmt: skip
    # one place only
    assert only_replies.context["totals"].total == 0
    assert only_replies.context["where"] == "reply_rule"
    assert unknown.context["where"] == "" and unknown.context["totals"].total == 2
    # anonymous: the login page; an outsider: their own account's report, empty
    r = Client().get(REPORT)
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert outsiders.status_code == 200 and outsiders.context["totals"].total == 0
    assert outsiders.context["published"] == []
    assert f'data-article="{a.pk}"' not in outsiders.content.decode()
