"""Drafts (草稿箱), publishing (发表, freepublish) and the published articles that followers
read, like (点赞) and mark 在看 on the phone.

A draft holds one to eight articles, checked as draft/add checks them (title ≤ 32
characters, author ≤ 16, digest ≤ 128, content under 20 000 characters and 1 MB with its
JavaScript removed and pictures from outside WeChat filtered out, a cover that is a
permanent image of the account). freepublish/submit only queues a task: the task ends at
its due time (`GOVWX_SANDBOX_PUBLISH_SECONDS`, default 3 s), run by `jobs.run_due`, which
turns the draft into a publication with an article_id, removes the draft and pushes
PUBLISHJOBFINISH to the account's server. A driver can order the next publish to fail.
Sources and doubtful points: docs/wechat-publishing.md.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from . import callbacks
from .errors import ApiError
from .models import (
    Account,
    Article,
    ArticleReaction,
    ArticleRead,
    Draft,
    Follower,
    MassMessage,
    Material,
    Publication,
    PublishFailure,
    PublishJob,
)
from .services import InvalidInput, callback_timeout, target

MAX_ARTICLES = 8
TITLE_MAX, AUTHOR_MAX, DIGEST_MAX = 32, 16, 128
CONTENT_CHARS, CONTENT_BYTES = 20_000, 1024 * 1024  # content must stay below both
SOURCE_URL_BYTES = 1024
DEFAULT_DIGEST = 54  # characters of the text a single article's empty digest takes
PAGE_MAX = 20
FAILURE_STATUSES = (
    PublishJob.Status.ORIGINAL_FAILED,
    PublishJob.Status.FAILED,
    PublishJob.Status.REJECTED,
)
COVER_KINDS = (Material.Kind.IMAGE, Material.Kind.THUMB)
CONTENT_IMAGE_KINDS = (Material.Kind.IMAGE, Material.Kind.THUMB, Material.Kind.ARTICLE_IMAGE)


# ------------------------------------------------------------------ article HTML

TAGS = {
    "a", "b", "big", "blockquote", "br", "caption", "code", "col", "colgroup", "div", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "mark",
    "ol", "p", "pre", "s", "section", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"style", "class", "align"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "width", "valign"},
    "th": {"colspan", "rowspan", "width", "valign"},
    "col": {"span", "width"},
}
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template"}
_BAD_STYLE = re.compile(r"url\s*\(|expression|javascript:|@import|behavior", re.IGNORECASE)


def _own_picture(src: str) -> bool:
    """Whether `src` is a picture WeChat keeps: one of the sandbox's material files."""
    try:
        match = resolve(urlsplit(src).path)
    except Resolver404:
        return False
    if match.view_name != "sandbox:material_file":
        return False
    return Material.objects.filter(
        media_id=match.kwargs.get("media_id", ""), kind__in=CONTENT_IMAGE_KINDS
    ).exists()


