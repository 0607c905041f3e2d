"""The public web of the content app (no login): each published article's H5 page and its
pictures, an account's list of articles, the embeddable list for the government
website (a frameable page and a script-free HTML fragment), and the feeds (feeds.py).

Only published articles are shown; a draft, a withdrawn article and an inactive account
are 404. No page runs a script (Content-Security-Policy), whatever the HTML says."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt, xframe_options_sameorigin
from django.views.decorators.http import require_safe

from govwx.accounts.models import Account
from govwx.wechat.models import media_storage

from . import public
from .models import Article, Material

LIST_PAGE = 20
EMBED_DEFAULT = 10


def _account(appid: str) -> Account:
    account = Account.objects.filter(appid=appid, is_active=True).first()
    if account is None:
        raise Http404("no such account")
    return account


def _published(token: str) -> Article:
    article = public.published().select_related("account").filter(token=token).first()
    if article is None:
        raise Http404("no such article")
    return article


@require_safe
@xframe_options_sameorigin
def article(request: HttpRequest, token: str) -> HttpResponse:
    """The H5 page: the account's name and badge, title, author, date, the body with its
    pictures, original or repost (the source linked), the WeChat link."""
    found = _published(token)
    materials = public.materials_for([found])
    if request.method == "GET":
        public.count_read(found)
        found.reads += 1
    response = render(
        request,
        "content/web_article.html",
        {
            "article": found,
            "account": found.account,
            "badge": public.badge(found.account),
            "body": public.web_html(found, materials),
            "cover": public.cover_url(found, absolute=True),
            "page_url": public.page_url(found),
        },
    )
    response["Content-Security-Policy"] = public.PAGE_CSP
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def material(request: HttpRequest, token: str, pk: int) -> FileResponse:
    """A picture (audio, video) of a published article: only one the article shows."""
    found = _published(token)
    if pk not in public.used_materials(found):
        raise Http404("not a material of this article")
    m = Material.objects.filter(pk=pk, account_id=found.account_id).first()
    if m is None or not m.file.name:
        raise Http404("no such material")
    try:
        # through the media store in use (a FileField keeps the one it was made with)
        handle = media_storage().open(m.file.name, "rb")
    except OSError as exc:
        raise Http404("file missing") from exc
    response = FileResponse(handle, content_type=m.content_type)
    response["Content-Security-Policy"] = public.FILE_CSP
    # short: a withdrawn article's pictures stop being served soon after
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
@xframe_options_sameorigin
def account_list(request: HttpRequest, appid: str) -> HttpResponse:
    """The account's published articles, newest first, with its feeds."""
    account = _account(appid)
    page = Paginator(public.published(account), LIST_PAGE).get_page(request.GET.get("page"))
    response = render(
        request,
        "content/web_list.html",
        {"account": account, "badge": public.badge(account), "page": page},
    )
    response["Content-Security-Policy"] = public.PAGE_CSP
    return response


def _embed_size(request: HttpRequest) -> int | None:
    raw = request.GET.get("n", "")
    if raw == "":
        return EMBED_DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= public.FEED_SIZE:
        return None
    return int(raw)


def _bad_size() -> HttpResponseBadRequest:
    return HttpResponseBadRequest(
        _("n 须为 1 到 %(max)d 之间的整数 / n must be a whole number from 1 to %(max)d")
        % {"max": public.FEED_SIZE},
        content_type="text/plain; charset=utf-8",
    )


@require_safe
@xframe_options_exempt
def embed(request: HttpRequest, appid: str) -> HttpResponse:
    """The latest articles as a small page for an <iframe> on the government website:
    framing allowed here only; links open outside the frame."""
    account = _account(appid)
    size = _embed_size(request)
    if size is None:
        return _bad_size()
    response = render(
        request,
        "content/web_embed.html",
        {
            "account": account,
            "articles": list(public.published(account)[:size]),
            "base": public.base_url(),
        },
    )
    response["Content-Security-Policy"] = public.EMBED_CSP
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def embed_fragment(request: HttpRequest, appid: str) -> HttpResponse:
    """The same list as a bare HTML fragment (no page, no script, no style), for a
    website that includes it on its own server (SSI, its CMS) or fetches it."""
    account = _account(appid)
    size = _embed_size(request)
    if size is None:
        return _bad_size()
    response = render(
        request,
        "content/web_fragment.html",
        {
            "account": account,
            "articles": list(public.published(account)[:size]),
            "base": public.base_url(),
        },
    )
    response["Content-Security-Policy"] = public.EMBED_CSP
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=300"
    return response
