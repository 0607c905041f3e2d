"""Publishing an approved article to WeChat, once.

An approved article is SCHEDULED with the time it is due (now, or later). The task
worker runs `publish_due` at that time (a django-tasks row with `run_after`, so a restart
loses nothing), which claims each due article by a conditional UPDATE (SCHEDULED →
PUBLISHING: of several workers, one wins) and takes it through WeChat's steps:

1. what WeChat needs checked here first (a cover picture): refused before any call;
2. its pictures (the cover and the body's) pushed to WeChat (permanent material for the
   cover, the in-article image API for the body), the body's addresses rewritten to them;
3. the draft added (draft/add; kept in `wechat_draft_id`, updated if it exists);
4. the publish job submitted (freepublish/submit; `publish_id` stored at once);
5. finished by WeChat's PUBLISHJOBFINISH event (`on_publish_event`) or, when no event
   comes, by polling freepublish/get (`check_publishing`, queued when the article is
   claimed and again until the job has ended).

A worker killed between the submit call and storing its `publish_id` leaves the article
PUBLISHING with a draft and no publish job: `check_publishing` (queued at the claim, so
it outlives the worker) then looks for it among the account's published articles
(freepublish/batchget: its title and cover, published since the claim, not already
another article's) and records what it finds; it never submits twice. Only when WeChat
has not published it after RECOVER_AFTER is it marked failed, for a person to check in
the MP backend and retry. WeChat refusing at any step: the step and the errcode in words
on the article, nothing marked published; a retry updates the draft already at WeChat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from html import escape
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task, task_backends
from django_tasks.base import Task

from govwx.accounts import permissions
from govwx.accounts.services import record
from govwx.wechat.client import WeChatClient
from govwx.wechat.errors import InvalidMediaId, WeChatAPIError, in_words

from . import events, materials
from .models import Article, Material, Step
from .proofread import article as proofread_article
from .render import material_ids, render

log = logging.getLogger(__name__)

RECOVER_AFTER = timedelta(minutes=30)
POLL_EVERY = timedelta(seconds=60)
# an article PUBLISHING this long is checked again by the next `publish_due` (a check
# task lost with its worker)
STUCK_AFTER = POLL_EVERY * 3
# how far before the claim a published article found by `_recover` may date (clocks)
CLOCK_SLACK = timedelta(minutes=5)
PICTURE = "https://wechat-picture.invalid/{pk}.img"

S = Article.Status

# freepublish/get's publish_status (and the event's): 0 success, 1 publishing, 2 原创
# 声明失败, 3 常规失败, 4 平台审核不通过, 5 成功后用户删除所有文章, 6 成功后系统封禁所有文章
PUBLISH_FAILURES = {
    2: "微信发布失败：原创声明失败（状态 2）/ originality declaration failed",
    3: "微信发布失败：常规失败（状态 3）/ publishing failed",
    4: "微信发布失败：平台审核不通过（状态 4）/ refused by the platform's review",
    5: "文章发布后已被删除（状态 5）/ deleted after publishing",
    6: "文章发布后被系统封禁（状态 6）/ banned after publishing",
}
# what each step of `publish` is called in a refusal's message
STEPS = {
    "pictures": "上传图片",
    "draft": "新建草稿",
    "submit": "提交发布",
}


class NotPublishable(Exception):
    """What WeChat would refuse, found here before any call (the message in words)."""


def error_words(exc: WeChatAPIError) -> str:
    """WeChat's refusal in words, Chinese first (a picture's push has its own)."""
    if isinstance(exc, materials.PushFailed):
        return str(exc)
    return str(in_words(exc))


def later(work: Task[..., Any], when: datetime, *args: Any) -> None:
    """Queue `work(*args)` for `when`, after the transaction commits. A backend that
    cannot hold a task until a time (the tests' immediate one) runs it now when it is
    due and leaves a later one to whoever runs `publish_due` or the task again."""

    def go() -> None:
        if when <= timezone.now():
            work.enqueue(*args)
        elif task_backends[work.backend].supports_defer:
            work.using(run_after=when).enqueue(*args)

    transaction.on_commit(go)


def schedule(article: Article) -> None:
    """Have the task worker publish a SCHEDULED article when it is due (call inside the
    transaction that scheduled it)."""
    later(publish_due, article.scheduled_for or timezone.now())


@task()
def publish_due() -> int:
    """Publish every SCHEDULED article whose time has come, and check again any left
    PUBLISHING with no check under way. Returns how many this run started."""
    now = timezone.now()
    due = Article.objects.filter(status=S.SCHEDULED, scheduled_for__lte=now)
    started = 0
    for pk in due.order_by("scheduled_for", "pk").values_list("pk", flat=True):
        started += publish(pk)
    recover_stuck(now)
    return started


def _claim(pk: int) -> bool:
    return bool(
        Article.objects.filter(pk=pk, status=S.SCHEDULED, scheduled_for__lte=timezone.now()).update(
            status=S.PUBLISHING, publish_error="", publish_id="", msg_data_id="",
            publish_started_at=timezone.now(),
        )
    )  # fmt: skip


def publish(pk: int, *, client: WeChatClient | None = None) -> bool:
    """Take one due article through WeChat's steps, if this process claims it. Returns
    whether it did."""
    if not _claim(pk):
        return False
    article = Article.objects.select_related("account", "cover").get(pk=pk)
    # Queued before any call and kept by the task backend: whatever happens to this
    # process from here on, the check finds out how far it got.
    later(check_publishing, timezone.now() + POLL_EVERY, pk)
    step = "pictures"
    try:
        _check_cover(article)
        client = client or WeChatClient(article.account)
        _push_pictures(article, client)
        html = _wechat_html(article)
        step = "draft"
        draft = _draft(article, html, client)
        step = "submit"
        publish_id, msg_data_id = client.submit_publish(draft)
    except NotPublishable as exc:
        _failed(article, str(exc))
        return True
    except materials.PushBusy:
        _failed(article, "图片正在同步到微信，请稍后重试 / a picture is being pushed: retry")
        return True
    except WeChatAPIError as exc:
        if step == "submit" and exc.errcode is None:
            # No answer: WeChat may have taken the job. The check queued above looks for
            # it among the published articles; nothing submits again blindly.
            log.warning("freepublish/submit of article %s: no answer (%s)", pk, exc)
            return True
        _failed(article, f"{STEPS[step]}失败：{error_words(exc)}", step=step, errcode=exc.errcode)
        return True
    except Exception as exc:
        if step == "submit":
            raise  # whether WeChat took it is unknown: the check queued above finds out
        # a picture's file unreadable, a bug: shown on the article, not left publishing
        log.exception("publishing article %s failed", pk)
        _failed(article, f"{STEPS[step]}失败：{exc}", step=step)
        return True
    Article.objects.filter(pk=pk, status=S.PUBLISHING).update(
        publish_id=publish_id, msg_data_id=msg_data_id
    )
    record("article.submitted_to_wechat", account=article.account, article=pk,
           publish_id=publish_id, draft=draft)  # fmt: skip
    _early_event(article, publish_id)
    return True


def _early_event(article: Article, publish_id: str) -> None:
    """The job's end, if WeChat reported it before its publish_id was stored here."""
    since = (article.publish_started_at or timezone.now()) - CLOCK_SLACK
    raw = events.received(
        article.account_id, "PUBLISHJOBFINISH", since=since,
        key="PublishEventInfo__publish_id", value=publish_id,
    )  # fmt: skip
    if raw is not None:
        on_publish_event(article.account_id, raw["PublishEventInfo"])


def _failed(article: Article, message: str, **data: Any) -> None:
    with transaction.atomic():
        changed = Article.objects.filter(pk=article.pk, status=S.PUBLISHING).update(
            status=S.FAILED, publish_error=message[:255]
        )
        if changed:
            record("article.publish_failed", account=article.account, article=article.pk,
                   error=message, **data)  # fmt: skip


def _check_cover(article: Article) -> None:
    cover = article.cover
    if cover is None:
        raise NotPublishable(
            "发布到微信需要封面图片：请在文章中选择封面后重试 / WeChat needs a cover picture"
        )
    if cover.kind != Material.Kind.IMAGE or cover.account_id != article.account_id:
        raise NotPublishable(
            "封面须为本公众号素材库中的图片 / the cover must be a picture of the library"
        )


def _push_pictures(article: Article, client: WeChatClient) -> None:
    """The cover as permanent material, the body's pictures to the in-article image API
    (materials.push_material does both, once per material)."""
    ids = material_ids(article.body) | ({article.cover_id} if article.cover_id else set())
    for material in Material.objects.filter(pk__in=ids, account_id=article.account_id):
        materials.push_material(material, client=client)
    if article.cover is not None:
        article.cover.refresh_from_db()


def _wechat_html(article: Article) -> str:
    used = material_ids(article.body)
    found = {m.pk: m for m in Material.objects.filter(pk__in=used, account_id=article.account_id)}
    missing = [
        m.title for m in found.values() if m.kind == Material.Kind.IMAGE and not m.article_url
    ]
    if missing:
        raise NotPublishable(f"图片未上传到微信：{'、'.join(missing)} / pictures not on WeChat")
    # The body is sanitised with a stand-in address per picture, which then becomes the
    # address WeChat gave it: WeChat's own, whatever its scheme (the sanitiser keeps an
    # editor's links to HTTPS only; the sandbox serves its pictures over plain HTTP).
    html = render(article.body, found, lambda m: PICTURE.format(pk=m.pk))
    for m in found.values():
        html = html.replace(
            f'"{PICTURE.format(pk=m.pk)}"', f'"{escape(m.article_url or m.wechat_url)}"'
        )
    return html


def _draft_item(article: Article, html: str) -> dict[str, Any]:
    assert article.cover is not None  # _check_cover
    item: dict[str, Any] = {
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "content": html,
        "thumb_media_id": article.cover.wechat_media_id,
        "need_open_comment": 0,
        "only_fans_can_comment": 0,
    }
    if article.source_url:
        item["content_source_url"] = article.source_url
    return item


def draft_item(article: Article) -> dict[str, Any]:
    """The article as a draft of WeChat's, its pictures already there (a mass send of a
    published article sends a new draft of it: WeChat removes a draft once used)."""
    return _draft_item(article, article.html)


def _draft(article: Article, html: str, client: WeChatClient) -> str:
    item = _draft_item(article, html)
    if article.wechat_draft_id:
        try:
            client.update_draft(article.wechat_draft_id, 0, item)
        except InvalidMediaId:
            pass  # gone from the draft box (deleted in the MP backend): a new one
        else:
            Article.objects.filter(pk=article.pk).update(html=html)
            return article.wechat_draft_id
    media_id = client.add_draft([item])
    Article.objects.filter(pk=article.pk).update(wechat_draft_id=media_id, html=html)
    article.wechat_draft_id = media_id
    return media_id


# ------------------------------------------------------------------ finishing


def finish(article: Article, status: int, article_id: str = "", url: str = "") -> bool:
    """Record the end of the article's publish job (from the event, polling or
    recovery). Returns whether anything changed: a second report of the same end
    changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        if status == 0:
            changed = Article.objects.filter(pk=article.pk, status=S.PUBLISHING).update(
                status=S.PUBLISHED, wechat_article_id=article_id, wechat_url=url,
                published_at=now, publish_error="", scheduled_for=None,
            )  # fmt: skip
            if changed:
                fresh = Article.objects.get(pk=article.pk)
                Step.objects.create(
                    article=fresh, kind=Step.Kind.PUBLISH, outcome=Step.Outcome.DONE,
                    revision=fresh.revision, comment=url,
                    started_at=fresh.publish_started_at or now, finished_at=now,
                )  # fmt: skip
                record("article.published", account=article.account, article=article.pk,
                       article_id=article_id, url=url)  # fmt: skip
                # what the proofreader still finds reached the public (for its report)
                transaction.on_commit(partial(proofread_article.mark_published, article.pk))
            return bool(changed)
        message = PUBLISH_FAILURES.get(status, f"微信发布失败（状态 {status}）/ failed")
        changed = Article.objects.filter(pk=article.pk, status=S.PUBLISHING).update(
            status=S.FAILED, publish_error=message
        )
        if not changed and status in (5, 6):  # a published article deleted or banned
            changed = Article.objects.filter(pk=article.pk, status=S.PUBLISHED).update(
                status=S.WITHDRAWN, publish_error=message
            )
        if changed:
            record("article.publish_failed", account=article.account, article=article.pk,
                   error=message, publish_status=status)  # fmt: skip
        return bool(changed)


def _first_url(detail: Any) -> str:
    items = (detail or {}).get("item") if isinstance(detail, dict) else None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return ""
    return str(items[0].get("article_url") or "")


def on_publish_event(account_id: int, info: dict[str, Any]) -> bool:
    """WeChat's PUBLISHJOBFINISH event (its PublishEventInfo): the article whose
    publish_id it names is recorded as published (with its URL) or failed."""
    publish_id = str(info.get("publish_id") or "").strip()
    raw_status = str(info.get("publish_status") or "").strip()
    if not publish_id or not raw_status.isdigit():
        return False
    article = Article.objects.filter(account_id=account_id, publish_id=publish_id).first()
    if article is None:
        return False
    article_id = str(info.get("article_id") or "")
    return finish(article, int(raw_status), article_id, _first_url(info.get("article_detail")))


@task()
def check_publishing(pk: int) -> str:
    """Poll freepublish/get for an article still PUBLISHING (no event came), or find an
    article whose submit was cut off before its publish_id was stored."""
    article = Article.objects.select_related("account", "cover").filter(pk=pk).first()
    if article is None or article.status != S.PUBLISHING:
        return "settled"
    client = WeChatClient(article.account)
    try:
        if not article.publish_id:
            return _recover(article, client)
        data = client.publish_status(article.publish_id)
    except WeChatAPIError as exc:
        if exc.retryable:
            _again(pk)
            return "retry"
        _failed(article, f"查询发布状态失败：{error_words(exc)}", errcode=exc.errcode)
        return "failed"
    status = int(data["publish_status"])
    if status == 1:  # still publishing
        _again(pk)
        return "waiting"
    finish(
        article, status, str(data.get("article_id") or ""), _first_url(data.get("article_detail"))
    )
    return "finished"


def _again(pk: int) -> None:
    later(check_publishing, timezone.now() + POLL_EVERY, pk)


def _recover(article: Article, client: WeChatClient) -> str:
    """An article PUBLISHING without a publish job: look for it among what the account
    published (WeChat may have taken the submit before the worker died)."""
    now = timezone.now()
    since = (article.publish_started_at or now) - CLOCK_SLACK
    cover = article.cover.wechat_media_id if article.cover is not None else ""
    taken = set(
        Article.objects.filter(account=article.account).exclude(wechat_article_id="")
        .values_list("wechat_article_id", flat=True)
    )  # fmt: skip
    for item in client.published_articles(count=20):
        article_id = str(item.get("article_id") or "")
        news = (item.get("content") or {}).get("news_item") or []
        if not article_id or article_id in taken or not news:
            continue
        if int(item.get("update_time") or 0) < since.timestamp():
            continue
        first = news[0]
        if first.get("title") == article.title and first.get("thumb_media_id") == cover:
            finish(article, 0, article_id, str(first.get("url") or ""))
            return "recovered"
    if now - (article.publish_started_at or now) > RECOVER_AFTER:
        _failed(
            article,
            "发布状态不明：微信没有返回发布任务，已发表列表中也没有这篇文章。请在公众号后台核对后"
            "重试 / unknown: check the MP backend, then retry",
        )
        return "failed"
    _again(article.pk)
    return "waiting"


def recover_stuck(now: datetime | None = None) -> int:
    """Articles left PUBLISHING for a while (their check task lost): check them now."""
    now = now or timezone.now()
    stuck = list(
        Article.objects.filter(
            status=S.PUBLISHING, publish_started_at__lt=now - STUCK_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in stuck:
        later(check_publishing, now, pk)
    return len(stuck)


def approved_revision(article: Article) -> int | None:
    """The revision the last approval (签发) was given for (None: no approval step)."""
    return (
        Step.objects.filter(article=article, kind=Step.Kind.APPROVE, outcome=Step.Outcome.DONE)
        .order_by("-id")
        .values_list("revision", flat=True)
        .first()
    )


def retry(article: Article, *, actor: Any) -> Article:
    """A failed publish scheduled again, now (content.publish): it goes through the
    steps again; a draft already at WeChat is updated, not added twice. An article
    changed since it was approved goes through approval again instead."""
    permissions.require(actor, article.account, "content.publish")
    with transaction.atomic():
        a = Article.objects.select_for_update().get(pk=article.pk)
        if a.status != S.FAILED:
            raise ValidationError(
                "只有发布失败的文章可以重试 / only a failed publish can be retried"
            )
        approved = approved_revision(a)
        if approved is not None and approved != a.revision:
            raise ValidationError(
                f"签发的是第 {approved} 版，文章之后又修改过（第 {a.revision} 版），"
                "须重新提交签发 / changed since it was approved: submit it again"
            )
        now = timezone.now()
        Article.objects.filter(pk=a.pk, status=S.FAILED).update(
            status=S.SCHEDULED, scheduled_for=now, publish_error="", updated_at=now
        )
        record("article.publish_retried", account=a.account, actor=actor, article=a.pk,
               error=a.publish_error)  # fmt: skip
        a.refresh_from_db()
        schedule(a)
    return a