def _keep(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style" and _BAD_STYLE.search(value):
        return None
    if tag == "img" and attribute == "src" and not _own_picture(value):
        return None  # WeChat filters pictures from outside its own servers
    return value


def sanitise(content: str) -> str:
    """Article HTML as WeChat keeps it: no script, no event handlers, no foreign frames
    or pictures, links to http(s) only."""
    return nh3.clean(
        content,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_keep,
        url_schemes={"http", "https"},
        strip_comments=True,
    )


def text_of(content: str) -> str:
    plain = html.unescape(nh3.clean(content, tags=set(), clean_content_tags=DROPPED_WITH_CONTENT))
    return re.sub(r"\s+", " ", plain).strip()


# ------------------------------------------------------------------ drafts

ArticleData = dict[str, Any]


def _flag(article: dict[str, Any], key: str) -> int:
    value = article.get(key, 0)
    if value in (0, 1, True, False, "0", "1"):
        return int(value)
    raise ApiError(40035, f"invalid parameter: {key} must be 0 or 1")


def _text(article: dict[str, Any], key: str) -> str:
    value = article.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(47001, f"data format error: {key} must be a string")
    return value


def clean_article(account: Account, article: Any, *, single: bool) -> ArticleData:
    """One article of draft/add or draft/update, normalised; WeChat's errcode otherwise."""
    if not isinstance(article, dict):
        raise ApiError(47001)
    article_type = article.get("article_type", "news") or "news"
    if article_type != "news":
        raise ApiError(40035, "invalid parameter: the sandbox simulates article_type news only")
    title = _text(article, "title")
    if not title.strip():
        raise ApiError(40227)
    if len(title) > TITLE_MAX:
        raise ApiError(45003)
    author = _text(article, "author")
    if len(author) > AUTHOR_MAX:
        raise ApiError(45110)
    digest = _text(article, "digest")
    if len(digest) > DIGEST_MAX:
        raise ApiError(45004)
    content = _text(article, "content")
    if not content.strip():
        raise ApiError(44004)
    if len(content) >= CONTENT_CHARS or len(content.encode()) >= CONTENT_BYTES:
        raise ApiError(45002)
    source = _text(article, "content_source_url").strip()
    if len(source.encode()) > SOURCE_URL_BYTES:
        raise ApiError(45005)
    if source and not re.match(r"https?://[^/\s]+", source):
        raise ApiError(40048)
    thumb = article.get("thumb_media_id")
    if not isinstance(thumb, str) or not thumb:
        raise ApiError(40007, "invalid media_id: thumb_media_id is required")
    if not Material.objects.filter(account=account, media_id=thumb, kind__in=COVER_KINDS).exists():
        raise ApiError(40007, "invalid media_id: thumb_media_id is not a permanent image")
    clean = sanitise(content)
    if single and not digest:
        digest = text_of(clean)[:DEFAULT_DIGEST]
    return {
        "title": title,
        "author": author,
        "digest": digest if single else "",
        "content": clean,
        "content_source_url": source,
        "thumb_media_id": thumb,
        "show_cover_pic": _flag(article, "show_cover_pic"),
        "need_open_comment": _flag(article, "need_open_comment"),
        "only_fans_can_comment": _flag(article, "only_fans_can_comment"),
        "pic_crop_235_1": _text(article, "pic_crop_235_1"),
        "pic_crop_1_1": _text(article, "pic_crop_1_1"),
    }


def _articles(account: Account, data: Any) -> list[ArticleData]:
    items = data.get("articles") if isinstance(data, dict) else None
    if items is None or items == []:
        raise ApiError(44003)
    if not isinstance(items, list):
        raise ApiError(47001)
    if len(items) > MAX_ARTICLES:
        raise ApiError(45008)
    return [clean_article(account, a, single=len(items) == 1) for a in items]


def new_media_id() -> str:
    return secrets.token_urlsafe(32)


def add_draft(account: Account, data: Any) -> Draft:
    """draft/add {"articles": [...]}: one to eight articles."""
    articles = _articles(account, data)
    now = timezone.now()
    return Draft.objects.create(
        account=account,
        media_id=new_media_id(),
        articles=articles,
        created_at=now,
        updated_at=now,
    )


def find_draft(account: Account, data: Any) -> Draft:
    media_id = data.get("media_id") if isinstance(data, dict) else None
    if not isinstance(media_id, str) or not media_id:
        raise ApiError(40007)
    draft = Draft.objects.filter(account=account, media_id=media_id).first()
    if draft is None:
        raise ApiError(40007)
    return draft


def update_draft(account: Account, data: Any) -> Draft:
    """draft/update {"media_id", "index" (0-based), "articles": {...}}."""
    with transaction.atomic():
        draft = find_draft(account, data)
        draft = Draft.objects.select_for_update().get(pk=draft.pk)
        index = data.get("index", 0)
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, int):
            raise ApiError(40035, "invalid parameter: index")
        if not 0 <= index < len(draft.articles):
            raise ApiError(40060)
        article = clean_article(account, data.get("articles"), single=len(draft.articles) == 1)
        articles = list(draft.articles)
        articles[index] = article
        draft.articles = articles
        draft.updated_at = timezone.now()
        draft.save(update_fields=["articles", "updated_at"])
        return draft


def delete_draft(account: Account, data: Any) -> None:
    find_draft(account, data).delete()


