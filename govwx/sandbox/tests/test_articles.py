"""Published articles as followers meet them: the account's history, an article opened on
the phone (a read each time), likes and 在看 (one each per follower, taken back by a
second tap), the counts in the driver API, and the article pages — the content in a
sandboxed frame under a Content-Security-Policy, since it is HTML from the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from govwx.sandbox import services
from govwx.sandbox.models import Account, ArticleReaction, ArticleRead, Follower

from .kit import API, add_draft, article, call, cover, run_jobs, token_for
from .peer import APPID

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    return token_for(client)


def publish(client: Client, token: str, *articles: dict[str, Any]) -> str:
    media_id = add_draft(client, token, *articles)
    publish_id = call(client, "freepublish/submit", token, {"media_id": media_id})["publish_id"]
    run_jobs(client)
    return str(call(client, "freepublish/get", token, {"publish_id": publish_id})["article_id"])


def act(client: Client, follower: Follower, article_id: str, idx: int, action: str) -> Any:
    return client.post(
        f"{API}{APPID}/followers/{follower.openid}/articles/{article_id}/{idx}/{action}",
        {},
        content_type="application/json",
    )


@pytest.fixture
def second(sandbox_account: Account) -> Follower:
    follower = services.create_follower(sandbox_account, "oSecond000000000000000000002", "小李")
    services.follow(follower)
    return follower


def test_a_follower_reads_likes_and_marks_an_article(
    client: Client, token: str, follower: Follower, second: Follower
) -> None:
    thumb = cover(client, token)
    article_id = publish(client, token, article(thumb))
    opened = act(client, follower, article_id, 1, "open")
    assert opened.status_code == 200
    shown = opened.json()
    assert shown == {
        "article_id": article_id,
        "idx": 1,
        "title": "示例市开展冬季供暖检查",
        "author": "市发布",
        "account_name": "示例市发布",
        "published_at": shown["published_at"],
        "date": shown["date"],
        "deleted": False,
        "content_url": f"/sandbox/s/{article_id}/1/content",
        "url": f"http://testserver/sandbox/s/{article_id}/1",
        "source_url": "https://www.example.gov.cn/news/1",
        "liked": False,
        "wowed": False,
        "read_count": 1,
        "read_user": 1,
        "like_count": 0,
        "wow_count": 0,
    }
    assert act(client, follower, article_id, 1, "open").json()["read_count"] == 2  # each open
    assert act(client, follower, article_id, 1, "like").json()["like_count"] == 1
    liked = act(client, second, article_id, 1, "like").json()
    assert (liked["like_count"], liked["liked"]) == (2, True)
    taken_back = act(client, follower, article_id, 1, "like").json()
    assert (taken_back["like_count"], taken_back["liked"]) == (1, False)
    wow = act(client, follower, article_id, 1, "wow").json()
    assert (wow["wow_count"], wow["wowed"], wow["liked"]) == (1, True, False)
    assert ArticleReaction.objects.count() == 2
    stats = client.get(f"{API}{APPID}/articles/{article_id}").json()
    assert stats["items"][0] | {"thumb_url": ""} == {
        "idx": 1,
        "title": "示例市开展冬季供暖检查",
        "digest": "本市今日起开展冬季供暖设施安全检查，请居民配合。",
        "url": f"http://testserver/sandbox/s/{article_id}/1",
        "thumb_url": "",
        "deleted": False,
        "read_count": 2,
        "read_user": 1,
        "like_count": 1,
        "wow_count": 1,
    }
    assert stats["origin"] == "publish"


def test_the_history_is_newest_first(client: Client, token: str, follower: Follower) -> None:
    thumb = cover(client, token)
    first = publish(client, token, article(thumb, title="第一篇"))
    second = publish(client, token, article(thumb, title="第二篇"))
    history = client.get(f"{API}{APPID}/articles").json()["articles"]
    assert [a["article_id"] for a in history] == [second, first]
    assert [a["items"][0]["title"] for a in history] == ["第二篇", "第一篇"]
    call(client, "freepublish/delete", token, {"article_id": second})
    assert [a["article_id"] for a in client.get(f"{API}{APPID}/articles").json()["articles"]] == [
        first
    ]


def test_a_deleted_article_can_be_opened_but_not_read_or_liked(
    client: Client, token: str, follower: Follower
) -> None:
    thumb = cover(client, token)
    article_id = publish(client, token, article(thumb))
    call(client, "freepublish/delete", token, {"article_id": article_id})
    opened = act(client, follower, article_id, 1, "open").json()
    assert (opened["deleted"], opened["content_url"], opened["read_count"]) == (True, "", 0)
    refused = act(client, follower, article_id, 1, "like")
    assert refused.status_code == 409
    assert refused.json()["error"] == "该内容已被发布者删除 / the article has been deleted"
    assert not ArticleRead.objects.exists() and not ArticleReaction.objects.exists()
    page = client.get(f"/sandbox/s/{article_id}/1")
    assert page.status_code == 410 and "该内容已被发布者删除" in page.content.decode()
    assert client.get(f"/sandbox/s/{article_id}/1/content").status_code == 404


def test_bad_phone_requests(client: Client, token: str, follower: Follower) -> None:
    thumb = cover(client, token)
    article_id = publish(client, token, article(thumb))
    assert act(client, follower, article_id, 2, "open").status_code == 404
    assert act(client, follower, "NOPE", 1, "open").status_code == 404
    assert act(client, follower, article_id, 1, "share").status_code == 404
    path = f"{API}{APPID}/followers/{follower.openid}/articles/{article_id}/1/open"
    assert client.get(path).status_code == 405
    assert client.get(f"{API}{APPID}/articles/NOPE").status_code == 404
    assert client.get(f"{API}wxnobody/articles").status_code == 404
    assert not ArticleRead.objects.exists()


def test_the_article_page_renders_as_wechat_does(client: Client, token: str) -> None:
    thumb = cover(client, token)
    unsafe = '<p>正文<script>alert(1)</script><img src="x" onerror="alert(2)"></p>'
    article_id = publish(client, token, article(thumb, content=unsafe))
    page = client.get(f"/sandbox/s/{article_id}/1")
    assert page.status_code == 200
    html = page.content.decode()
    for marker in (
        '<h1 class="article-title" data-testid="article-title">示例市开展冬季供暖检查</h1>',
        ">市发布</span>",
        ">示例市发布</span>",
        f'src="/sandbox/s/{article_id}/1/content"',
        'sandbox="allow-popups allow-popups-to-escape-sandbox"',
        "阅读原文",
        "阅读 0 · 赞 0 · 在看 0",
    ):
        assert marker in html, marker
    content = client.get(f"/sandbox/s/{article_id}/1/content")
    assert content.status_code == 200
    csp = content["Content-Security-Policy"]
    assert csp.startswith(
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none';"
    )
    assert "script-src" not in csp  # default-src 'none' forbids scripts
    assert content["X-Frame-Options"] == "SAMEORIGIN"
    body = content.content.decode()
    assert "<p>正文<img></p>" in body
    assert "alert" not in body


def test_the_phone_page_offers_the_history_and_the_article_view(
    client: Client, sandbox_account: Account
) -> None:
    html = client.get("/sandbox/").content.decode()
    for marker in (
        'id="open-history"',
        'id="history-list"',
        'id="article-body"',
        'id="article-like"',
    ):
        assert marker in html
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    strings = json.loads(
        html.split('id="sandbox-strings" type="application/json">')[1].split("</script>")[0]
    )
    assert (strings["history"], strings["wow"], strings["like"]) == ("历史文章", "在看", "赞")


def test_accounts_carry_their_type(client: Client) -> None:
    body = {
        "name": "示例市政务服务", "appid": "wxservice000001", "secret": "s3cr3t", "token": "tok123",
        "mode": "plaintext", "type": "service", "verified": False,
    }  # fmt: skip
    created = client.post(f"{API[:-1]}", body, content_type="application/json")
    assert created.status_code == 201
    assert (created.json()["type"], created.json()["verified"]) == ("service", False)
    for bad, error in (
        ({"type": "enterprise"}, "type 须为 subscription（订阅号）或 service（服务号）"),
        ({"verified": "yes"}, "verified must be true or false"),
    ):
        refused = client.post(f"{API[:-1]}", {**body, **bad}, content_type="application/json")
        assert refused.status_code == 400 and error in refused.json()["error"]
    account = Account.objects.get()
    assert (account.kind, account.verified) == ("service", False)
