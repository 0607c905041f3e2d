"""HTTP faces of publishing: WeChat's material, draft, freepublish and mass-send APIs
(/cgi-bin/…), the article pages (/s/…, as mp.weixin.qq.com/s/… serves them), the files
(/material/…) and the driver and phone JSON (/api/…). Views parse, call one service and
answer; the rules are in material.py, publishing.py and mass.py."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt

from . import jobs, mass, material, publishing, services
from .errors import OK, ApiError
from .models import Account, Article, Draft, MassMessage, Material, Publication, PublishJob
from .views import (
    NotFound,
    _api_body,
    _json_body,
    _method_not_allowed,
    driver,
    get_account,
    get_follower,
    json_response,
    wechat_api,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def base_url(request: HttpRequest) -> str:
    """scheme://host of this request: the host the permanent URLs name."""
    return request.build_absolute_uri("/").rstrip("/")


# ------------------------------------------------------------------ material


@wechat_api("POST")
def material_add(request: HttpRequest, account: Account) -> dict[str, Any]:
    """material/add_material?type=TYPE, the file in the form field `media` (a video's
    `description` beside it)."""
    upload = request.FILES.get("media")
    found = material.add(
        account,
        request.GET.get("type"),
        upload.read() if upload else None,
        (upload.name or "") if upload else "",
        request.POST.get("description"),
    )
    answer: dict[str, Any] = {"media_id": found.media_id}
    if found.kind == Material.Kind.IMAGE:
        answer["url"] = publishing.material_url(base_url(request), found.media_id)
    return answer


@wechat_api("POST")
def upload_image(request: HttpRequest, account: Account) -> dict[str, Any]:
    """media/uploadimg: a picture for use inside articles; answers its URL."""
    upload = request.FILES.get("media")
    found = material.add_article_image(
        account, upload.read() if upload else None, (upload.name or "") if upload else ""
    )
    return {"url": publishing.material_url(base_url(request), found.media_id)}


@csrf_exempt
def material_get(request: HttpRequest) -> HttpResponse:
    """material/get_material {"media_id"}: the file itself, or for a video its title,
    description and download URL; errors as JSON."""
    try:
        if request.method != "POST":
            raise ApiError(43002)
        account = services.account_for_token(request.GET.get("access_token"))
        body = _api_body(request)
        found = material.find(account, body.get("media_id") if isinstance(body, dict) else None)
    except ApiError as exc:
        return json_response(exc.as_json())
    if found.kind == Material.Kind.VIDEO:
        return json_response(
            {
                "title": found.title,
                "description": found.introduction,
                "down_url": publishing.material_url(base_url(request), found.media_id),
            }
        )
    return _file(found, attachment=True)


