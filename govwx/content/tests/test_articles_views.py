"""The articles' console pages: the list, the editor (new and edit) with its checks, the
lock and conflicts, the live check, the revisions (page, compare, restore), the pickers;
each role and department scope at the door."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent, Department
from govwx.content import articles
from govwx.content.articles import ArticleInput
from govwx.content.models import Article, Material, Revision

from .conftest import png_bytes

pytestmark = pytest.mark.django_db

TEXT = {"type": "text", "html": "<p>明天 9 时至 17 时，<strong>东湖区</strong>部分小区停水。</p>"}


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form(title: str = "东湖区明日停水", body: Any = None, **extra: Any) -> dict[str, Any]:
    data = {
        "title": title,
        "author": "水务局",
        "digest": "",
        "cover": "",
        "source_department": "",
        "original": "1",
        "source_name": "",
        "source_url": "",
        "locality": "city",
        "category": "routine",
        "body": json.dumps([TEXT] if body is None else body, ensure_ascii=False),
        "note": "",
    }
    data.update(extra)
    return data


def material(account: Account, kind: str = Material.Kind.IMAGE, name: str = "m") -> Material:
    data = png_bytes(color="#c63") + name.encode()
    m = Material(
        account=account, kind=kind, title=name, content_type="image/png", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    m.file.save(name + ".png", ContentFile(data), save=False)
    m.save()
    return m


def draft(account: Account, actor: Any, title: str = "停水通知", **kw: Any) -> Article:
    return articles.create_article(account, ArticleInput(title, [TEXT], **kw), actor=actor)


def texts(response: Any) -> str:
    return response.content.decode()


# ------------------------------------------------------------------ the list


def test_it_lists_articles_by_status_with_search_and_department(
    account: Account,
    editor: Any,
    department: Department,
    other_department: Department,
    django_assert_max_num_queries: Any,
) -> None:
    a = draft(account, editor, "东湖区停水", source_department=department)
    b = draft(account, editor, "社保卡补办", source_department=other_department)
    c = draft(account, editor, "东湖公园开放")
    Article.objects.filter(pk=b.pk).update(status=Article.Status.PROOFREADING)
    Article.objects.filter(pk=c.pk).update(status=Article.Status.PUBLISHED)
    client = client_for(editor)
    url = reverse("content:articles")
    r = client.get(url)
    assert r.status_code == 200
    assert [x.pk for x in r.context["page"]] == [c.pk, b.pk, a.pk]
    assert {t["key"]: t["count"] for t in r.context["tabs"]} == {
        "all": 3, "draft": 1, "review": 1, "scheduled": 0, "published": 1, "failed": 0,
    }  # fmt: skip
    assert [x.pk for x in client.get(url, {"tab": "review"}).context["page"]] == [b.pk]
    assert [x.pk for x in client.get(url, {"q": "东湖"}).context["page"]] == [c.pk, a.pk]
    r = client.get(url, {"dept": department.pk})
    assert [x.pk for x in r.context["page"]] == [a.pk]
    assert 'id="nav-content" aria-current="page"' in texts(r)
    # the page's queries do not grow with its rows
    for i in range(20):
        draft(account, editor, f"第{i}篇", source_department=department)
    with django_assert_max_num_queries(12):
        r = client.get(url)
    assert len(r.context["page"]) == 23


def test_a_liaison_sees_only_their_departments_articles_and_another_is_404(
    account: Account,
    liaison: Any,
    editor: Any,
    department: Department,
    other_department: Department,
) -> None:
    mine = draft(account, editor, "水务信息", source_department=department)
    theirs = draft(account, editor, "人社信息", source_department=other_department)
    client = client_for(liaison)
    r = client.get(reverse("content:articles"))
    assert [x.pk for x in r.context["page"]] == [mine.pk]
    assert "只显示市水务局的稿件" in texts(r)
    assert client.get(reverse("content:article", args=[mine.pk])).status_code == 200
    before = (Revision.objects.count(), AuditEvent.objects.count())
    for name in ("article", "article_edit", "article_compare"):
        assert client.get(reverse(f"content:{name}", args=[theirs.pk])).status_code == 404, name
    assert client.get(reverse("content:article_revision", args=[theirs.pk, 1])).status_code == 404
    for name in ("article_edit", "article_lock", "article_release", "article_restore"):
        r = client.post(reverse(f"content:{name}", args=[theirs.pk]), {"number": 1, "revision": 1})
        assert r.status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.locked_by == editor and theirs.revision == 1
    assert (Revision.objects.count(), AuditEvent.objects.count()) == before


def test_a_liaison_writes_for_their_own_department(
    account: Account, liaison: Any, department: Department, other_department: Department
) -> None:
    client = client_for(liaison)
    r = client.get(reverse("content:article_new"))
    assert r.status_code == 200
    assert list(r.context["departments"]) == [department]
    r = client.post(reverse("content:article_new"), form(source_department=department.pk))
    assert r.status_code == 302
    assert Article.objects.get().source_department == department
    r = client.post(
        reverse("content:article_new"), form("人社信息", source_department=other_department.pk)
    )
    assert r.status_code == 403
    assert Article.objects.count() == 1
    # once submitted, the draft is no longer theirs to edit: they read it
    a = Article.objects.get()
    Article.objects.filter(pk=a.pk).update(status=Article.Status.VERIFYING)
    r = client.get(reverse("content:article_edit", args=[a.pk]))
    assert r.status_code == 200 and "稿件已提交，部门联络员不能再修改" in r.context["why"]
    r = client.post(reverse("content:article_edit", args=[a.pk]), form("改", revision=1))
    assert r.status_code == 403
    assert Article.objects.get(pk=a.pk).title == "东湖区明日停水"


def test_who_may_open_what(
    account: Account, editor: Any, reviewer: Any, outsider: Any, operator: Any
) -> None:
    a = draft(account, editor)
    anonymous = Client().get(reverse("content:article_edit", args=[a.pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    # a reviewer reads articles but does not write them
    c = client_for(reviewer)
    assert c.get(reverse("content:article", args=[a.pk])).status_code == 200
    assert c.get(reverse("content:article_edit", args=[a.pk])).status_code == 403
    assert c.get(reverse("content:article_new")).status_code == 403
    r = c.post(reverse("content:article_edit", args=[a.pk]), form("改", revision=1))
    assert r.status_code == 403
    # someone of another account: not theirs to see
    c = client_for(outsider)
    assert c.get(reverse("content:article", args=[a.pk])).status_code == 404
    assert c.post(reverse("content:article_unlock", args=[a.pk])).status_code == 404
    # only a publisher lifts a lock
    assert (
        client_for(editor).post(reverse("content:article_unlock", args=[a.pk])).status_code == 403
    )
    a.refresh_from_db()
    assert a.title == "停水通知" and a.revision == 1 and a.locked_by == editor
    assert not AuditEvent.objects.filter(name="article.unlocked").exists()


# ------------------------------------------------------------------ the editor


def test_an_editor_writes_saves_and_edits_again(
    account: Account, editor: Any, picture: Material, department: Department
) -> None:
    client = client_for(editor)
    r = client.get(reverse("content:article_new"))
    assert r.status_code == 200
    page = texts(r)
    assert "content/vendor/quill-2.0.3/quill.js" in page and 'id="phone"' in page
    body = [TEXT, {"type": "image", "material": str(picture.pk), "caption": "新建的水厂全景"}]
    r = client.post(
        reverse("content:article_new"),
        form(body=body, cover=picture.pk, source_department=department.pk, locality="province"),
    )
    a = Article.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("content:article_edit", args=[a.pk])
    assert a.revision == 1 and a.locked_by == editor and a.cover == picture
    assert a.body[1] == {"type": "image", "material": picture.pk, "caption": "新建的水厂全景"}
    assert f'src="/content/materials/{picture.pk}/file"' in a.html and "新建的水厂全景" in a.html
    assert a.locality == "province" and a.source_department == department

    r = client.get(reverse("content:article_edit", args=[a.pk]))
    assert r.status_code == 200
    assert r.context["revision"] == 1
    setup = r.context["setup"]
    assert setup["body"] == a.body and str(picture.pk) in setup["materials"]
    assert setup["urls"]["lock"] == reverse("content:article_lock", args=[a.pk])
    assert "<strong>东湖区</strong>" in texts(r)  # the phone preview

    r = client.post(
        reverse("content:article_edit", args=[a.pk]),
        form("东湖区明日停水通知", body=[TEXT], revision=1, note="去掉图片",
             original="0", source_name="市水务局网站", source_url="https://sw.example.gov.cn/1"),
    )  # fmt: skip
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.revision == 2 and a.title == "东湖区明日停水通知" and not a.original
    assert a.source_name == "市水务局网站" and a.cover is None
    assert Revision.objects.get(article=a, number=2).note == "去掉图片"


def _other_account_picture(other_account: Account) -> Material:
    return material(other_account, name="other")


BAD = [
    ("title", lambda m: form("长" * 33), "标题最多 32 字，现为 33 字"),
    ("empty title", lambda m: form(""), "标题不能为空"),
    ("script", lambda m: form(body=[{"type": "text", "html": "<p>x<script>alert(1)</script></p>"}]), "正文不能含有脚本（<script>）"),
    ("iframe", lambda m: form(body=[{"type": "text", "html": '<iframe src="https://x.cn"></iframe>'}]), "内嵌网页（iframe）"),
    ("event", lambda m: form(body=[{"type": "text", "html": '<p onclick="x()">x</p>'}]), "脚本事件（onclick）"),
    ("http link", lambda m: form(body=[{"type": "text", "html": '<p><a href="http://x.cn/a">x</a></p>'}]), "链接须为 HTTPS：http://x.cn/a"),
    ("http h5", lambda m: form(body=[{"type": "h5", "url": "http://x.cn", "title": "x"}]), "第 1 段：链接须为 HTTPS"),
    ("video host", lambda m: form(body=[{"type": "video", "url": "https://www.youtube.com/watch?v=1"}]), "视频须为素材库中的视频或腾讯视频（v.qq.com）的 HTTPS 链接"),
    ("video http", lambda m: form(body=[{"type": "video", "url": "http://v.qq.com/x/page/a.html"}]), "腾讯视频（v.qq.com）的 HTTPS 链接"),
    ("too long", lambda m: form(body=[{"type": "text", "html": "<p>" + "字" * 20_000 + "</p>"}]), "正文须少于 20000 字符"),
    ("bad json", lambda m: dict(form(), body="[{"), "正文数据不是有效的 JSON"),
    ("not a list", lambda m: dict(form(), body='{"type": "text"}'), "正文格式不正确"),
    ("bad block", lambda m: form(body=["text"]), "第 1 段格式不正确"),
    ("bad id", lambda m: form(body=[{"type": "image", "material": "abc"}]), "第 1 段：编号不正确"),
    ("unknown type", lambda m: form(body=[{"type": "poll"}]), "未知的内容类型 'poll'"),
    ("other's picture", lambda m: form(body=[{"type": "image", "material": m.pk}]), "第 1 段：素材不存在或类型不符"),
    ("other's cover", lambda m: form(cover=m.pk), "封面须为本公众号素材库中的图片"),
    ("no cover", lambda m: form(cover=999999), "所选封面不存在"),
    ("repost", lambda m: form(original="0"), "转载须注明来源"),
    ("source http", lambda m: form(original="0", source_name="x", source_url="http://x.cn"), "原文链接须为 HTTPS"),
    ("author", lambda m: form(author="作" * 17), "作者最多 16 字"),
    ("locality", lambda m: form(locality="moon"), "未知的内容属地"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named_in_the_editor_and_nothing_is_created(
    account: Account, other_account: Account, editor: Any, case: str, make: Any, message: str
) -> None:
    data = make(_other_account_picture(other_account))
    r = client_for(editor).post(reverse("content:article_new"), data)
    assert r.status_code == 400
    assert any(message in e for e in r.context["errors"]), r.context["errors"]
    assert 'id="article-errors"' in texts(r)
    assert not Article.objects.exists() and not Revision.objects.exists()
    # what was typed is shown again
    assert r.context["f"]["title"] == data["title"]


@pytest.mark.parametrize(("case", "make", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_named_in_the_editor_and_nothing_is_saved(
    account: Account, other_account: Account, editor: Any, case: str, make: Any, message: str
) -> None:
    a = draft(account, editor)
    data = make(_other_account_picture(other_account))
    data["revision"] = "1"
    r = client_for(editor).post(reverse("content:article_edit", args=[a.pk]), data)
    assert r.status_code == 400
    assert any(message in e for e in r.context["errors"]), r.context["errors"]
    a.refresh_from_db()
    assert a.revision == 1 and a.title == "停水通知" and a.body == [TEXT]
    assert Revision.objects.filter(article=a).count() == 1


def test_the_live_check_names_the_problems_and_previews_without_saving(
    account: Account, editor: Any, picture: Material
) -> None:
    client = client_for(editor)
    url = reverse("content:article_check")
    body = [
        {"type": "text", "html": '<p>停水<script>alert(1)</script><a href="http://x.cn">详情</a></p>'},
        {"type": "image", "material": picture.pk},
        {"type": "video", "url": "https://vimeo.com/1"},
    ]  # fmt: skip
    r = client.post(url, form("长" * 70, body=body), HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    out = r.json()
    assert out["problems"] == [
        "标题最多 32 字，现为 70 字 / title too long",
        "第 1 段：正文不能含有脚本（<script>），微信会删除 / <script> is not allowed",
        "第 1 段：链接须为 HTTPS：http://x.cn / links must be HTTPS",
        "第 3 段：视频须为素材库中的视频或腾讯视频（v.qq.com）的 HTTPS 链接 / "
        "block 3: videos come from the library or v.qq.com",
    ]
    assert "<script" not in out["html"] and f"/content/materials/{picture.pk}/file" in out["html"]
    assert out["chars"] == len(out["html"])
    good = client.post(url, form(), HTTP_ACCEPT="application/json").json()
    assert good["problems"] == [] and "<strong>东湖区</strong>" in good["html"]
    # a plain form post (no script) goes back to the list
    assert client.post(url, form()).status_code == 302
    assert not Article.objects.exists()


def test_a_stale_save_is_a_conflict_and_keeps_what_was_typed(account: Account, editor: Any) -> None:
    a = draft(account, editor)
    articles.save_article(a, ArticleInput("停水通知（更新）", [TEXT]), revision=1, actor=editor)
    r = client_for(editor).post(
        reverse("content:article_edit", args=[a.pk]), form("我的标题", revision=1)
    )
    assert r.status_code == 409
    page = texts(r)
    assert "文章已被修改（第 2 版）" in page and 'id="conflict"' in page
    assert r.context["f"]["title"] == "我的标题" and r.context["revision"] == 1
    assert reverse("content:article_compare", args=[a.pk]) + "?a=1&amp;b=2" in page
    a.refresh_from_db()
    assert a.title == "停水通知（更新）" and a.revision == 2


def test_a_second_editor_sees_the_lock_and_a_publisher_lifts_it(
    account: Account, editor: Any, editor2: Any, operator: Any
) -> None:
    a = draft(account, editor)
    second = client_for(editor2)
    r = second.get(reverse("content:article_edit", args=[a.pk]))
    assert r.status_code == 200
    assert "content/articles_locked.html" in [t.name for t in r.templates]
    assert "editor 自" in r.context["why"] and "起正在编辑这篇文章" in r.context["why"]
    assert 'id="unlock"' not in texts(r)  # an editor cannot lift it
    # a save from the second editor is refused in words, nothing saved
    r = second.post(reverse("content:article_edit", args=[a.pk]), form("抢先", revision=1))
    assert r.status_code == 423 and "editor 自" in r.context["locked"]
    a.refresh_from_db()
    assert a.title == "停水通知" and a.revision == 1
    # the renewal answers in JSON: the holder keeps it, the other is told who holds it
    lock = reverse("content:article_lock", args=[a.pk])
    ok = client_for(editor).post(lock, HTTP_ACCEPT="application/json")
    assert ok.status_code == 200 and ok.json()["locked"] is True
    refused = second.post(lock, HTTP_ACCEPT="application/json")
    assert refused.status_code == 423 and "editor 自" in refused.json()["error"]
    # the article's page says who is editing; a publisher lifts the lock (audited)
    publisher = client_for(operator)
    r = publisher.get(reverse("content:article", args=[a.pk]))
    assert 'id="lock-state"' in texts(r) and 'id="unlock"' in texts(r)
    r = publisher.get(reverse("content:article_edit", args=[a.pk]))
    assert r.context["can_unlock"] is True
    r = publisher.post(reverse("content:article_unlock", args=[a.pk]))
    assert r.status_code == 302
    assert AuditEvent.objects.filter(name="article.unlocked", data__holder=editor.pk).exists()
    a.refresh_from_db()
    assert a.locked_by is None
    r = second.get(reverse("content:article_edit", args=[a.pk]))
    assert "content/articles_editor.html" in [t.name for t in r.templates]
    a.refresh_from_db()
    assert a.locked_by == editor2


def test_leaving_the_editor_releases_only_ones_own_lock(
    account: Account, editor: Any, editor2: Any
) -> None:
    a = draft(account, editor)
    release = reverse("content:article_release", args=[a.pk])
    client_for(editor2).post(release)
    a.refresh_from_db()
    assert a.locked_by == editor
    assert client_for(editor).post(release).status_code == 302
    a.refresh_from_db()
    assert a.locked_by is None and a.locked_at is None


def test_a_published_article_opens_read_only(account: Account, editor: Any) -> None:
    a = draft(account, editor)
    Article.objects.filter(pk=a.pk).update(status=Article.Status.PUBLISHED)
    client = client_for(editor)
    r = client.get(reverse("content:article_edit", args=[a.pk]))
    assert r.context["why"] == "已发布的文章不能修改。"
    r = client.post(reverse("content:article_edit", args=[a.pk]), form("改", revision=1))
    assert r.status_code == 200 and r.context["why"] == "已发布的文章不能修改。"
    a.refresh_from_db()
    assert a.title == "停水通知" and a.revision == 1


# ------------------------------------------------------------------ revisions


def test_revisions_are_shown_compared_and_restored(account: Account, editor: Any) -> None:
    a = draft(account, editor)
    articles.save_article(a, ArticleInput("停水通知（二）", [{"type": "text", "html": "<p>改了</p>"}]),
                          revision=1, actor=editor)  # fmt: skip
    client = client_for(editor)
    r = client.get(reverse("content:article", args=[a.pk]))
    assert [x.number for x in r.context["revisions"]] == [2, 1]
    assert 'id="restore-1"' in texts(r)
    r = client.get(reverse("content:article_revision", args=[a.pk, 1]))
    assert r.context["phone"]["title"] == "停水通知" and "东湖区" in r.context["phone"]["html"]
    assert client.get(reverse("content:article_revision", args=[a.pk, 9])).status_code == 404

    r = client.get(reverse("content:article_compare", args=[a.pk]))  # 1 → 2 by default
    changes = {str(c["field"]): c["rows"] for c in r.context["changes"]}
    assert changes["标题"] == [
        {"kind": "del", "mark": "-", "text": "停水通知"},
        {"kind": "ins", "mark": "+", "text": "停水通知（二）"},
    ]
    assert {"kind": "ins", "mark": "+", "text": "<p>改了</p>"} in changes["正文"]
    assert 'class="del"' in texts(r) and 'class="ins"' in texts(r)
    r = client.get(reverse("content:article_compare", args=[a.pk]), {"a": 1, "b": 7})
    assert r.status_code == 404 and "没有这两个版本" in r.context["error"]

    # restoring with the revision the page loaded; a stale one is refused in words
    restore = reverse("content:article_restore", args=[a.pk])
    r = client.post(restore, {"number": 1, "revision": 1}, follow=True)
    assert "没有恢复：文章已被修改（第 2 版）" in texts(r)
    assert Article.objects.get(pk=a.pk).revision == 2
    r = client.post(restore, {"number": 1, "revision": 2}, follow=True)
    assert "已恢复第 1 版，保存为第 3 版。" in texts(r)
    a.refresh_from_db()
    assert a.revision == 3 and a.title == "停水通知" and a.body == [TEXT]
    assert Revision.objects.get(article=a, number=3).note == "恢复第 1 版"
    assert a.locked_by == editor  # the editor held it before: they keep it
    r = client.post(restore, {"number": "", "revision": 3}, follow=True)
    assert "请选择要恢复的版本" in texts(r)
    assert Article.objects.get(pk=a.pk).revision == 3


def test_a_restore_by_someone_not_editing_leaves_the_article_unlocked(
    account: Account, editor: Any, editor2: Any
) -> None:
    a = draft(account, editor)
    articles.save_article(a, ArticleInput("二", [TEXT]), revision=1, actor=editor)
    articles.unlock_article(a, actor=editor)
    r = client_for(editor2).post(
        reverse("content:article_restore", args=[a.pk]), {"number": 1, "revision": 2}
    )
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.revision == 3 and a.locked_by is None


def test_a_restore_while_another_holds_the_lock_is_refused(
    account: Account, editor: Any, editor2: Any
) -> None:
    a = draft(account, editor)
    articles.save_article(a, ArticleInput("二", [TEXT]), revision=1, actor=editor)
    r = client_for(editor2).post(
        reverse("content:article_restore", args=[a.pk]), {"number": 1, "revision": 2}, follow=True
    )
    assert "没有恢复：editor 自" in texts(r)
    assert Article.objects.get(pk=a.pk).revision == 2


# ------------------------------------------------------------------ pickers


def test_the_pickers_list_this_accounts_materials_and_published_articles(
    account: Account, other_account: Account, editor: Any, picture: Material
) -> None:
    voice = material(account, Material.Kind.VOICE, "播报")
    material(other_account, name="别人的")
    client = client_for(editor)
    url = reverse("content:article_pick_materials")
    items = client.get(url, {"kind": "image"}).json()["items"]
    assert [i["id"] for i in items] == [picture.pk]
    assert items[0]["url"] == f"/content/materials/{picture.pk}/file"
    assert items[0]["caption"] == "新建的水厂"
    assert [i["id"] for i in client.get(url, {"kind": "voice"}).json()["items"]] == [voice.pk]
    assert client.get(url, {"kind": "image", "q": "水厂"}).json()["items"][0]["id"] == picture.pk
    assert client.get(url, {"kind": "image", "q": "没有"}).json()["items"] == []
    r = client.get(url, {"kind": "pdf"})
    assert r.status_code == 400 and "未知的素材类型" in r.json()["error"]

    published = draft(account, editor, "已发布的文章")
    draft(account, editor, "草稿")
    Article.objects.filter(pk=published.pk).update(
        status=Article.Status.PUBLISHED, wechat_url="https://mp.weixin.qq.com/s/abc"
    )
    items = client.get(reverse("content:article_pick_articles")).json()["items"]
    assert items == [
        {"id": published.pk, "title": "已发布的文章", "url": "https://mp.weixin.qq.com/s/abc",
         "published_at": ""},
    ]  # fmt: skip


def test_the_guide_picker_lists_the_catalogue(
    account: Account, organisation: Any, editor: Any, reviewer: Any
) -> None:
    from govwx.services.models import Service

    Service.objects.create(
        organisation=organisation, code="SB001", name="社保卡补办", category="social_security"
    )
    Service.objects.create(
        organisation=organisation, code="HK002", name="户口迁移", category="other"
    )
    url = reverse("console:content_guides")
    out = client_for(editor).get(url, {"q": "社保"}).json()
    assert out == {
        "items": [
            {"code": "SB001", "title": "社保卡补办", "url": f"/h/{account.appid}/s/SB001/"},
        ]
    }
    assert client_for(reviewer).get(url).status_code == 403
