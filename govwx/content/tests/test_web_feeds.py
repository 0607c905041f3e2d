"""An account's feeds: RSS 2.0 and Atom read back by feedparser, JSON Feed 1.1 checked
against the fields of its specification (https://www.jsonfeed.org/version/1.1/)."""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from django.test import Client

from govwx.accounts.models import Account
from govwx.content.models import Article, Material

from .test_web import BASE, make_picture, publish, write

pytestmark = pytest.mark.django_db

OLD = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
NEW = datetime(2026, 3, 5, 2, 15, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.GOVWX_PUBLIC_URL = BASE


@pytest.fixture
def two(account: Account, editor: Any, picture: Material) -> tuple[Article, Article]:
    """An older article with a picture and a cover, a newer repost; and a draft."""
    old = write(
        account, editor, "东湖区明日停水",
        body=[{"type": "text", "html": "<p>部分小区<strong>停水</strong>。</p>"},
              {"type": "image", "material": picture.pk}],
        author="水务局", digest="明日 9 时至 17 时停水", cover=picture,
    )  # fmt: skip
    new = write(account, editor, "全省医保新政解读", original=False, source_name="示例省发布",
                source_url="https://wx.example.gov.cn/a/src/", locality="province")  # fmt: skip
    write(account, editor, "草稿不进订阅")
    return publish(old, OLD), publish(new, NEW)


def utc_seconds(parsed: Any) -> int:
    return calendar.timegm(parsed)


def test_the_rss_feed_reads_back(client: Client, account: Account, two: Any, picture: Any) -> None:
    old, new = two
    r = client.get(f"/feeds/{account.appid}/rss.xml")
    assert r.status_code == 200 and r["Content-Type"] == "application/rss+xml; charset=utf-8"
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert feed.feed.title == "示例市发布"
    assert feed.feed.link == f"{BASE}/w/{account.appid}/"
    assert feed.feed.language == "zh-CN"
    assert [e.title for e in feed.entries] == ["全省医保新政解读", "东湖区明日停水"]
    e = feed.entries[1]
    assert e.link == e.id == f"{BASE}/a/{old.token}/"
    assert utc_seconds(e.published_parsed) == int(OLD.timestamp())
    assert e.author == "水务局"
    assert e.summary == "明日 9 时至 17 时停水"
    content = e.content[0].value
    assert "部分小区<strong>停水</strong>。" in content
    assert f'src="{BASE}/a/{old.token}/m/{picture.pk}"' in content  # absolute
    assert {t.term for t in e.tags} == {"日常信息", "本市"}
    assert feed.entries[0].author == "示例市发布"  # no author: the account


def test_the_atom_feed_reads_back(client: Client, account: Account, two: Any, picture: Any) -> None:
    old, new = two
    r = client.get(f"/feeds/{account.appid}/atom.xml")
    assert r.status_code == 200 and r["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "示例市发布"
    assert feed.feed.link == f"{BASE}/w/{account.appid}/"
    assert utc_seconds(feed.feed.updated_parsed) == int(NEW.timestamp())
    assert [e.title for e in feed.entries] == ["全省医保新政解读", "东湖区明日停水"]
    e = feed.entries[1]
    assert e.link == e.id == f"{BASE}/a/{old.token}/"
    assert utc_seconds(e.published_parsed) == int(OLD.timestamp())
    assert utc_seconds(e.updated_parsed) == int(OLD.timestamp())
    html = [c for c in e.content if c.type == "text/html"]
    assert len(html) == 1 and f'src="{BASE}/a/{old.token}/m/{picture.pk}"' in html[0].value
    assert "部分小区<strong>停水</strong>。" in html[0].value


# the top-level and item fields of JSON Feed 1.1; extensions start with "_"
TOP = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
       "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items"}  # fmt: skip
ITEM = {"id", "url", "external_url", "title", "content_html", "content_text", "summary",
        "image", "banner_image", "date_published", "date_modified", "authors", "tags",
        "language", "attachments"}  # fmt: skip


def check_json_feed(doc: dict[str, Any]) -> None:
    """What the 1.1 specification requires of a feed and its items."""
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["items"], list)
    assert set(doc) <= TOP, set(doc) - TOP
    for author in doc.get("authors", []):
        assert set(author) <= {"name", "url", "avatar"} and author
    for item in doc["items"]:
        assert set(item) <= ITEM, set(item) - ITEM
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        for key in ("date_published", "date_modified"):
            if key in item:  # RFC 3339: a date, a time and an offset
                assert datetime.fromisoformat(item[key]).utcoffset() is not None
        for key in ("url", "external_url", "image"):
            if key in item:
                assert item[key].startswith("https://")
        assert all(isinstance(t, str) for t in item.get("tags", []))