def _file(found: Material, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(bytes(found.data), content_type=found.content_type)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = (
        f'{disposition}; filename="{found.media_id}.{found.extension}"'
    )
    return response


@wechat_api("POST")
def material_delete(request: HttpRequest, account: Account) -> dict[str, Any]:
    material.delete(account, _api_body(request))
    return OK


@wechat_api("GET")
def material_count(request: HttpRequest, account: Account) -> dict[str, Any]:
    return material.counts(account)


@wechat_api("POST")
def material_batchget(request: HttpRequest, account: Account) -> dict[str, Any]:
    total, found = material.page(account, _api_body(request))
    base = base_url(request)

    def item(m: Material) -> dict[str, Any]:
        row: dict[str, Any] = {
            "media_id": m.media_id,
            "name": m.name,
            "update_time": int(m.created_at.timestamp()),
        }
        if m.kind in (Material.Kind.IMAGE, Material.Kind.THUMB):
            row["url"] = publishing.material_url(base, m.media_id)
        if m.kind == Material.Kind.VIDEO:
            row["description"] = m.introduction
        return row

    return {"total_count": total, "item_count": len(found), "item": [item(m) for m in found]}


def material_file(request: HttpRequest, media_id: str) -> HttpResponse:
    """(not WeChat's API) A material file inline: an image's `url`, a picture inside an
    article, a video's `down_url`."""
    found = Material.objects.filter(media_id=media_id).first()
    if found is None:
        raise Http404(media_id)
    response = _file(found, attachment=False)
    response["Cache-Control"] = "public, max-age=86400"
    return response


# ------------------------------------------------------------------ drafts


def _draft_item(base: str, article: dict[str, Any], *, content: bool = True) -> dict[str, Any]:
    item = {k: v for k, v in article.items() if content or k != "content"}
    item["url"] = ""  # WeChat's is a temporary preview link; the sandbox gives none ⚠
    item["thumb_url"] = publishing.material_url(base, article["thumb_media_id"])
    return item


@wechat_api("POST")
def draft_add(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"media_id": publishing.add_draft(account, _api_body(request)).media_id}


@wechat_api("POST")
def draft_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    draft = publishing.find_draft(account, _api_body(request))
    base = base_url(request)
    return {"news_item": [_draft_item(base, a) for a in draft.articles]}


@wechat_api("POST")
def draft_update(request: HttpRequest, account: Account) -> dict[str, Any]:
    publishing.update_draft(account, _api_body(request))
    return OK


@wechat_api("POST")
def draft_delete(request: HttpRequest, account: Account) -> dict[str, Any]:
    publishing.delete_draft(account, _api_body(request))
    return OK


@wechat_api("GET")
def draft_count(request: HttpRequest, account: Account) -> dict[str, Any]:
    return {"total_count": Draft.objects.filter(account=account).count()}


@wechat_api("POST")
def draft_batchget(request: HttpRequest, account: Account) -> dict[str, Any]:
    total, drafts, no_content = publishing.draft_page(account, _api_body(request))
    base = base_url(request)
    return {
        "total_count": total,
        "item_count": len(drafts),
        "item": [
            {
                "media_id": d.media_id,
                "content": {
                    "news_item": [_draft_item(base, a, content=not no_content) for a in d.articles]
                },
                "update_time": int(d.updated_at.timestamp()),
            }
            for d in drafts
        ],
    }


# ------------------------------------------------------------------ freepublish


def _published_item(base: str, article: Article, *, content: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "content_source_url": article.content_source_url,
        "thumb_media_id": article.thumb_media_id,
        "thumb_url": publishing.material_url(base, article.thumb_media_id),
        "show_cover_pic": article.show_cover_pic,
        "need_open_comment": article.need_open_comment,
        "only_fans_can_comment": article.only_fans_can_comment,
        "url": article.url,
        "is_deleted": article.deleted,
    }
    if content:
        item["content"] = article.content
    return item


@wechat_api("POST")
def freepublish_submit(request: HttpRequest, account: Account) -> dict[str, Any]:
    job = publishing.submit(account, _api_body(request), base_url(request))
    return {**OK, "publish_id": str(job.publish_id), "msg_data_id": str(job.msg_data_id)}


@wechat_api("POST")
def freepublish_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    job = publishing.find_job(account, _api_body(request))
    answer: dict[str, Any] = {
        "publish_id": str(job.publish_id),
        "publish_status": publishing.job_status(job),
    }
    if job.status == PublishJob.Status.SUCCESS and job.publication is not None:
        items = list(job.publication.items.order_by("idx"))
        answer["article_id"] = job.publication.article_id
        answer["article_detail"] = {
            "count": len(items),
            "item": [{"idx": a.idx, "article_url": a.url} for a in items],
        }
    if job.status != PublishJob.Status.PUBLISHING:
        answer["fail_idx"] = job.fail_idx
    return answer


@wechat_api("POST")
def freepublish_delete(request: HttpRequest, account: Account) -> dict[str, Any]:
    publishing.delete_published(account, _api_body(request))
    return OK


@wechat_api("POST")
def freepublish_getarticle(request: HttpRequest, account: Account) -> dict[str, Any]:
    publication = publishing.find_publication(
        account, _api_body(request), (Publication.Origin.PUBLISH, Publication.Origin.MASS)
    )
    base = base_url(request)
    return {"news_item": [_published_item(base, a) for a in publication.items.order_by("idx")]}


@wechat_api("POST")
def freepublish_batchget(request: HttpRequest, account: Account) -> dict[str, Any]:
    total, found, no_content = publishing.published_page(account, _api_body(request))
    base = base_url(request)
    return {
        "total_count": total,
        "item_count": len(found),
        "item": [
            {
                "article_id": p.article_id,
                "content": {
                    "news_item": [
                        _published_item(base, a, content=not no_content)
                        for a in p.items.order_by("idx")
                    ]
                },
                "update_time": int(p.created_at.timestamp()),
            }
            for p in found
        ],
    }


# ------------------------------------------------------------------ mass send


def _submitted(message: MassMessage) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "errcode": 0,
        "errmsg": "send job submission success",
        "msg_id": message.msg_id,
    }
    if message.msg_data_id is not None:
        answer["msg_data_id"] = message.msg_data_id
    return answer


