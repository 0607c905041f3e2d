"""Writing an article: checks before saving, revisions, the lock, department scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.accounts.models import Account, AuditEvent, Department
from govwx.content import articles
from govwx.content.articles import ArticleInput, Conflict, Locked
from govwx.content.models import Article, Material, Revision

pytestmark = pytest.mark.django_db

TEXT = {"type": "text", "html": "<p>明天 9 时至 17 时，<strong>东湖区</strong>部分小区停水。</p>"}


def test_an_article_is_saved_as_revisions_compared_and_restored(
    account: Account, editor: Any, picture: Material
) -> None:
    a = articles.create_article(
        account,
        ArticleInput(
            "东湖区明日停水", [TEXT, {"type": "image", "material": picture.pk}], cover=picture
        ),
        actor=editor,
    )
    assert a.revision == 1 and a.locked_by == editor
    assert "<strong>东湖区</strong>" in a.html and f"/content/materials/{picture.pk}/file" in a.html
    assert "新建的水厂" in a.html  # the picture's caption under it
    b = articles.save_article(
        a, ArticleInput("东湖区明日停水通知", [TEXT]), revision=1, actor=editor
    )
    assert b.revision == 2 and b.title == "东湖区明日停水通知"
    assert list(Revision.objects.filter(article=a).values_list("number", flat=True)) == [2, 1]
    diff = dict(articles.compare(b, 1, 2))
    assert diff["title"] == ["-东湖区明日停水", "+东湖区明日停水通知"]
    assert any(line.startswith("-") and "img" in line for line in diff["html"])
    c = articles.restore_revision(b, 1, revision=2, actor=editor)
    assert c.revision == 3 and c.title == "东湖区明日停水" and c.cover == picture
    assert Revision.objects.get(article=a, number=3).note == "恢复第 1 版"
    assert AuditEvent.objects.filter(name="article.saved").count() == 2


def test_a_second_editor_sees_the_lock_and_a_stale_save_is_a_conflict(
    account: Account, editor: Any, editor2: Any, account_admin: Any
) -> None:
    a = articles.create_article(account, ArticleInput("标题", [TEXT]), actor=editor)
    with pytest.raises(Locked, match="editor"):
        articles.lock_article(a, actor=editor2)
    with pytest.raises(Locked):
        articles.save_article(a, ArticleInput("改", [TEXT]), revision=1, actor=editor2)
    assert Article.objects.get(pk=a.pk).title == "标题"
    articles.unlock_article(a, actor=editor)
    articles.lock_article(a, actor=editor2)
    articles.save_article(a, ArticleInput("改一", [TEXT]), revision=1, actor=editor2)
    # editor2 saved revision 2; a save naming revision 1 is refused
    articles.unlock_article(a, actor=editor2)
    with pytest.raises(Conflict):
        articles.save_article(a, ArticleInput("改二", [TEXT]), revision=1, actor=editor)
    assert Article.objects.get(pk=a.pk).title == "改一"
    # an admin takes the article from an absent editor (audited)
    articles.lock_article(a, actor=editor)
    articles.unlock_article(a, actor=account_admin, force=True)
    assert AuditEvent.objects.filter(name="article.unlocked").exists()
    articles.lock_article(a, actor=editor2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (ArticleInput("长" * 33, [TEXT]), "标题最多 32 字"),
        (ArticleInput("", [TEXT]), "标题不能为空"),
        (
            ArticleInput("t", [{"type": "text", "html": "<p>x<script>alert(1)</script></p>"}]),
            "脚本",
        ),
        (
            ArticleInput("t", [{"type": "text", "html": "<iframe src='https://x.cn'></iframe>"}]),
            "iframe",
        ),
        (ArticleInput("t", [{"type": "text", "html": "<p onclick='x()'>x</p>"}]), "脚本事件"),
        (ArticleInput("t", [{"type": "text", "html": "<a href='http://x.cn'>x</a>"}]), "HTTPS"),
        (ArticleInput("t", [{"type": "h5", "url": "http://x.cn", "title": "x"}]), "HTTPS"),
        (
            ArticleInput("t", [{"type": "video", "url": "https://youtube.com/watch?v=1"}]),
            "v.qq.com",
        ),
        (ArticleInput("t", [{"type": "image", "material": 999999}]), "素材不存在"),
        (ArticleInput("t", [{"type": "poll"}]), "未知的内容类型"),
        (ArticleInput("t", [{"type": "text", "html": "<p>" + "字" * 20_000 + "</p>"}]), "20000"),
        (ArticleInput("t", [TEXT], original=False), "转载须注明来源"),
        (ArticleInput("t", [TEXT], author="作" * 17), "作者最多"),
    ],
)
def test_what_wechat_would_refuse_is_named_and_nothing_is_saved(
    account: Account, editor: Any, values: ArticleInput, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        articles.create_article(account, values, actor=editor)
    assert any(message in m for m in err.value.messages), err.value.messages
    assert not Article.objects.exists()


def test_the_stored_html_keeps_only_what_wechat_keeps(account: Account, editor: Any) -> None:
    body = [
        {
            "type": "text",
            "html": '<p style="color:#c00;position:fixed">通知<span class="x">内容</span></p>',
        }
    ]
    a = articles.create_article(account, ArticleInput("t", body), actor=editor)
    assert a.html == '<p style="color:#c00">通知<span>内容</span></p>'


def test_a_liaison_writes_and_sees_only_their_departments_drafts(
    account: Account,
    liaison: Any,
    other_liaison: Any,
    editor: Any,
    department: Department,
    other_department: Department,
) -> None:
    mine = articles.create_article(account, ArticleInput("水务信息", [TEXT]), actor=liaison)
    assert mine.source_department == department  # their department, by default
    with pytest.raises(PermissionDenied):
        articles.create_article(
            account,
            ArticleInput("人社信息", [TEXT], source_department=other_department),
            actor=liaison,
        )
    theirs = articles.create_article(account, ArticleInput("人社信息", [TEXT]), actor=other_liaison)
    assert list(articles.visible_articles(liaison, account)) == [mine]
    with pytest.raises(Article.DoesNotExist):
        articles.get_article(liaison, account, theirs.pk)
    articles.unlock_article(theirs, actor=other_liaison)
    with pytest.raises(PermissionDenied):
        articles.save_article(theirs, ArticleInput("改", [TEXT]), revision=1, actor=liaison)
    # the office sees both
    assert set(articles.visible_articles(editor, account)) == {mine, theirs}


def test_people_without_the_permission_cannot_write(account: Account, reviewer: Any) -> None:
    with pytest.raises(PermissionDenied):
        articles.create_article(account, ArticleInput("t", [TEXT]), actor=reviewer)


def test_a_failed_article_changed_after_approval_goes_back_to_draft(
    account: Account, editor: Any
) -> None:
    a = articles.create_article(account, ArticleInput("标题", [TEXT]), actor=editor)
    Article.objects.filter(pk=a.pk).update(status=Article.Status.FAILED, publish_error="45003")
    a.refresh_from_db()
    b = articles.save_article(a, ArticleInput("短标题", [TEXT]), revision=1, actor=editor)
    assert b.status == Article.Status.DRAFT
