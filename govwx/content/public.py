"""What the public web sees of an account's articles: the published ones, their H5 page's
address, their body as HTML with pictures at this site's public URLs, and the read
counter. Read-only but for `count_read`; used by the H5 pages (web.py), the feeds
(feeds.py) and reposts (reposts.py)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, QuerySet
from django.urls import reverse

from govwx.accounts.models import Account

from .html import sanitise
from .models import Article, Material
from .render import material_ids, render

# The H5 page and the account's list may only be framed by this site (the sandbox's
# phone); no script runs on them, whatever an article's HTML says.
PAGE_CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https:; "
    "media-src 'self' https:; frame-ancestors 'self'"
)
# The embeddable list: framed by the government website, so no frame-ancestors.
EMBED_CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'"
)
# A picture, audio or video file served on its own: nothing in it may run.
FILE_CSP = "default-src 'none'; sandbox"

_PATH_ATTR = re.compile(r'\b(src|href|poster)="/(?!/)')
FEED_SIZE = 50  # the feeds' and the embeddable list's longest list


def base_url() -> str:
    """This site's public origin (GOVWX_PUBLIC_URL), without a trailing slash."""
    return str(settings.GOVWX_PUBLIC_URL).rstrip("/")


def published(account: Account | None = None) -> QuerySet[Article]:
    """Published articles (status PUBLISHED, published_at set) of active accounts, the
    newest first; of one account when given."""
    qs = Article.objects.filter(
        status=Article.Status.PUBLISHED, published_at__isnull=False, account__is_active=True
    )
    if account is not None:
        qs = qs.filter(account=account)
    return qs.order_by("-published_at", "-id")


def page_path(article: Article) -> str:
    return reverse("content_web:article", args=[article.token])


def page_url(article: Article) -> str:
    """The H5 page's absolute address."""
    return base_url() + page_path(article)


def file_path(article: Article, material_id: int) -> str:
    return reverse("content_web:material", args=[article.token, material_id])


def used_materials(article: Article) -> set[int]:
    """The materials an article shows: its body's and its cover."""
    used = material_ids(article.body if isinstance(article.body, list) else [])
    if article.cover_id:
        used.add(article.cover_id)
    return used


def materials_for(articles: Iterable[Article]) -> dict[int, Material]:
    """The materials the articles show, in one query (each article's own account's)."""
    wanted = {(a.account_id, pk) for a in articles for pk in used_materials(a)}
    if not wanted:
        return {}
    found = Material.objects.filter(pk__in={pk for _, pk in wanted})
    return {m.pk: m for m in found if (m.account_id, m.pk) in wanted}


def web_html(article: Article, materials: dict[int, Material], *, absolute: bool = False) -> str:
    """The body for the web: rendered from its blocks with pictures at this site's
    public URLs (absolute for feeds), sanitised like the stored WeChat HTML. An article
    without blocks (written as HTML elsewhere) shows its stored HTML, sanitised again."""
    if isinstance(article.body, list) and article.body:
        own = {pk: m for pk, m in materials.items() if m.account_id == article.account_id}
        html = render(article.body, own, lambda m: file_path(article, m.pk))
    else:
        html = sanitise(article.html)
    if absolute:
        # the sanitiser writes every attribute in double quotes: a path of this site
        # (not a protocol-relative //host) becomes an address a feed reader can open
        html = _PATH_ATTR.sub(lambda m: f'{m[1]}="{base_url()}/', html)
    return html


def cover_url(article: Article, *, absolute: bool = False) -> str:
    if not article.cover_id:
        return ""
    return (base_url() if absolute else "") + file_path(article, article.cover_id)


def count_read(article: Article) -> None:
    """One more read of the H5 page (race-safe)."""
    Article.objects.filter(pk=article.pk).update(reads=F("reads") + 1)


@dataclass(frozen=True)
class Badge:
    """The account's mark where it has no logo: its first character on a colour of its
    own (from the AppID, so it stays the same)."""

    initial: str
    colour: str


COLOURS = ("#1a7f5a", "#1f6feb", "#b54708", "#7a3fb8", "#c4320a", "#0e7490", "#4d7c0f")


def badge(account: Account) -> Badge:
    name = account.name.strip() or "?"
    digest = hashlib.sha256(account.appid.encode()).digest()
    return Badge(initial=name[0], colour=COLOURS[digest[0] % len(COLOURS)])
