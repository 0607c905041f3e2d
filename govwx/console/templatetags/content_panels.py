"""Panels of the content app on pages of other apps: the positioning figures on the
console's home page, the website embedding (网站嵌入) on the account's settings page, and
where an article travelled in the matrix. The console, above them all, lends them."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from govwx.accounts.models import Account
from govwx.content import positioning, reposts
from govwx.content.models import Article

register = template.Library()


@register.inclusion_tag("console/_content_positioning.html")
def positioning_panel(account: Account) -> dict[str, Any]:
    """The last 30 days' locality shares against the positioning statement, and the share
    of articles showing only meetings."""
    return {"p": positioning.measure(account), "account": account}


@register.inclusion_tag("console/_content_embed.html")
def web_embed_panel(account: Account) -> dict[str, Any]:
    """The code the government website pastes to show the account's latest articles, and
    the feeds' addresses."""
    base = str(settings.GOVWX_PUBLIC_URL).rstrip("/")

    def url(name: str) -> str:
        return base + reverse(f"content_web:{name}", args=[account.appid])

    embed = url("embed")
    iframe = (
        f'<iframe src="{embed}" title="{escape(account.name)}" width="100%" height="420" '
        'style="border:0" loading="lazy"></iframe>'
    )
    return {
        "account": account,
        "iframe": iframe,
        "embed": embed,
        "fragment": url("fragment"),
        "feeds": [("RSS 2.0", url("rss")), ("Atom", url("atom")), ("JSON Feed 1.1", url("json"))],
        "list": url("account"),
    }


@register.inclusion_tag("console/_content_travel.html")
def article_travel(article: Article) -> dict[str, Any]:
    """The article's reposts in the matrix (account, status, published, reads) and its
    total reach."""
    return {"travel": reposts.travel(article)}