def test_the_json_feed_follows_1_1(
    client: Client, account: Account, two: Any, picture: Any
) -> None:
    old, new = two
    r = client.get(f"/feeds/{account.appid}/feed.json")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/feed+json; charset=utf-8"
    assert r["Access-Control-Allow-Origin"] == "*"
    doc = json.loads(r.content)
    check_json_feed(doc)
    assert doc["title"] == "示例市发布"
    assert doc["feed_url"] == f"{BASE}/feeds/{account.appid}/feed.json"
    assert doc["home_page_url"] == f"{BASE}/w/{account.appid}/"
    assert doc["language"] == "zh-CN"
    assert [i["title"] for i in doc["items"]] == ["全省医保新政解读", "东湖区明日停水"]
    repost, first = doc["items"]
    assert first == {
        "id": f"{BASE}/a/{old.token}/",
        "url": f"{BASE}/a/{old.token}/",
        "title": "东湖区明日停水",
        "content_html": first["content_html"],
        "date_published": "2026-03-01T16:30:00+00:00",
        "authors": [{"name": "水务局"}],
        "tags": ["日常信息", "本市"],
        "language": "zh-CN",
        "summary": "明日 9 时至 17 时停水",
        "image": f"{BASE}/a/{old.token}/m/{picture.pk}",
    }
    assert f'<img src="{BASE}/a/{old.token}/m/{picture.pk}"' in first["content_html"]
    assert repost["external_url"] == "https://wx.example.gov.cn/a/src/"
    assert repost["tags"] == ["日常信息", "本省"]


def test_the_feeds_carry_the_latest_fifty(client: Client, account: Account) -> None:
    Article.objects.bulk_create(
        Article(account=account, title=f"第{i}篇", status=Article.Status.PUBLISHED,
                published_at=OLD + timedelta(hours=i), html=f"<p>{i}</p>")
        for i in range(52)
    )  # fmt: skip
    rss = feedparser.parse(client.get(f"/feeds/{account.appid}/rss.xml").content)
    atom = feedparser.parse(client.get(f"/feeds/{account.appid}/atom.xml").content)
    doc = json.loads(client.get(f"/feeds/{account.appid}/feed.json").content)
    want = [f"第{i}篇" for i in range(51, 1, -1)]
    assert [e.title for e in rss.entries] == want
    assert [e.title for e in atom.entries] == want
    assert [i["title"] for i in doc["items"]] == want
    assert doc["items"][0]["content_html"] == "<p>51</p>"  # no blocks: the stored HTML


def test_an_account_without_articles_has_empty_valid_feeds(
    client: Client, account: Account, other_account: Account, editor: Any
) -> None:
    publish(write(account, editor))  # another account's articles stay out
    for kind in ("rss.xml", "atom.xml"):
        feed = feedparser.parse(client.get(f"/feeds/{other_account.appid}/{kind}").content)
        assert not feed.bozo and feed.entries == [] and feed.feed.title == "另一个县发布"
    doc = json.loads(client.get(f"/feeds/{other_account.appid}/feed.json").content)
    check_json_feed(doc)
    assert doc["items"] == []


@pytest.mark.parametrize("kind", ["rss.xml", "atom.xml", "feed.json"])
def test_an_unknown_or_inactive_account_has_no_feed(
    client: Client, account: Account, kind: str
) -> None:
    assert client.get(f"/feeds/wx0000000000000000/{kind}").status_code == 404
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert client.get(f"/feeds/{account.appid}/{kind}").status_code == 404


def test_a_withdrawn_article_leaves_the_feeds(
    client: Client, account: Account, editor: Any
) -> None:
    a = publish(write(account, editor, "撤回的文章"))
    Article.objects.filter(pk=a.pk).update(status=Article.Status.WITHDRAWN)
    doc = json.loads(client.get(f"/feeds/{account.appid}/feed.json").content)
    assert doc["items"] == []
    assert "撤回的文章" not in client.get(f"/feeds/{account.appid}/rss.xml").content.decode()


def test_a_picture_of_another_account_is_not_in_the_feed(
    client: Client, account: Account, other_account: Account, editor: Any
) -> None:
    a = publish(write(account, editor))
    foreign = make_picture(other_account, "别处的")
    Article.objects.filter(pk=a.pk).update(body=[{"type": "image", "material": foreign.pk}])
    doc = json.loads(client.get(f"/feeds/{account.appid}/feed.json").content)
    assert f"/m/{foreign.pk}" not in doc["items"][0]["content_html"]
