"""Proofreading an article (`proofread.article`): the visible text of a body block as
Quill holds it, the parts an article is cut into, a finding located in its field and
paragraph, a dismissal remembered for that paragraph (and only for it), and the records
the report reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, AuditEvent
from govwx.content import articles
from govwx.content.articles import ArticleInput
from govwx.content.models import Dismissal, FindingRecord
from govwx.content.proofread import article as pa
from govwx.content.proofread.services import sha256

pytestmark = pytest.mark.django_db

COMMA = "请于12月5日前报名,逾期不候。"
ID_NUMBER = "11010519491231002X"


def body(*paragraphs: str) -> list[dict[str, Any]]:
    return [{"type": "text", "html": "".join(f"<p>{p}</p>" for p in paragraphs)}]


def halfwidth(found: list[pa.Located]) -> list[pa.Located]:
    return [x for x in found if x.finding.rule == "punctuation.halfwidth"]


@pytest.mark.parametrize(
    "html,text",
    [
        ("<p>一</p><p>二</p>", "一\n二\n"),
        ("<p><br></p><p>二</p>", "\n二\n"),  # an empty line is a line
        ("<p>一<br>二</p>", "一\n二\n"),
        ("<p>一<br></p>", "一\n"),
        ("<h2>标题</h2><ol><li>甲</li><li>乙</li></ol>", "标题\n甲\n乙\n"),
        ("<p>a  &nbsp;b</p>\n<p> c </p>", "a  b\nc\n"),  # as Quill's clipboard reads it
        ("<p>a <strong>b</strong> c</p>", "a b c\n"),
        ("<p>图<img src='https://x.cn/1.png'>片</p>", "图\ufffc片\n"),  # an embed: one
        ("无标签的文字", "无标签的文字\n"),
        ("<p>&lt;通知&gt; &amp; 公告</p>", "<通知> & 公告\n"),
        ("<p><script>alert(1)</script>正文</p>", "正文\n"),
        ("", ""),
        ("<p></p>", ""),
    ],
)
def test_the_visible_text_of_a_text_block_is_quills(html: str, text: str) -> None:
    assert pa.visible_text(html) == text


def test_an_article_is_cut_into_the_fields_of_the_editor() -> None:
    parts = pa.parts_of(
        "标题",
        "",
        "摘要",
        [
            {"type": "text", "html": "<p>一</p><p>二</p>"},
            {"type": "image", "material": 1, "caption": "图片说明"},
            {"type": "audio", "material": 2},
            {"type": "h5", "url": "https://x.cn/", "title": "链接"},
            {"type": "text", "html": "<p><br></p>"},
            {"type": "service", "url": "https://x.cn/g", "title": "办事指南"},
        ],
    )
    assert [(p.ref, p.label, p.text) for p in parts] == [
        ("title", "标题", "标题"),
        ("digest", "摘要", "摘要"),
        ("body.0.html", "第 1 段", "一\n二\n"),
        ("body.1.caption", "第 2 段图片说明", "图片说明"),
        ("body.3.title", "第 4 段链接标题", "链接"),
        ("body.5.title", "第 6 段办事指南标题", "办事指南"),
    ]


def test_a_finding_is_located_in_its_field_and_paragraph(account: Account) -> None:
    parts = pa.parts_of("报名通知", "", "", body("第一段。", COMMA))
    [x] = halfwidth(pa.locate(account, parts))
    assert x.part.ref == "body.0.html"
    assert (x.finding.start, x.finding.end, x.finding.text, x.finding.suggestion) == (
        15, 16, ",", "，"
    )  # fmt: skip
    assert x.finding.severity == "error"
    assert (x.unit_start, x.unit) == (5, COMMA)
    assert (x.in_unit.start, x.in_unit.end) == (10, 11)
    assert x.key == "punctuation:punctuation.halfwidth:,"
    assert x.code == f"proofread:{sha256(COMMA)[:12]}:punctuation:punctuation.halfwidth:,"
    assert pa.describe(x) == (
        "第 1 段「,」：中文语句中的逗号应使用全角形式「，」（GB/T 15834-2011）（建议改为「，」）"
    )
    assert x.blocks and x.dismissal is None


def test_personal_data_is_a_veto_named_masked(account: Account) -> None:
    parts = pa.parts_of("通知", "", "", body(f"身份证号{ID_NUMBER}的居民请报名。"))
    [x] = pa.locate(account, parts)
    assert (x.finding.family, x.finding.severity, x.finding.text) == (
        "personal_data", "veto", ID_NUMBER
    )  # fmt: skip
    assert pa.describe(x) == (
        "第 1 段「110105********002X」：含有身份证号码，发布前应删除或遮盖（《个人信息保护法》）"
    )
    assert ID_NUMBER not in pa.describe(x)


def test_a_dismissal_is_remembered_for_its_paragraph_and_only_for_it(
    account: Account, other_account: Account, reviewer: Any
) -> None:
    parts = pa.parts_of("报名通知", "", "", body("第一段。", COMMA))
    [x] = halfwidth(pa.locate(account, parts))
    d = pa.dismiss(account, x, "  引用报名系统\n原文  ", actor=reviewer)
    assert (d.rule, d.text_sha256, d.found, d.reason, d.by) == (
        x.key, sha256(COMMA), ",", "引用报名系统 原文", reviewer
    )  # fmt: skip
    event = AuditEvent.objects.get(name="proofread.dismissed")
    assert (event.actor, event.account, event.data["reason"]) == (reviewer, account, d.reason)
    # the same text: dismissed, and so is the same paragraph after another one changed,
    # or in the digest of another article
    [again] = halfwidth(pa.locate(account, parts))
    assert again.dismissal == d and not again.blocks
    changed_elsewhere = pa.parts_of(
        "报名通知（更新）", "", "", body("第一段改了。", COMMA, "第三段。")
    )
    assert [y.dismissal for y in halfwidth(pa.locate(account, changed_elsewhere))] == [d]
    in_digest = pa.parts_of("另一篇", "", COMMA, [])
    assert [y.dismissal for y in halfwidth(pa.locate(account, in_digest))] == [d]
    # the paragraph changed near it: asked again; another account never had it
    near = pa.parts_of("报名通知", "", "", body("第一段。", "请于12月6日前报名,逾期不候。"))
    [y] = halfwidth(pa.locate(account, near))
    assert y.dismissal is None and y.blocks
    [z] = halfwidth(pa.locate(other_account, parts))
    assert z.dismissal is None
    assert Dismissal.objects.count() == 1


def test_a_veto_cannot_be_dismissed(account: Account, reviewer: Any) -> None:
    parts = pa.parts_of("通知", "", "", body(f"身份证号{ID_NUMBER}的居民请报名。"))
    [x] = pa.locate(account, parts)
    with pytest.raises(ValidationError, match="否决项不能忽略"):
        pa.dismiss(account, x, "已核实", actor=reviewer)
    assert not Dismissal.objects.exists()
    assert not AuditEvent.objects.filter(name="proofread.dismissed").exists()


def test_the_records_keep_each_finding_once_with_its_dismissal_and_publication(
    account: Account, editor: Any, reviewer: Any
) -> None:
    a = articles.create_article(
        account,
        ArticleInput("报名通知", body(COMMA, "报名截止12月5日,逾期不候。")),
        actor=editor,
    )
    rows = pa.record(a)
    assert sorted((r.family, r.rule, r.found, r.dismissed, r.published) for r in rows) == [
        ("punctuation", "punctuation.halfwidth", ",", False, False),
        ("typo", "typo.jiezhi", "截止", False, False),
    ]
    # the comma is in two paragraphs: dismissed in one, its row is not dismissed yet
    first, second = halfwidth(pa.locate_article(a))
    pa.dismiss(account, first, "报名系统原文", actor=reviewer)
    pa.record(a)
    row = FindingRecord.objects.get(rule="punctuation.halfwidth")
    assert (row.dismissed, row.published) == (False, False)
    pa.dismiss(account, second, "报名系统原文", actor=reviewer)
    pa.mark_published(a.pk)
    assert sorted(
        FindingRecord.objects.values_list("rule", "dismissed", "published", "where", "object_id")
    ) == [
        ("punctuation.halfwidth", True, True, "article", str(a.pk)),
        ("typo.jiezhi", False, True, "article", str(a.pk)),
    ]