@wechat_api("POST")
def mass_sendall(request: HttpRequest, account: Account) -> dict[str, Any]:
    return _submitted(mass.send_all(account, _api_body(request), base_url(request)))


@wechat_api("POST")
def mass_send(request: HttpRequest, account: Account) -> dict[str, Any]:
    return _submitted(mass.send_to(account, _api_body(request), base_url(request)))


@wechat_api("POST")
def mass_preview(request: HttpRequest, account: Account) -> dict[str, Any]:
    message = mass.preview(account, _api_body(request), base_url(request))
    return {"errcode": 0, "errmsg": "preview success", "msg_id": message.msg_id}


@wechat_api("POST")
def mass_get(request: HttpRequest, account: Account) -> dict[str, Any]:
    message = mass.find(account, _api_body(request))
    return {"msg_id": message.msg_id, "msg_status": message.status}


@wechat_api("POST")
def mass_delete(request: HttpRequest, account: Account) -> dict[str, Any]:
    mass.delete(account, _api_body(request))
    return OK


# ------------------------------------------------------------------ article pages


def _article(article_id: str, idx: int) -> Article:
    found = (
        Article.objects.select_related("publication__account")
        .filter(publication__article_id=article_id, idx=idx)
        .first()
    )
    if found is None:
        raise Http404(article_id)
    return found


def _when(article: Article) -> str:
    return article.publication.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def article_page(request: HttpRequest, article_id: str, idx: int) -> HttpResponse:
    """An article's permanent URL, as WeChat renders an article: title, author, account,
    date, then the content in a sandboxed frame (it is HTML from the API)."""
    article = _article(article_id, idx)
    counts = publishing.stats(Article.objects.filter(pk=article.pk)).get(article.pk, {})
    return render(
        request,
        "sandbox/article.html",
        {
            "article": article,
            "account": article.publication.account,
            "when": _when(article),
            "counts": counts,
            "content_url": reverse("sandbox:article_content", args=[article_id, idx]),
        },
        status=410 if article.deleted else 200,
    )


