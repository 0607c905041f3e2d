"""The draft box by WeChat's rules: draft/add (fields, lengths, content size, covers, the
content's HTML as WeChat keeps it), get, update, delete, count and batchget."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from govwx.sandbox.models import Account, Draft, Material

from .conftest import register
from .kit import add_draft, add_material, article, call, cover, token_for, upload
from .mediafiles import amr, picture

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    return token_for(client)


@pytest.fixture
def thumb(client: Client, token: str) -> str:
    return cover(client, token)


def test_it_keeps_a_draft(client: Client, token: str, thumb: str) -> None:
    media_id = add_draft(client, token, article(thumb, digest="供暖检查"))
    got = call(client, "draft/get", token, {"media_id": media_id})
    assert got == {
        "news_item": [
            {
                "title": "示例市开展冬季供暖检查",
                "author": "市发布",
                "digest": "供暖检查",
                "content": "<p>本市今日起开展冬季供暖设施安全检查，<strong>请居民配合</strong>。</p>",
                "content_source_url": "https://www.example.gov.cn/news/1",
                "thumb_media_id": thumb,
                "show_cover_pic": 0,
                "need_open_comment": 1,
                "only_fans_can_comment": 0,
                "pic_crop_235_1": "",
                "pic_crop_1_1": "",
                "url": "",
                "thumb_url": f"http://testserver/sandbox/material/{thumb}",
            }
        ]
    }
    assert call(client, "draft/count", token, method="GET") == {"total_count": 1}


def test_a_single_articles_empty_digest_is_the_start_of_its_text(
    client: Client, token: str, thumb: str
) -> None:
    text = "一二三四五六七八九十" * 7
    single = add_draft(client, token, article(thumb, content=f"<p>{text}</p>"))
    assert (
        call(client, "draft/get", token, {"media_id": single})["news_item"][0]["digest"]
        == (text[:54])
    )
    double = add_draft(client, token, article(thumb, digest="摘要"), article(thumb, title="第二篇"))
    items = call(client, "draft/get", token, {"media_id": double})["news_item"]
    assert [i["digest"] for i in items] == ["", ""]  # only a single article has a digest
    assert [i["title"] for i in items] == ["示例市开展冬季供暖检查", "第二篇"]


def test_the_content_keeps_only_what_wechat_keeps(client: Client, token: str, thumb: str) -> None:
    own = upload(client, "media/uploadimg", token, picture())["url"]
    content = (
        '<p onclick="steal()">你好<script>alert(1)</script></p>'
        f'<img src="{own}" onerror="x()">'
        '<img src="https://evil.example.com/a.png">'
        '<a href="javascript:alert(1)">坏链接</a>'
        '<a href="https://www.example.gov.cn/">政府网</a>'
        '<iframe src="https://evil.example.com/"></iframe>'
        '<section style="color: red; background: url(https://evil.example.com/t)">段落</section>'
        '<span style="color: #333">正文</span>'
    )
    media_id = add_draft(client, token, article(thumb, content=content))
    kept = call(client, "draft/get", token, {"media_id": media_id})["news_item"][0]["content"]
    assert kept == (
        "<p>你好</p>"
        f'<img src="{own}">'
        "<img>"
        '<a rel="noopener noreferrer">坏链接</a>'
        '<a href="https://www.example.gov.cn/" rel="noopener noreferrer">政府网</a>'
        "<section>段落</section>"
        '<span style="color: #333">正文</span>'
    )


LONG = "长" * 33
DROP = object()  # a field left out


@pytest.mark.parametrize(
    ("articles", "errcode"),
    [
        (None, 44003),
        ([], 44003),
        ("not a list", 47001),
        (["not an article"], 47001),
        ([{"title": DROP}], 40227),
        ([{"title": "   "}], 40227),
        ([{"title": LONG}], 45003),
        ([{"title": 5}], 47001),
        ([{"author": "作" * 17}], 45110),
        ([{"digest": "摘" * 129}], 45004),
        ([{"content": DROP}], 44004),
        ([{"content": "  "}], 44004),
        ([{"content": "x" * 20_000}], 45002),
        ([{"content_source_url": "https://x.cn/" + "a" * 1012}], 45005),
        ([{"content_source_url": "ftp://x.cn/a"}], 40048),
        ([{"thumb_media_id": DROP}], 40007),
        ([{"thumb_media_id": "NOPE"}], 40007),
        ([{"need_open_comment": 2}], 40035),
        ([{"article_type": "newspic"}], 40035),
        ([{}] * 9, 45008),
    ],
)
def test_it_refuses_what_wechat_refuses(
    client: Client, token: str, thumb: str, articles: Any, errcode: int
) -> None:
    if isinstance(articles, list):
        articles = [
            {k: v for k, v in article(thumb, **a).items() if v is not DROP}
            if isinstance(a, dict)
            else a
            for a in articles
        ]
    answer = call(client, "draft/add", token, {} if articles is None else {"articles": articles})
    assert answer["errcode"] == errcode, answer
    assert answer["errmsg"]
    assert not Draft.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "长" * 32},
        {"author": "作" * 16},
        {"digest": "摘" * 128},
        {"content": "字" * 19_999},
        {"content_source_url": "https://x.cn/" + "a" * 1011},
        {"content_source_url": "", "author": "", "need_open_comment": True},
    ],
)
def test_it_takes_fields_at_their_limits(
    client: Client, token: str, thumb: str, overrides: dict[str, Any]
) -> None:
    assert add_draft(client, token, article(thumb, **overrides))
    assert Draft.objects.count() == 1


def test_a_cover_must_be_a_permanent_picture_of_the_account(
    client: Client, token: str, thumb: str
) -> None:
    voice = add_material(client, token, "voice", amr(1))["media_id"]
    other = register(appid="wxother0000000001")
    theirs = Material.objects.create(
        account=other, media_id="THEIRS", kind="thumb", content_type="image/jpeg",
        extension="jpg", data=picture(), size=1, created_at=timezone.now(),
    )  # fmt: skip
    image = add_material(client, token, "image", picture())["media_id"]
    for bad in (voice, theirs.media_id):
        answer = call(client, "draft/add", token, {"articles": [article(bad)]})
        assert answer["errcode"] == 40007
    assert not Draft.objects.exists()
    assert add_draft(client, token, article(image))  # a permanent image will do


def test_it_updates_one_article(client: Client, token: str, thumb: str) -> None:
    media_id = add_draft(client, token, article(thumb), article(thumb, title="第二篇"))
    changed = article(thumb, title="第二篇（更正）", content="<p>更正后的正文</p>")
    answer = call(
        client, "draft/update", token, {"media_id": media_id, "index": 1, "articles": changed}
    )
    assert answer == {"errcode": 0, "errmsg": "ok"}
    items = call(client, "draft/get", token, {"media_id": media_id})["news_item"]
    assert [i["title"] for i in items] == ["示例市开展冬季供暖检查", "第二篇（更正）"]
    assert items[1]["content"] == "<p>更正后的正文</p>"
    for body, errcode in (
        ({"media_id": media_id, "index": 2, "articles": changed}, 40060),
        ({"media_id": media_id, "index": -1, "articles": changed}, 40060),
        ({"media_id": "NOPE", "index": 0, "articles": changed}, 40007),
        ({"media_id": media_id, "index": 0, "articles": {**changed, "title": LONG}}, 45003),
        ({"media_id": media_id, "index": "x", "articles": changed}, 40035),
    ):
        assert call(client, "draft/update", token, body)["errcode"] == errcode
    items = call(client, "draft/get", token, {"media_id": media_id})["news_item"]
    assert items[0]["title"] == "示例市开展冬季供暖检查"  # the refused updates changed nothing


def test_it_deletes_and_lists_drafts(client: Client, token: str, thumb: str) -> None:
    ids = [add_draft(client, token, article(thumb, title=f"第{i}篇")) for i in range(3)]
    page = call(client, "draft/batchget", token, {"offset": 0, "count": 2, "no_content": 1})
    assert page["total_count"] == 3
    assert page["item_count"] == 2
    assert [i["media_id"] for i in page["item"]] == [ids[2], ids[1]]  # newest first
    assert page["item"][0]["content"]["news_item"][0]["title"] == "第2篇"
    assert "content" not in page["item"][0]["content"]["news_item"][0]
    full = call(client, "draft/batchget", token, {"offset": 2, "count": 20})
    assert full["item"][0]["content"]["news_item"][0]["content"].startswith("<p>")
    assert call(client, "draft/delete", token, {"media_id": ids[0]}) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert call(client, "draft/count", token, method="GET") == {"total_count": 2}
    assert call(client, "draft/delete", token, {"media_id": ids[0]})["errcode"] == 40007
    assert call(client, "draft/get", token, {"media_id": ids[0]})["errcode"] == 40007
    for body in (
        {"offset": 0, "count": 21},
        {"offset": 0},
        {"offset": 0, "count": 1, "no_content": 3},
    ):
        assert call(client, "draft/batchget", token, body)["errcode"] == 40035


def test_another_accounts_drafts_are_unknown(client: Client, token: str, thumb: str) -> None:
    media_id = add_draft(client, token, article(thumb))
    other = register(appid="wxother0000000001", secret="othersecret")
    theirs = token_for(client, "wxother0000000001", "othersecret")
    assert other.pk
    for path in ("draft/get", "draft/delete", "freepublish/submit"):
        assert call(client, path, theirs, {"media_id": media_id})["errcode"] == 40007
    assert Draft.objects.count() == 1
