"""The material library's console pages: the grid with its filters, the upload form
(several files, each with its outcome), a material's page (edit, where used, delete,
push and its failure in words), the file served only to people with materials.view."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from govwx.accounts.models import Account, AuditEvent
from govwx.content import materials
from govwx.content.models import Article, Material

from .conftest import png_bytes
from .test_materials import library_picture, still, stored_files, wav

pytestmark = pytest.mark.django_db


@pytest.fixture
def picture(account: Account, account_admin: Any) -> Material:
    return library_picture(account, account_admin)


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add(account: Account, actor: Any, data: bytes, name: str = "a.png", **kw: Any) -> Material:
    file = SimpleUploadedFile(name, data)
    return materials.upload(account, file, actor=actor, **kw).material


def page_text(response: Any) -> str:
    return str(response.content.decode())


# ------------------------------------------------------------------ the grid


def test_the_grid_shows_thumbnails_state_and_filters(
    account: Account, editor: Any, operator: Any
) -> None:
    water = add(account, editor, png_bytes((40, 30)), "水厂.png", caption="新建水厂", tags="水务")
    voice = add(account, operator, wav(2), "广播.wav")
    Material.objects.filter(pk=voice.pk).update(push_error="微信返回错误 -1：系统繁忙")
    r = logged_in(editor).get("/content/materials/")
    html = page_text(r)
    assert r.status_code == 200
    assert f'src="/content/materials/{water.pk}/file?thumb=1"' in html
    assert f'data-material="{voice.pk}" data-kind="voice" data-state="failed"' in html
    assert f'data-material="{water.pk}" data-kind="image" data-state="unsynced"' in html
    assert "新建水厂" in html and "#水务" in html and "同步失败" in html and "重试" in html
    r = logged_in(editor).get("/content/materials/", {"kind": "voice"})
    assert f'data-material="{voice.pk}"' in page_text(r)
    assert f'data-material="{water.pk}"' not in page_text(r)
    r = logged_in(editor).get("/content/materials/", {"q": "水厂"})
    assert f'data-material="{water.pk}"' in page_text(r)
    assert f'data-material="{voice.pk}"' not in page_text(r)
    r = logged_in(editor).get("/content/materials/", {"uploader": operator.pk})
    assert [m.pk for m in r.context["page"].object_list] == [voice.pk]
    r = logged_in(editor).get("/content/materials/", {"q": "没有这个"})
    assert "没有符合条件的素材。" in page_text(r)


def test_the_grid_costs_the_same_queries_for_one_material_or_many(
    account: Account, editor: Any, liaison: Any
) -> None:
    add(account, editor, png_bytes((20, 20)))

    def queries(user: Any) -> int:
        client = logged_in(user)
        client.get("/content/materials/")  # the session's first request chooses the account
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/content/materials/").status_code == 200
        return len(ctx.captured_queries)

    one = queries(editor), queries(liaison)
    for i in range(6):
        add(account, editor if i % 2 else liaison, png_bytes((21 + i, 20)), f"p{i}.png")
    assert (queries(editor), queries(liaison)) == one
    assert one == (QUERIES, QUERIES)


QUERIES = 13


def test_anonymous_people_are_sent_to_log_in(account: Account, picture: Material) -> None:
    for url in ("/content/materials/", f"/content/materials/{picture.pk}/",
                f"/content/materials/{picture.pk}/file"):  # fmt: skip
        r = Client().get(url)
        assert r.status_code == 302 and r["Location"].startswith("/login/"), url


def test_an_outsider_sees_neither_the_page_nor_the_file(
    account: Account, outsider: Any, picture: Material
) -> None:
    client = logged_in(outsider)
    assert client.get(f"/content/materials/{picture.pk}/").status_code == 404
    assert client.get(f"/content/materials/{picture.pk}/file").status_code == 404
    assert client.get(f"/content/materials/{picture.pk}/file?thumb=1").status_code == 404
    r = client.post(f"/content/materials/{picture.pk}/edit/", {"title": "改"})
    assert r.status_code == 404
    assert client.post(f"/content/materials/{picture.pk}/delete/").status_code == 404
    picture.refresh_from_db()
    assert picture.title == "水厂"
    assert f'data-material="{picture.pk}"' not in page_text(client.get("/content/materials/"))


def test_the_file_and_its_thumbnail_are_served_to_people_who_may_see_them(
    account: Account, editor: Any, reviewer: Any
) -> None:
    data = still("JPEG", (800, 600))
    m = add(account, editor, data, "x.jpg")
    r = logged_in(reviewer).get(f"/content/materials/{m.pk}/file")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert b"".join(r.streaming_content) == data  # type: ignore[attr-defined]
    assert r["Cache-Control"] == "private, max-age=3600"
    assert r["X-Content-Type-Options"] == "nosniff"
    r = logged_in(reviewer).get(f"/content/materials/{m.pk}/file?thumb=1")
    thumb = b"".join(r.streaming_content)  # type: ignore[attr-defined]
    assert r["Content-Type"] == "image/jpeg" and thumb[:3] == b"\xff\xd8\xff" and thumb != data
    voice = add(account, editor, wav(1), "v.wav")
    r = logged_in(reviewer).get(f"/content/materials/{voice.pk}/file?thumb=1")
    assert r["Content-Type"] == "audio/wav"  # no thumbnail: the file itself


# ------------------------------------------------------------------ upload


def test_several_files_at_once_each_with_its_outcome(account: Account, editor: Any) -> None:
    first = add(account, editor, png_bytes((50, 50)), "旧.png")
    r = logged_in(editor).post(
        "/content/materials/upload/",
        {
            "files": [
                SimpleUploadedFile("新.png", png_bytes((51, 50))),
                SimpleUploadedFile("扫描件.tif", still("TIFF")),
                SimpleUploadedFile("旧副本.png", png_bytes((50, 50))),
            ],
            "caption": "",
            "tags": "水务",
        },
    )
    assert r.status_code == 200
    html = page_text(r)
    assert "已上传「新」" in html
    assert "微信不接收 TIFF 格式的图片" in html
    assert "「旧」已在素材库中（同一文件），未重复上传" in html
    assert Material.objects.count() == 2
    new = Material.objects.get(title="新")
    assert new.tags == "水务" and Material.objects.get(pk=first.pk).tags == ""


def test_one_file_opens_its_page(account: Account, editor: Any) -> None:
    client = logged_in(editor)
    r = client.post(
        "/content/materials/upload/",
        {"files": SimpleUploadedFile("IMG_0001.png", png_bytes()), "title": "东湖水厂",
         "caption": "清水池", "kind": "image"},
    )  # fmt: skip
    m = Material.objects.get()
    assert (m.title, m.caption, m.uploaded_by) == ("东湖水厂", "清水池", editor)
    assert r.status_code == 302 and r["Location"] == f"/content/materials/{m.pk}/"
    html = page_text(client.get(r["Location"]))
    assert "已上传「东湖水厂」 / uploaded" in html
    assert 'id="material-title">东湖水厂' in html and "还没有文章使用这个素材。" in html


def test_no_file_chosen_is_said_and_nothing_stored(account: Account, editor: Any) -> None:
    r = logged_in(editor).post("/content/materials/upload/", {"title": "x"})
    assert r.status_code == 200 and "请选择要上传的文件" in page_text(r)
    assert not Material.objects.exists() and stored_files() == []


def test_a_role_without_materials_edit_cannot_open_the_upload_form(
    account: Account, reviewer: Any
) -> None:
    client = logged_in(reviewer)
    assert client.get("/content/materials/upload/").status_code == 403
    r = client.post(
        "/content/materials/upload/", {"files": SimpleUploadedFile("a.png", png_bytes())}
    )
    assert r.status_code == 403 and not Material.objects.exists() and stored_files() == []


# ------------------------------------------------------------------ a material's page


def test_the_caption_is_edited_on_the_page(
    account: Account, editor: Any, picture: Material
) -> None:
    client = logged_in(editor)
    r = client.post(
        f"/content/materials/{picture.pk}/edit/",
        {"title": "水厂", "caption": "东湖水厂的清水池", "tags": "水务 民生"},
        follow=True,
    )
    assert "已保存「水厂」" in page_text(r)
    picture.refresh_from_db()
    assert (picture.caption, picture.tags) == ("东湖水厂的清水池", "水务 民生")
    r = client.post(f"/content/materials/{picture.pk}/edit/", {"title": "", "caption": "x"})
    assert r.status_code == 400 and "名称不能为空" in page_text(r)
    picture.refresh_from_db()
    assert picture.caption == "东湖水厂的清水池"


def test_a_reviewer_sees_but_cannot_edit(
    account: Account, reviewer: Any, picture: Material
) -> None:
    client = logged_in(reviewer)
    r = client.get(f"/content/materials/{picture.pk}/")
    assert r.status_code == 200 and 'id="edit-form"' not in page_text(r)
    before = AuditEvent.objects.count()
    assert client.post(f"/content/materials/{picture.pk}/edit/", {"title": "改"}).status_code == 403
    assert client.post(f"/content/materials/{picture.pk}/delete/").status_code == 403
    assert client.post(f"/content/materials/{picture.pk}/push/").status_code == 403
    picture.refresh_from_db()
    assert picture.title == "水厂" and AuditEvent.objects.count() == before


def test_a_liaison_is_told_they_change_only_their_own(
    account: Account, liaison: Any, picture: Material
) -> None:
    client = logged_in(liaison)
    assert 'id="edit-form"' not in page_text(client.get(f"/content/materials/{picture.pk}/"))
    r = client.post(f"/content/materials/{picture.pk}/edit/", {"title": "改"}, follow=True)
    assert "部门联络员只能修改、删除自己上传的素材" in page_text(r)
    r = client.post(f"/content/materials/{picture.pk}/delete/", follow=True)
    assert "部门联络员只能修改、删除自己上传的素材" in page_text(r)
    picture.refresh_from_db()
    assert picture.title == "水厂" and Material.objects.filter(pk=picture.pk).exists()


def test_where_used_and_a_refused_delete_on_the_page(
    account: Account, editor: Any, picture: Material
) -> None:
    a = Article.objects.create(
        account=account, title="东湖区明日停水", body=[{"type": "image", "material": picture.pk}]
    )
    client = logged_in(editor)
    html = page_text(client.get(f"/content/materials/{picture.pk}/"))
    assert f'href="/content/articles/{a.pk}/"' in html and "正文" in html
    assert 'id="delete"' not in html
    r = client.post(f"/content/materials/{picture.pk}/delete/", follow=True)
    assert "「水厂」正被使用，不能删除：《东湖区明日停水》" in page_text(r)
    assert Material.objects.filter(pk=picture.pk).exists()
    a.delete()
    r = client.post(f"/content/materials/{picture.pk}/delete/", follow=True)
    assert r.redirect_chain[-1][0] == "/content/materials/" and "已删除「水厂」" in page_text(r)
    assert not Material.objects.exists()


def test_a_failed_push_is_shown_in_words_with_a_retry(
    account: Account, editor: Any, picture: Material, settings: Any
) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9/unreachable"
    client = logged_in(editor)
    r = client.post(f"/content/materials/{picture.pk}/push/", follow=True)
    html = page_text(r)
    assert "「水厂」未能同步到微信：无法连接微信接口，请稍后重试" in html
    assert 'id="push-error"' in html and "重试同步" in html
    picture.refresh_from_db()
    assert picture.push_error.startswith("无法连接微信接口，请稍后重试 / WeChat unreachable")
    assert picture.wechat_media_id == "" and picture.pushing_since is None
    assert materials.push_state(picture) == "failed"
    event = AuditEvent.objects.get(name="material.push_failed")
    assert (event.actor, event.data["step"], event.data["errcode"]) == (
        editor,
        "add_material",
        None,
    )
    grid = page_text(client.get("/content/materials/", {"state": "failed"}))
    assert f'data-material="{picture.pk}" data-kind="image" data-state="failed"' in grid


def test_a_pushed_material_is_not_pushed_again(
    account: Account, editor: Any, picture: Material, settings: Any
) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9/any-call-would-fail"
    Material.objects.filter(pk=picture.pk).update(
        wechat_media_id="MEDIA", article_url="https://mmbiz.qpic.cn/x.png"
    )
    r = logged_in(editor).post(f"/content/materials/{picture.pk}/push/", follow=True)
    assert "「水厂」已同步到微信" in page_text(r)
    picture.refresh_from_db()
    assert (
        picture.push_error == ""
        and not AuditEvent.objects.filter(name__startswith="material.push").exists()
    )