@xframe_options_sameorigin
def article_content(request: HttpRequest, article_id: str, idx: int) -> HttpResponse:
    """The article's HTML alone, for a sandboxed frame: no script runs in it (the page's
    sandbox and this Content-Security-Policy), pictures only from this host."""
    article = _article(article_id, idx)
    if article.deleted:
        raise Http404(article_id)
    response = render(request, "sandbox/article_content.html", {"article": article})
    host = base_url(request)
    response["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
        f"img-src 'self' {host} data:; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------ driver and phone JSON


def _counts(row: dict[str, int] | None) -> dict[str, int]:
    row = row or {}
    return {k: row.get(k, 0) for k in ("read_count", "read_user", "like_count", "wow_count")}


def publication_json(base: str, publication: Publication) -> dict[str, Any]:
    items = list(publication.items.all())
    counted = publishing.stats(Article.objects.filter(publication=publication))
    return {
        "article_id": publication.article_id,
        "origin": publication.origin,
        "msg_data_id": publication.msg_data_id,
        "created_at": publication.created_at.isoformat(),
        "date": publication.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        "items": [
            {
                "idx": a.idx,
                "title": a.title,
                "digest": a.digest,
                "url": a.url,
                "thumb_url": publishing.material_url(base, a.thumb_media_id),
                "deleted": a.deleted,
                **_counts(counted.get(a.pk)),
            }
            for a in sorted(items, key=lambda a: a.idx)
        ],
    }


@driver
def api_articles(request: HttpRequest, appid: str) -> HttpResponse:
    """The account's history (published and mass-sent, newest first), with each
    article's reads, readers, likes and 在看 — the per-article counts WeChat's datacube
    gives only per day."""
    account = get_account(appid)
    jobs.run_due(account)
    base = base_url(request)
    return json_response(
        {"articles": [publication_json(base, p) for p in publishing.history(account)]}
    )


@driver
def api_article(request: HttpRequest, appid: str, article_id: str) -> HttpResponse:
    account = get_account(appid)
    publication = Publication.objects.filter(account=account, article_id=article_id).first()
    if publication is None:
        raise NotFound(f"unknown article_id {article_id}")
    return json_response(publication_json(base_url(request), publication))


ACTIONS = ("open", "like", "wow")


@driver
def api_follower_article(
    request: HttpRequest, appid: str, openid: str, article_id: str, idx: int, action: str
) -> HttpResponse:
    """A follower opens an article (a read), or toggles a like (点赞) or 在看."""
    if request.method != "POST":
        return _method_not_allowed("POST")
    if action not in ACTIONS:
        raise NotFound(f"unknown action {action}")
    follower = get_follower(appid, openid)
    try:
        article = publishing.find_article(follower.account, article_id, idx)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    if article.deleted and action != "open":
        raise services.Conflict("该内容已被发布者删除 / the article has been deleted")
    if action == "open" and not article.deleted:
        publishing.read(article, follower)
    elif action in ("like", "wow"):
        publishing.toggle(article, follower, action)
    mine = set(article.reactions.filter(follower=follower).values_list("kind", flat=True))
    counted = publishing.stats(Article.objects.filter(pk=article.pk)).get(article.pk)
    return json_response(
        {
            "article_id": article_id,
            "idx": article.idx,
            "title": article.title,
            "author": article.author,
            "account_name": follower.account.name,
            "published_at": article.publication.created_at.isoformat(),
            "date": _when(article),
            "deleted": article.deleted,
            "content_url": ""
            if article.deleted
            else reverse("sandbox:article_content", args=[article_id, idx]),
            "url": article.url,
            "source_url": article.content_source_url,
            "liked": "like" in mine,
            "wowed": "wow" in mine,
            **_counts(counted),
        }
    )


@driver
def api_publish_failures(request: HttpRequest, appid: str) -> HttpResponse:
    """The statuses the account's next publishes end with (2 原创失败, 3 常规失败,
    4 平台审核不通过): POST {"status", "count"} adds, DELETE clears, GET lists."""
    account = get_account(appid)
    if request.method == "POST":
        pending = publishing.order_failures(account, _json_body(request))
        return json_response({"pending": pending}, status=201)
    if request.method == "DELETE":
        publishing.clear_failures(account)
    elif request.method != "GET":
        return _method_not_allowed("GET, POST, DELETE")
    return json_response({"pending": publishing.pending_failures(account)})


@driver
def api_run_jobs(request: HttpRequest, appid: str) -> HttpResponse:
    """End the account's due publish tasks and mass sends now; {"all": true} ends every
    pending one without waiting for its due time."""
    if request.method != "POST":
        return _method_not_allowed("POST")
    account = get_account(appid)
    data = _json_body(request)
    everything = data.get("all", False)
    if not isinstance(everything, bool):
        raise services.InvalidInput("all 须为 true 或 false / all must be true or false")
    return json_response({"finished": jobs.run_due(account, everything=everything)})
