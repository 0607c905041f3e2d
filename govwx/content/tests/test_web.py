"""The public web of articles: the H5 page and its pictures, the account's list, the
embeddable list (frameable page and script-free fragment)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from govwx.accounts.models import Account
from govwx.content import articles
from govwx.content.articles import ArticleInput
from govwx.content.models import Article, Material
from govwx.wechat.models import media_storage

from .conftest import png_bytes

pytestmark = pytest.mark.django_db

BASE = "https://wx.example.gov.cn"
AT = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)  # 2026-03-02 00:30 in Shanghai
TEXT = {"type": "text", "html": "<p>明天 9 时至 17 时，<strong>东湖区</strong>部分小区停水。</p>"}


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.GOVWX_PUBLIC_URL = BASE


def make_picture(account: Account, caption: str = "", color: str = "#c33") -> Material:
    data = png_bytes(color=color)
    m = Material(
        account=account, kind=Material.Kind.IMAGE, title=caption or color, caption=caption,
        content_type="image/png", size=len(data), width=64, height=48,
        sha256=hashlib.sha256(data).hexdigest(),
    )  # fmt: skip
    m.file.name = media_storage().save(f"content/{account.pk}/pic.png", ContentFile(data))
    m.save()
    return m


def publish(article: Article, at: datetime = AT, **fields: Any) -> Article:
    """Mark an article published (publishing itself is the publishing service's)."""
    Article.objects.filter(pk=article.pk).update(
        status=Article.Status.PUBLISHED, published_at=at, **fields
    )
    article.refresh_from_db()
    return article


def write(
    account: Account,
    actor: Any,
    title: str = "东湖区明日停水",
    body: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> Article:
    return articles.create_article(account, ArticleInput(title, body or [TEXT], **kw), actor=actor)


def published_article(account: Account, editor: Any, picture: Material, **kw: Any) -> Article:
    a = write(
        account, editor, body=[TEXT, {"type": "image", "material": picture.pk}],
        author="水务局", digest="东湖区部分小区明日停水", cover=picture, **kw,
    )  # fmt: skip
    return publish(a)


# ------------------------------------------------------------------ the H5 page


def test_it_shows_a_published_article(
    client: Client, account: Account, editor: Any, picture: Material
) -> None:
    a = published_article(account, editor, picture)
    r = client.get(f"/a/{a.token}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<h1 class="w-title" id="title">东湖区明日停水</h1>' in html
    assert '<span class="w-author" id="author">水务局</span>' in html
    assert "<strong>东湖区</strong>部分小区停水" in html
    assert f'<img src="/a/{a.token}/m/{picture.pk}"' in html
    assert ">新建的水厂<" in html  # the caption under the picture
    assert '<span class="w-account-name">示例市发布</span>' in html
    assert ">示</span>" in html  # no logo: the initial badge
    assert ">2026年3月2日 00:30</time>" in html  # Asia/Shanghai
    assert 'datetime="2026-03-01T16:30:00+00:00"' in html
    assert 'id="original">原创<' in html and "转载自" not in html
    assert 'id="wechat-link"' not in html
    assert f'<link rel="canonical" href="{BASE}/a/{a.token}/">' in html
    assert f'<meta property="og:image" content="{BASE}/a/{a.token}/m/{picture.pk}">' in html
    assert f'href="/feeds/{account.appid}/rss.xml"' in html


def test_it_forbids_scripts_and_frames_from_elsewhere(
    client: Client, account: Account, editor: Any, picture: Material
) -> None:
    a = published_article(account, editor, picture)
    r = client.get(f"/a/{a.token}/")
    csp = r["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert r["X-Frame-Options"] == "SAMEORIGIN"


def test_the_body_is_sanitised_even_when_stored_html_is_not(
    client: Client, account: Account, editor: Any
) -> None:
    """An article without blocks shows its stored HTML, sanitised again on the way out."""
    a = publish(write(account, editor))
    Article.objects.filter(pk=a.pk).update(
        body=[],
        html='<p onclick="steal()">正文</p><script>alert(1)</script>'
        '<img src="https://mmbiz.qpic.cn/x.jpg" onerror="steal()"><iframe src="https://x"></iframe>',
    )
    html = client.get(f"/a/{a.token}/").content.decode()
    assert "<p>正文</p>" in html and '<img src="https://mmbiz.qpic.cn/x.jpg">' in html
    for bad in ("<script>alert", "onclick", "onerror", "<iframe"):
        assert bad not in html, bad


def test_it_names_and_links_the_source_of_a_repost_and_the_wechat_article(
    client: Client, account: Account, editor: Any
) -> None:
    a = write(account, editor, original=False, source_name="示例省发布",
              source_url="https://wx.example.gov.cn/a/abc/")  # fmt: skip
    publish(a, wechat_url="https://mp.weixin.qq.com/s/abcdef")
    html = client.get(f"/a/{a.token}/").content.decode()
    assert 'id="repost-tag">转载<' in html and 'id="original"' not in html
    assert '转载自 <a href="https://wx.example.gov.cn/a/abc/" rel="noopener">示例省发布</a>' in html
    assert '<a class="w-link" id="wechat-link" href="https://mp.weixin.qq.com/s/abcdef"' in html


@pytest.mark.parametrize(
    "status",
    [Article.Status.DRAFT, Article.Status.APPROVING, Article.Status.WITHDRAWN,
     Article.Status.FAILED, Article.Status.PUBLISHING],
)  # fmt: skip
def test_an_article_not_published_is_not_found(
    client: Client, account: Account, editor: Any, picture: Material, status: str
) -> None:
    a = published_article(account, editor, picture)
    Article.objects.filter(pk=a.pk).update(status=status)
    assert client.get(f"/a/{a.token}/").status_code == 404
    assert client.get(f"/a/{a.token}/m/{picture.pk}").status_code == 404
    assert Article.objects.get(pk=a.pk).reads == 0


def test_published_without_a_date_unknown_token_or_inactive_account_is_not_found(
    client: Client, account: Account, editor: Any, picture: Material
) -> None:
    a = published_article(account, editor, picture)
    assert client.get("/a/no-such-token/").status_code == 404
    Article.objects.filter(pk=a.pk).update(published_at=None)
    assert client.get(f"/a/{a.token}/").status_code == 404
    Article.objects.filter(pk=a.pk).update(published_at=AT)
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert client.get(f"/a/{a.token}/").status_code == 404


def test_reads_are_counted(
    client: Client, account: Account, editor: Any, picture: Material, django_assert_num_queries: Any
) -> None:
    a = published_article(account, editor, picture)
    # the article with its account, its materials, the counter
    with django_assert_num_queries(3):
        r = client.get(f"/a/{a.token}/")
    assert 'id="reads">阅读 1<' in r.content.decode()
    client.get(f"/a/{a.token}/")
    client.head(f"/a/{a.token}/")  # a HEAD is not a read
    assert Article.objects.get(pk=a.pk).reads == 2
    assert client.post(f"/a/{a.token}/").status_code == 405


# ------------------------------------------------------------------ its pictures


def test_it_serves_the_pictures_the_article_shows(
    client: Client, account: Account, editor: Any, picture: Material
) -> None:
    a = published_article(account, editor, picture)
    r = client.get(f"/a/{a.token}/m/{picture.pk}")
    assert r.status_code == 200
    assert r["Content-Type"] == "image/png"
    assert b"".join(r.streaming_content) == png_bytes()  # type: ignore[attr-defined]
    assert r["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert r["Cache-Control"] == "public, max-age=300"


def test_a_picture_the_article_does_not_show_is_not_found(
    client: Client, account: Account, other_account: Account, editor: Any, picture: Material
) -> None:
    a = published_article(account, editor, picture)
    b = publish(write(account, editor, "另一篇", body=[TEXT]))
    unused = make_picture(account, "未使用")
    foreign = make_picture(other_account, "别的公众号的")
    assert client.get(f"/a/{a.token}/m/{unused.pk}").status_code == 404
    assert client.get(f"/a/{a.token}/m/{foreign.pk}").status_code == 404
    assert client.get(f"/a/{b.token}/m/{picture.pk}").status_code == 404  # another article's
    assert client.get(f"/a/{a.token}/m/999999").status_code == 404
    # a body naming another account's material shows nothing of it either
    Article.objects.filter(pk=b.pk).update(body=[{"type": "image", "material": foreign.pk}])
    assert client.get(f"/a/{b.token}/m/{foreign.pk}").status_code == 404
    assert f"/m/{foreign.pk}" not in client.get(f"/a/{b.token}/").content.decode()


# ------------------------------------------------------------------ the account's list


def test_the_account_list_shows_published_articles_newest_first(
    client: Client, account: Account, editor: Any
) -> None:
    publish(write(account, editor, "旧文章"), datetime(2026, 1, 1, tzinfo=UTC))
    publish(write(account, editor, "新文章"), datetime(2026, 2, 1, tzinfo=UTC))
    write(account, editor, "草稿不显示")
    r = client.get(f"/w/{account.appid}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index("新文章") < html.index("旧文章") and "草稿不显示" not in html
    assert "script-src 'none'" in r["Content-Security-Policy"]
    assert client.get("/w/wx0000000000000000/").status_code == 404


# ------------------------------------------------------------------ the embeddable list


def test_the_embed_page_may_be_framed_and_lists_the_latest(
    client: Client, account: Account, editor: Any
) -> None:
    first = publish(write(account, editor, "旧文章"), datetime(2026, 1, 1, 8, tzinfo=UTC))
    second = publish(write(account, editor, "新文章"), datetime(2026, 2, 1, 20, tzinfo=UTC))
    write(account, editor, "草稿不显示")
    r = client.get(f"/embed/{account.appid}/")
    assert r.status_code == 200
    assert "X-Frame-Options" not in r  # framing allowed here, and only here
    assert "frame-ancestors" not in r["Content-Security-Policy"]
    assert "script-src 'none'" in r["Content-Security-Policy"]
    html = r.content.decode()
    assert (
        f'<a href="{BASE}/a/{second.token}/" target="_blank" rel="noopener">新文章</a>'
        '<time datetime="2026-02-01T20:00:00+00:00">2026-02-02</time>'
    ) in html
    assert f"{BASE}/a/{first.token}/" in html and "草稿不显示" not in html
    assert html.index("新文章") < html.index("旧文章")
    one = client.get(f"/embed/{account.appid}/?n=1").content.decode()
    assert "新文章" in one and "旧文章" not in one
    # the other public pages keep refusing frames from elsewhere
    assert client.get(f"/w/{account.appid}/")["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("n", ["0", "51", "abc", "-1", "1.5"])
def test_a_bad_list_length_is_refused_in_words(client: Client, account: Account, n: str) -> None:
    for url in (f"/embed/{account.appid}/", f"/embed/{account.appid}/list.html"):
        r = client.get(url, {"n": n})
        assert r.status_code == 400
        assert r.content.decode() == (
            "n 须为 1 到 50 之间的整数 / n must be a whole number from 1 to 50"
        )


def test_the_fragment_is_a_bare_list_without_script(
    client: Client, account: Account, editor: Any
) -> None:
    a = publish(write(account, editor, "停水通知"))
    r = client.get(f"/embed/{account.appid}/list.html")
    assert r.status_code == 200 and r["Access-Control-Allow-Origin"] == "*"
    html = r.content.decode().strip()
    assert html.startswith(f'<ul class="govwx-articles" data-account="{account.appid}">')
    assert html.endswith("</ul>")
    assert f'<a href="{BASE}/a/{a.token}/" target="_blank" rel="noopener">停水通知</a>' in html
    for absent in ("<html", "<script", "<style", "<link"):
        assert absent not in html
    assert client.get("/embed/wx0000000000000000/list.html").status_code == 404
    assert client.get("/embed/wx0000000000000000/").status_code == 404