def page_args(data: Any) -> tuple[int, int, bool]:
    """{"offset", "count" 1..20, "no_content" 0/1} of the batchget APIs."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    offset, count, no_content = data.get("offset", 0), data.get("count"), data.get("no_content", 0)
    offset = int(offset) if isinstance(offset, str) and offset.isdigit() else offset
    count = int(count) if isinstance(count, str) and count.isdigit() else count
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ApiError(40035, "invalid parameter: offset")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= PAGE_MAX:
        raise ApiError(40035, "invalid parameter: count must be 1 to 20")
    if no_content not in (0, 1, "0", "1", True, False):
        raise ApiError(40035, "invalid parameter: no_content")
    return offset, count, bool(int(no_content))


def draft_page(account: Account, data: Any) -> tuple[int, list[Draft], bool]:
    offset, count, no_content = page_args(data)
    drafts = Draft.objects.filter(account=account).order_by("-updated_at", "-id")
    return drafts.count(), list(drafts[offset : offset + count]), no_content


# ------------------------------------------------------------------ numbers and URLs


def _number(low: int, taken: Callable[[int], bool]) -> int:
    value = low + secrets.randbelow(900_000_000)
    while taken(value):
        value = low + secrets.randbelow(900_000_000)
    return value


def new_msg_data_id() -> int:
    return _number(
        2_247_483_648,
        lambda v: (
            Publication.objects.filter(msg_data_id=v).exists()
            or PublishJob.objects.filter(msg_data_id=v).exists()
            or MassMessage.objects.filter(msg_data_id=v).exists()
        ),
    )


def article_url(base_url: str, article_id: str, idx: int) -> str:
    return base_url.rstrip("/") + reverse("sandbox:article_page", args=[article_id, idx])


def material_url(base_url: str, media_id: str) -> str:
    return base_url.rstrip("/") + reverse("sandbox:material_file", args=[media_id])


def system_openid(account: Account) -> str:
    """The FromUserName of the platform's own events (WeChat's "mphelper" user)."""
    import hashlib

    digest = hashlib.sha256(f"mphelper:{account.appid}".encode()).hexdigest()
    return "o" + digest[:27]


def publish_from(
    account: Account, articles: list[ArticleData], origin: str, msg_data_id: int, base_url: str
) -> Publication:
    """A publication of these (already checked) articles, with its permanent URLs."""
    article_id = secrets.token_urlsafe(33)
    publication = Publication.objects.create(
        account=account,
        article_id=article_id,
        origin=origin,
        msg_data_id=msg_data_id,
        created_at=timezone.now(),
    )
    Article.objects.bulk_create(
        Article(
            publication=publication,
            idx=i,
            title=a["title"],
            author=a["author"],
            digest=a["digest"],
            content=a["content"],
            content_source_url=a["content_source_url"],
            thumb_media_id=a["thumb_media_id"],
            show_cover_pic=a["show_cover_pic"],
            need_open_comment=a["need_open_comment"],
            only_fans_can_comment=a["only_fans_can_comment"],
            url=article_url(base_url, article_id, i),
        )
        for i, a in enumerate(articles, start=1)
    )
    return publication


def check_covers(account: Account, articles: list[ArticleData], code: int) -> None:
    """Every cover must still be in the library when the draft is used."""
    thumbs = {a["thumb_media_id"] for a in articles}
    found = set(
        Material.objects.filter(
            account=account, media_id__in=thumbs, kind__in=COVER_KINDS
        ).values_list("media_id", flat=True)
    )
    if thumbs - found:
        raise ApiError(code)


# ------------------------------------------------------------------ freepublish


def _seconds(name: str, default: float) -> timedelta:
    return timedelta(seconds=float(getattr(settings, name, default)))


def submit(account: Account, data: Any, base_url: str) -> PublishJob:
    """freepublish/submit {"media_id"}: a task that ends at its due time."""
    draft = find_draft(account, data)
    check_covers(account, draft.articles, 53503)
    now = timezone.now()
    with transaction.atomic():
        failure = (
            PublishFailure.objects.select_for_update()
            .filter(account=account)
            .order_by("id")
            .first()
        )
        outcome = PublishJob.Status.SUCCESS
        if failure is not None:
            outcome = PublishJob.Status(failure.status)
            failure.delete()
        return PublishJob.objects.create(
            account=account,
            publish_id=_number(
                2_247_483_648, lambda v: PublishJob.objects.filter(publish_id=v).exists()
            ),
            msg_data_id=new_msg_data_id(),
            draft_media_id=draft.media_id,
            articles=draft.articles,
            base_url=base_url,
            outcome=outcome,
            due_at=now + _seconds("GOVWX_SANDBOX_PUBLISH_SECONDS", 3),
            created_at=now,
        )


def complete_publish(job: PublishJob) -> None:
    """End a claimed task (inside the claiming transaction): a publication, the draft
    removed, or the failure a driver ordered."""
    if job.outcome == PublishJob.Status.SUCCESS:
        job.publication = publish_from(
            job.account, job.articles, Publication.Origin.PUBLISH, job.msg_data_id, job.base_url
        )
        Draft.objects.filter(account=job.account, media_id=job.draft_media_id).delete()
        job.fail_idx = []
    else:
        job.fail_idx = list(range(1, len(job.articles) + 1))
    job.status = job.outcome
    job.finished_at = timezone.now()
    job.save(update_fields=["publication", "fail_idx", "status", "finished_at"])


def announce_publish(job: PublishJob) -> None:
    """PUBLISHJOBFINISH to the account's server, outside any transaction (the server may
    call the API meanwhile)."""
    info: list[callbacks.Element] = [("publish_id", job.publish_id), ("publish_status", job.status)]
    if job.publication is not None:
        items = list(job.publication.items.order_by("idx"))
        detail: list[callbacks.Element] = [("count", len(items))]
        detail += [("item", [("idx", a.idx), ("article_url", a.url)]) for a in items]
        info += [("article_id", job.publication.article_id), ("article_detail", detail)]
    else:
        info += [("fail_idx", i) for i in job.fail_idx]
    job.delivery = push_event(job.account, "PUBLISHJOBFINISH", [("PublishEventInfo", info)])
    job.save(update_fields=["delivery"])


def push_event(account: Account, event: str, body: list[callbacks.Element]) -> dict[str, Any]:
    create_time = int(timezone.now().timestamp())
    openid = system_openid(account)
    fields: list[callbacks.Element] = [
        ("ToUserName", account.original_id),
        ("FromUserName", openid),
        ("CreateTime", create_time),
        ("MsgType", "event"),
        ("Event", event),
        *body,
    ]
    delivery = callbacks.deliver(
        target(account),
        event,
        fields,
        openid=openid,
        create_time=create_time,
        msg_type="event",
        timeout=callback_timeout(),
    )
    return {**delivery.as_json(), "log": delivery.log}


def find_job(account: Account, data: Any) -> PublishJob:
    publish_id = data.get("publish_id") if isinstance(data, dict) else None
    if isinstance(publish_id, str) and publish_id.isdigit():
        publish_id = int(publish_id)
    if isinstance(publish_id, bool) or not isinstance(publish_id, int):
        raise ApiError(53502)
    job = PublishJob.objects.filter(account=account, publish_id=publish_id).first()
    if job is None:
        raise ApiError(53502)
    return job


def job_status(job: PublishJob) -> int:
    """The status freepublish/get answers: 5 once every article of it is deleted."""
    if job.status == PublishJob.Status.SUCCESS and job.publication is not None:
        if not job.publication.items.filter(deleted=False).exists():
            return PublishJob.Status.DELETED
    return int(job.status)


def find_publication(account: Account, data: Any, origins: tuple[str, ...]) -> Publication:
    article_id = data.get("article_id") if isinstance(data, dict) else None
    if not isinstance(article_id, str) or not article_id:
        raise ApiError(53600)
    found = Publication.objects.filter(
        account=account, article_id=article_id, origin__in=origins
    ).first()
    if found is None:
        raise ApiError(53600)
    return found


def delete_published(account: Account, data: Any) -> None:
    """freepublish/delete {"article_id", "index"}: index 1..n one article, 0 or none all."""
    publication = find_publication(account, data, (Publication.Origin.PUBLISH,))
    delete_items(publication, data.get("index", 0))


def delete_items(publication: Publication, index: Any) -> None:
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    if index is None:
        index = 0
    if isinstance(index, bool) or not isinstance(index, int):
        raise ApiError(40035, "invalid parameter: index")
    items = publication.items.all()
    if index:
        items = items.filter(idx=index)
        if not items.exists():
            raise ApiError(40060)
    items.update(deleted=True)


def published_page(account: Account, data: Any) -> tuple[int, list[Publication], bool]:
    """freepublish/batchget: what was published (发表) and not wholly deleted, newest first.
    Mass-sent articles are not listed (WeChat's answer in its forum ⚠)."""
    offset, count, no_content = page_args(data)
    found = (
        Publication.objects.filter(account=account, origin=Publication.Origin.PUBLISH)
        .filter(items__deleted=False)
        .distinct()
        .order_by("-created_at", "-id")
    )
    return found.count(), list(found[offset : offset + count]), no_content


# ------------------------------------------------------------------ driver: failures

STATUS_NAMES = {s.value: str(s.label) for s in PublishJob.Status}


def order_failures(account: Account, data: dict[str, Any]) -> list[int]:
    """The account's next publishes end with `status` (2, 3 or 4), `count` times."""
    status, count = data.get("status"), data.get("count", 1)
    if status not in [int(s) for s in FAILURE_STATUSES] or isinstance(status, bool):
        raise InvalidInput(
            "status 须为 2（原创失败）、3（常规失败）或 4（平台审核不通过） / "
            "status must be 2, 3 or 4"
        )
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 20:
        raise InvalidInput("count 须为 1 到 20 的整数 / count must be an integer from 1 to 20")
    now = timezone.now()
    PublishFailure.objects.bulk_create(
        PublishFailure(account=account, status=status, created_at=now) for _ in range(count)
    )
    return pending_failures(account)


def pending_failures(account: Account) -> list[int]:
    return list(
        PublishFailure.objects.filter(account=account)
        .order_by("id")
        .values_list("status", flat=True)
    )


def clear_failures(account: Account) -> None:
    PublishFailure.objects.filter(account=account).delete()


# ------------------------------------------------------------------ reading on the phone


def find_article(account: Account, article_id: str, idx: int) -> Article:
    article = (
        Article.objects.select_related("publication__account")
        .filter(publication__account=account, publication__article_id=article_id, idx=idx)
        .first()
    )
    if article is None:
        raise LookupError(f"unknown article {article_id}/{idx}")
    return article


def read(article: Article, follower: Follower) -> None:
    """A follower opened the article: one more read."""
    ArticleRead.objects.create(article=article, follower=follower, created_at=timezone.now())


def toggle(article: Article, follower: Follower, kind: str) -> bool:
    """Like or 在看, or take it back; at most one of each per follower. Returns the state."""
    with transaction.atomic():
        gone, _ = ArticleReaction.objects.filter(
            article=article, follower=follower, kind=kind
        ).delete()
        if gone:
            return False
        ArticleReaction.objects.create(
            article=article, follower=follower, kind=kind, created_at=timezone.now()
        )
        return True


def stats(articles: Any) -> dict[int, dict[str, int]]:
    """Per article pk: reads (opens), readers, likes, 在看."""
    rows = articles.annotate(
        read_count=Count("reads", distinct=True),
        read_user=Count("reads__follower", distinct=True),
        like_count=Count("reactions", filter=Q(reactions__kind="like"), distinct=True),
        wow_count=Count("reactions", filter=Q(reactions__kind="wow"), distinct=True),
    ).values("pk", "read_count", "read_user", "like_count", "wow_count")
    return {r.pop("pk"): r for r in rows}


def history(account: Account) -> list[Publication]:
    """The account's published and mass-sent articles, newest first (not previews, not
    wholly deleted)."""
    return list(
        Publication.objects.filter(account=account)
        .exclude(origin=Publication.Origin.PREVIEW)
        .filter(items__deleted=False)
        .distinct()
        .order_by("-created_at", "-id")
        .prefetch_related("items")
    )
