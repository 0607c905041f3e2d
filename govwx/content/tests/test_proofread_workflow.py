"""The proofreader in the editorial workflow: registered in `workflow.CHECKS`, a veto
(personal data) refuses 校对 with its message and cannot be dismissed; an error blocks
until a reviewer dismisses it with a reason — one `Dismissal`, the editor's and the
workflow's, remembered for the paragraph: through a change elsewhere and a new round,
not through a change of that paragraph; what was found is recorded at each step, and
marked published with the article; the report counts it by month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.content import articles, publishing, workflow
from govwx.content.articles import ArticleInput
from govwx.content.models import Article, Dismissal, FindingRecord, Step
from govwx.content.proofread import article as pa
from govwx.content.proofread import report
from govwx.content.proofread.services import sha256
from govwx.content.proofread.workflow_check import proofreading
from govwx.content.workflow import ERROR, VETO

from .test_workflow import draft, fresh, state

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
COMMA = "请于12月5日前报名,逾期不候。"
ID_NUMBER = "11010519491231002X"
FIX = "请修改正文，或由校对人员说明理由后忽略错误项 / fix the text, or a reviewer dismisses an error with a reason"  # fmt: skip
COMMA_MESSAGE = (
    "第 1 段「,」：中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）（建议改为「，」）"
)


def html(*paragraphs: str) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def edit(article: Article, actor: Any, *paragraphs: str) -> Article:
    a = fresh(article)
    return articles.save_article(
        a, ArticleInput(a.title, [{"type": "text", "html": html(*paragraphs)}]),
        revision=a.revision, actor=actor,
    )  # fmt: skip


def records(article: Article) -> list[tuple[str, str, str, bool, bool]]:
    return sorted(
        FindingRecord.objects.filter(where="article", object_id=str(article.pk)).values_list(
            "family", "severity", "found", "dismissed", "published"
        )
    )


def test_the_proofreader_is_a_registered_check() -> None:
    assert proofreading in workflow.CHECKS


def test_an_id_number_in_the_body_is_a_veto_that_refuses_proofreading(
    account: Account, editor: Any, reviewer: Any
) -> None:
    a = draft(account, editor, html=html(f"身份证号{ID_NUMBER}的居民请于12月5日前报名。"))
    a = workflow.submit(a, revision=1, actor=editor)
    assert records(a) == [("personal_data", VETO, ID_NUMBER, False, False)]
    FindingRecord.objects.all().delete()
    before = state(a)
    with pytest.raises(ValidationError) as refused:
        workflow.proofread(a, revision=1, actor=reviewer)
    message = (
        "第 1 段「110105********002X」：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）"
    )
    assert refused.value.messages == ["否决：" + message, FIX]
    assert state(a) == before
    # refused, what was found is still recorded for the report
    assert records(a) == [("personal_data", VETO, ID_NUMBER, False, False)]
    [veto] = workflow.review(fresh(a)).blocking
    assert (veto.severity, veto.message, veto.dismissed) == (VETO, message, None)
    with pytest.raises(ValidationError, match="否决项不能忽略"):
        workflow.dismiss(a, veto.key, "已征得本人同意", revision=1, actor=reviewer)
    assert state(a) == before and not Dismissal.objects.exists()
    # the text is fixed (the number masked, as suggested): it passes
    a = edit(a, editor, "身份证号110105********002X的居民请于12月5日前报名。")
    a = workflow.proofread(a, revision=2, actor=reviewer)
    assert a.status == Article.Status.APPROVING


def test_a_dismissed_error_passes_and_is_remembered_for_its_paragraph(
    account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    a = draft(account, editor, html=html(COMMA, "联系电话见报名页面。"))
    a = workflow.submit(a, revision=1, actor=editor)
    with pytest.raises(ValidationError) as refused:
        workflow.proofread(a, revision=1, actor=reviewer)
    assert refused.value.messages == ["错误：" + COMMA_MESSAGE, FIX]
    [error] = workflow.review(fresh(a)).blocking
    code = f"proofread:{sha256(COMMA)[:12]}:punctuation:punctuation.halfwidth:,"
    assert (error.severity, error.key) == (ERROR, code)
    before = state(a)
    with pytest.raises(ValidationError, match="请说明忽略的理由"):
        workflow.dismiss(a, code, " ", revision=1, actor=reviewer)
    assert state(a) == before and not Dismissal.objects.exists()

    workflow.dismiss(a, code, "报名系统原文如此", revision=1, actor=reviewer)
    # one source of truth: proofreading's Dismissal, for the paragraph, audited; the
    # step keeps it for the history
    d = Dismissal.objects.get()
    assert (d.rule, d.text_sha256, d.reason, d.by) == (
        "punctuation:punctuation.halfwidth:,", sha256(COMMA), "报名系统原文如此", reviewer
    )  # fmt: skip
    # the editor reads the same row
    assert [x.dismissal for x in pa.locate_article(fresh(a))] == [d]
    names = list(AuditEvent.objects.order_by("id").values_list("name", flat=True))
    assert names[-2:] == ["proofread.dismissed", "article.finding_dismissed"]
    step = Step.objects.get(article=a, outcome="open")
    assert [(e["key"], e["reason"]) for e in step.data["dismissed"]] == [(code, "报名系统原文如此")]
    review = workflow.review(fresh(a))
    assert review.blocking == []
    assert review.dismissed[code]["by_name"] == "reviewer"
    assert review.dismissed[code]["reason"] == "报名系统原文如此"
    assert records(a) == [("punctuation", ERROR, ",", True, False)]
    a = workflow.proofread(fresh(a), revision=1, actor=reviewer)

    # another paragraph changes at 签发: the dismissal still holds
    a = edit(a, editor, COMMA, "联系电话见报名页面（已更新）。")
    assert workflow.review(fresh(a)).blocking == []
    # returned, the paragraph with the comma changes: asked again, in a new round
    workflow.return_article(fresh(a), "报名日期改为 12 月 6 日", revision=2, actor=account_admin)
    a = edit(a, editor, "请于12月6日前报名,逾期不候。", "联系电话见报名页面（已更新）。")
    a = workflow.submit(fresh(a), revision=3, actor=editor)
    with pytest.raises(ValidationError, match="错误：第 1 段「,」"):
        workflow.proofread(a, revision=3, actor=reviewer)
    # the writer takes the suggestion: the same words as before, dismissed before, pass
    a = edit(a, editor, COMMA, "联系电话见报名页面（已更新）。")
    a = workflow.proofread(fresh(a), revision=4, actor=reviewer)
    assert a.status == Article.Status.APPROVING
    assert Dismissal.objects.count() == 1


def test_a_dismissal_made_in_the_editor_holds_at_the_workflow_step(
    account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    a = draft(account, editor, html=html("第一段。", COMMA))
    # in the editor, an admin dismisses it for its paragraph
    [x] = [x for x in pa.locate_article(a) if x.finding.severity == ERROR]
    pa.dismiss(account, x, "引用原文", actor=account_admin)
    a = workflow.submit(a, revision=1, actor=editor)
    review = workflow.review(fresh(a))
    assert review.blocking == []
    [error] = review.findings
    assert review.dismissed[error.key]["by_name"] == "acctadmin"
    assert review.dismissed[error.key]["reason"] == "引用原文"
    a = workflow.proofread(fresh(a), revision=1, actor=reviewer)
    assert a.status == Article.Status.APPROVING
    assert records(a) == [("punctuation", ERROR, ",", True, False)]


def test_what_reached_publication_is_marked_and_counted(
    account: Account,
    editor: Any,
    reviewer: Any,
    account_admin: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with time_machine.travel(datetime(2026, 10, 20, 10, 0, tzinfo=SH), tick=False):
        old = draft(account, editor, "旧文", html=html(f"身份证号{ID_NUMBER}。"))
        workflow.submit(old, revision=1, actor=editor)
    # 1 November 01:00 in Shanghai is still 31 October in UTC: the month is November's
    with time_machine.travel(datetime(2026, 11, 1, 1, 0, tzinfo=SH), tick=False):
        a = draft(account, editor, "报名通知", html=html(COMMA, "报名截止12月5日,逾期不候。"))
        a = workflow.submit(a, revision=1, actor=editor)
        for error in workflow.review(fresh(a)).blocking:
            workflow.dismiss(a, error.key, "报名系统原文", revision=1, actor=reviewer)
        a = workflow.proofread(fresh(a), revision=1, actor=reviewer)
        a = workflow.approve(fresh(a), revision=1, actor=account_admin)
        Article.objects.filter(pk=a.pk).update(status=Article.Status.PUBLISHING)
        assert all(not published for *_x, published in records(a))
        with django_capture_on_commit_callbacks(execute=True):
            assert publishing.finish(fresh(a), 0, "art-1", "https://mp.weixin.qq.com/s/1")
        assert records(a) == [
            ("punctuation", ERROR, ",", True, True),
            ("typo", ERROR, "截止", True, True),
        ]
        data = report.build(account_admin, account)
    rows = {r.month: r for r in data["rows"]}
    assert len(data["rows"]) == 12 and data["rows"][0].month == date(2026, 11, 1)
    assert data["rows"][-1].month == date(2025, 12, 1)
    november, october = rows[date(2026, 11, 1)], rows[date(2026, 10, 1)]
    assert (november.total, november.severities, november.published) == (2, [0, 2, 0], 2)
    assert (october.total, october.severities, october.published) == (1, [1, 0, 0], 0)
    families = dict(zip(data["families"], november.families, strict=True))
    assert {k: v for k, v in families.items() if v} == {"错别字": 1, "标点": 1}
    assert (data["totals"].total, data["totals"].published) == (3, 2)
    assert data["chart"]["months"][-2:] == ["2026-10", "2026-11"]
    assert {s["name"]: s["data"][-2:] for s in data["chart"]["series"]} == {
        "错别字": [0, 1], "标点": [0, 1], "个人信息": [1, 0]
    }  # fmt: skip
    published = data["published"]
    assert sorted((p.article.pk, p.found, p.family, p.dismissal.reason) for p in published) == [
        (a.pk, ",", "punctuation", "报名系统原文"),
        (a.pk, "截止", "typo", "报名系统原文"),
    ]
    assert {p.dismissal.by for p in published} == {reviewer}
