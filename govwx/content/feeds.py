"""Each account's feeds of its latest published articles, with their full text: RSS 2.0
and Atom with Django's syndication framework (the full HTML in RSS's content:encoded and
Atom's <content>), and JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), small
enough to write here. Addresses are absolute, from GOVWX_PUBLIC_URL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from govwx.accounts.models import Account

from . import public
from .models import Article, Material

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
JSON_FEED_TYPE = "application/feed+json; charset=utf-8"
LANGUAGE = "zh-CN"


class _RssFull(feedgenerator.Rss201rev2Feed):
    """RSS 2.0 with each item's full HTML in content:encoded (the RSS content module)."""

    def rss_attributes(self) -> dict[str, str]:
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
        }

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_html"])


class _AtomFull(feedgenerator.Atom1Feed):
    """Atom with each entry's full HTML in <content type="html">."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


def _account(appid: str) -> Account:
    account = Account.objects.filter(appid=appid, is_active=True).first()
    if account is None:
        raise Http404("no such account")
    return account


def latest(account: Account) -> list[Article]:
    """The account's latest published articles, each with `web_html` (absolute
    addresses) set, in two queries."""
    articles = list(public.published(account)[: public.FEED_SIZE])
    materials: dict[int, Material] = public.materials_for(articles)
    for a in articles:
        a.web_html = public.web_html(a, materials, absolute=True)  # type: ignore[attr-defined]
    return articles


def home_url(account: Account) -> str:
    return public.base_url() + reverse("content_web:account", args=[account.appid])


def description(account: Account) -> str:
    return account.positioning.strip() or _("%(name)s发布的文章") % {"name": account.name}


class ArticlesFeed(Feed):
    """RSS 2.0 of an account (the Atom feed below differs only in its type)."""

    feed_type: type[feedgenerator.SyndicationFeed] = _RssFull
    language = LANGUAGE
    route = "content_web:rss"

    def get_object(self, request: HttpRequest, appid: str) -> Account:  # type: ignore[override]
        return _account(appid)

    def title(self, obj: Account) -> str:
        return obj.name

    def link(self, obj: Account) -> str:
        return home_url(obj)

    def feed_url(self, obj: Account) -> str:
        return public.base_url() + reverse(self.route, args=[obj.appid])

    def description(self, obj: Account) -> str:
        return description(obj)

    def subtitle(self, obj: Account) -> str:
        return description(obj)

    def author_name(self, obj: Account) -> str:
        return obj.name

    def items(self, obj: Account) -> list[Article]:
        return latest(obj)

    def item_title(self, item: Article) -> str:
        return item.title

    def item_description(self, item: Article) -> str:
        return item.digest or item.title

    def item_link(self, item: Article) -> str:
        return public.page_url(item)

    def item_guid(self, item: Article) -> str:
        return public.page_url(item)

    def item_pubdate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Article) -> datetime | None:
        return item.published_at

    def item_author_name(self, item: Article) -> str:
        return item.author or item.account.name

    def item_categories(self, item: Article) -> list[str]:
        return [str(item.get_category_display()), str(item.get_locality_display())]

    def item_extra_kwargs(self, item: Article) -> dict[str, Any]:
        return {"content_html": item.web_html}  # type: ignore[attr-defined]


class AtomFeed(ArticlesFeed):
    feed_type = _AtomFull
    route = "content_web:atom"


def _with_headers(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"  # public data, read by any website
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def rss(request: HttpRequest, appid: str) -> HttpResponse:
    return _with_headers(ArticlesFeed()(request, appid=appid))


@require_safe
def atom(request: HttpRequest, appid: str) -> HttpResponse:
    return _with_headers(AtomFeed()(request, appid=appid))


def _rfc3339(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def json_feed(account: Account) -> dict[str, Any]:
    """The account's JSON Feed 1.1 document."""
    items = []
    for a in latest(account):
        item: dict[str, Any] = {
            "id": public.page_url(a),
            "url": public.page_url(a),
            "title": a.title,
            "content_html": a.web_html,  # type: ignore[attr-defined]
            "date_published": _rfc3339(a.published_at),
            "authors": [{"name": a.author or account.name}],
            "tags": [str(a.get_category_display()), str(a.get_locality_display())],
            "language": LANGUAGE,
        }
        if a.digest:
            item["summary"] = a.digest
        if a.cover_id:
            item["image"] = public.cover_url(a, absolute=True)
        if not a.original and a.source_url:
            item["external_url"] = a.source_url  # 转载: the original
        items.append(item)
    return {
        "version": JSON_FEED_VERSION,
        "title": account.name,
        "home_page_url": home_url(account),
        "feed_url": public.base_url() + reverse("content_web:json", args=[account.appid]),
        "description": description(account),
        "authors": [{"name": account.name}],
        "language": LANGUAGE,
        "items": items,
    }


@require_safe
def json_view(request: HttpRequest, appid: str) -> HttpResponse:
    body = json.dumps(json_feed(_account(appid)), ensure_ascii=False, indent=1)
    return _with_headers(HttpResponse(body, content_type=JSON_FEED_TYPE))
