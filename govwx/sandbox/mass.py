"""Mass send (群发) by WeChat's rules: message/mass/sendall (all followers or a tag),
message/mass/send (an OpenID list of 2 to 10 000, verified service accounts only),
preview, get and delete.

Quotas (Batch_Sends guide): a subscription account mass-sends successfully once a calendar
day (45028 after that); a service account's followers each receive at most 4 mass messages
a calendar month — followers over it are filtered out of a send (FilterCount counts those
left to send to) — and it may send to all followers once a day and 4 times a month.
Days and months are Asia/Shanghai's. `clientmsgid` (or, without one, a digest of the
audience and the content) refuses a repeat within 24 hours: 45066 within the first minute,
45065 with the earlier msg_id after it. A send is a task finished at its due time
(`GOVWX_SANDBOX_MASS_SECONDS`, default 2 s) by `jobs.run_due`: the messages appear in the
followers' chats and MASSSENDJOBFINISH goes to the account's server.
Sources and doubtful points: docs/wechat-publishing.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from . import callbacks, media, publishing
from .errors import ApiError
from .models import (
    Account,
    Article,
    Draft,
    Entry,
    Follower,
    MassMessage,
    Material,
    Publication,
    Tag,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENIDS_MIN, OPENIDS_MAX = 2, 10_000
CLIENTMSGID_BYTES = 64
REPEAT_WINDOW, RETRY_WINDOW = timedelta(hours=24), timedelta(minutes=1)
PER_FOLLOWER_MONTHLY = 4
SERVICE_TO_ALL_DAILY, SERVICE_TO_ALL_MONTHLY = 1, 4
SIMULATED = ("text", "image", "voice", "mpnews")
Target = MassMessage.Target


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(now: datetime) -> datetime:
    return _day_start(now).replace(day=1)


# ------------------------------------------------------------------ content


def _media_ids(msgtype: str, data: dict[str, Any]) -> list[str]:
    if msgtype == "image" and isinstance(data.get("images"), dict):
        ids = data["images"].get("media_ids")
    else:
        body = data.get(msgtype)
        ids = [body.get("media_id")] if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ApiError(40007)
    return ids


def _check_media(account: Account, kind: str, media_id: str) -> None:
    """A permanent material of the account, or its live temporary media, of this kind."""
    kinds = ("image", "thumb") if kind == "image" else (kind,)
    if Material.objects.filter(account=account, media_id=media_id, kind__in=kinds).exists():
        return
    found = media.find(account, media_id)  # 40007 unless live temporary media
    if found.media_type != kind:
        raise ApiError(40007)


def _content(account: Account, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(msgtype, what the request asks to send) — as the request said it, for the digest."""
    msgtype = data.get("msgtype")
    if msgtype not in SIMULATED:
        raise ApiError(
            40008,
            "invalid message type"
            + (": the sandbox does not simulate mass sends of it" if msgtype else ""),
        )
    reprint = data.get("send_ignore_reprint", 0)
    if reprint not in (0, 1, "0", "1"):
        raise ApiError(40035, "invalid parameter: send_ignore_reprint must be 0 or 1")
    if msgtype == "text":
        body = data.get("text")
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise ApiError(44004)
        return msgtype, {"content": content}
    if msgtype == "mpnews":
        body = data.get("mpnews")
        media_id = body.get("media_id") if isinstance(body, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise ApiError(40007)
        draft = Draft.objects.filter(account=account, media_id=media_id).first()
        if draft is None:
            raise ApiError(40007)
        publishing.check_covers(account, draft.articles, 40007)
        return msgtype, {"media_id": media_id}
    ids = _media_ids(msgtype, data)
    for media_id in ids:
        _check_media(account, msgtype, media_id)
    return msgtype, {"media_ids": ids}


def _dedup_key(data: dict[str, Any], audience: Any, msgtype: str, content: Any) -> str:
    given = data.get("clientmsgid")
    if given is not None:
        if not isinstance(given, str):
            raise ApiError(47001, "data format error: clientmsgid must be a string")
        if len(given.encode()) > CLIENTMSGID_BYTES:
            raise ApiError(45067)
        if given:
            return "c:" + given
    raw = json.dumps([audience, msgtype, content], sort_keys=True, ensure_ascii=False)
    return "d:" + hashlib.sha256(raw.encode()).hexdigest()


def _refuse_repeat(account: Account, key: str, now: datetime) -> None:
    earlier = (
        MassMessage.objects.filter(
            account=account, dedup_key=key, created_at__gt=now - REPEAT_WINDOW
        )
        .exclude(target=Target.PREVIEW)
        .order_by("-created_at")
        .first()
    )
    if earlier is None:
        return
    if now - earlier.created_at < RETRY_WINDOW:
        raise ApiError(45066)
    raise ApiError(45065, extra={"msg_id": earlier.msg_id})


def _new_msg_id() -> int:
    value = 3_147_483_648 + secrets.randbelow(900_000_000)
    while MassMessage.objects.filter(msg_id=value).exists():
        value = 3_147_483_648 + secrets.randbelow(900_000_000)
    return value


def _delay() -> timedelta:
    from django.conf import settings

    return timedelta(seconds=float(getattr(settings, "GOVWX_SANDBOX_MASS_SECONDS", 2)))


def _create(
    account: Account,
    *,
    target: str,
    openids: list[str],
    msgtype: str,
    content: dict[str, Any],
    key: str,
    base_url: str,
    tag_id: int | None = None,
) -> MassMessage:
    now = timezone.now()
    payload = dict(content)
    msg_data_id = None
    if msgtype == "mpnews":
        draft = Draft.objects.get(account=account, media_id=content["media_id"])
        payload["articles"] = draft.articles  # what goes out is the draft as it is now
        msg_data_id = publishing.new_msg_data_id()
    return MassMessage.objects.create(
        account=account,
        msg_id=_new_msg_id(),
        msg_data_id=msg_data_id,
        target=target,
        tag_id=tag_id,
        openids=openids,
        msg_type=msgtype,
        payload=payload,
        dedup_key=key,
        base_url=base_url,
        total_count=len(openids),
        due_at=now + _delay(),
        created_at=now,
    )


# ------------------------------------------------------------------ sends


def _sends(account: Account, since: datetime, targets: tuple[str, ...]) -> int:
    return (
        MassMessage.objects.filter(account=account, target__in=targets, created_at__gte=since)
        .exclude(status=MassMessage.Status.FAIL)
        .count()
    )


def send_all(account: Account, data: Any, base_url: str) -> MassMessage:
    """message/mass/sendall {"filter": {"is_to_all"} | {"tag_id"}, "msgtype", …}."""
    if not account.verified:
        raise ApiError(48001)
    if not isinstance(data, dict) or not isinstance(data.get("filter"), dict):
        raise ApiError(47001)
    rule = data["filter"]
    to_all = rule.get("is_to_all", False)
    if not isinstance(to_all, bool):
        raise ApiError(47001, "data format error: is_to_all must be true or false")
    tag = None
    if not to_all:
        tag_id = rule.get("tag_id")
        if isinstance(tag_id, str) and tag_id.isdigit():
            tag_id = int(tag_id)
        if isinstance(tag_id, int) and not isinstance(tag_id, bool):
            tag = Tag.objects.filter(account=account, tag_id=tag_id).first()
        if tag is None:
            raise ApiError(40050)
    msgtype, content = _content(account, data)
    audience: Any = "all" if tag is None else f"tag:{tag.tag_id}"
    key = _dedup_key(data, audience, msgtype, content)
    now = timezone.now()
    with transaction.atomic():
        # one send at a time per account: quotas and repeats are counted without a race
        Account.objects.select_for_update().filter(pk=account.pk).first()
        _refuse_repeat(account, key, now)
        if account.kind == Account.Kind.SUBSCRIPTION:
            if _sends(account, _day_start(now), (Target.ALL, Target.TAG)):
                raise ApiError(45028)
        elif to_all and (
            _sends(account, _day_start(now), (Target.ALL,)) >= SERVICE_TO_ALL_DAILY
            or _sends(account, _month_start(now), (Target.ALL,)) >= SERVICE_TO_ALL_MONTHLY
        ):
            raise ApiError(45028)
        followers = Follower.objects.filter(account=account, subscribed=True)
        if tag is not None:
            followers = followers.filter(taggings__tag=tag)
        openids = list(followers.order_by("id").values_list("openid", flat=True))
        return _create(
            account,
            target=Target.ALL if tag is None else Target.TAG,
            tag_id=tag.tag_id if tag is not None else None,
            openids=openids,
            msgtype=msgtype,
            content=content,
            key=key,
            base_url=base_url,
        )


def send_to(account: Account, data: Any, base_url: str) -> MassMessage:
    """message/mass/send {"touser": [2..10 000 OpenIDs], "msgtype", …}: verified service
    accounts only (48001)."""
    if account.kind != Account.Kind.SERVICE or not account.verified:
        raise ApiError(48001)
    if not isinstance(data, dict):
        raise ApiError(47001)
    touser = data.get("touser")
    if not isinstance(touser, list) or not all(isinstance(o, str) for o in touser):
        raise ApiError(47001, "data format error: touser must be a list of OpenIDs")
    openids = list(dict.fromkeys(touser))
    if len(openids) < OPENIDS_MIN:
        raise ApiError(40130)
    if len(openids) > OPENIDS_MAX:
        raise ApiError(40032)
    known = set(
        Follower.objects.filter(account=account, openid__in=openids).values_list(
            "openid", flat=True
        )
    )
    if len(known) != len(openids):
        raise ApiError(40003)
    msgtype, content = _content(account, data)
    key = _dedup_key(data, sorted(openids), msgtype, content)
    now = timezone.now()
    with transaction.atomic():
        Account.objects.select_for_update().filter(pk=account.pk).first()
        _refuse_repeat(account, key, now)
        return _create(
            account,
            target=Target.OPENIDS,
            openids=openids,
            msgtype=msgtype,
            content=content,
            key=key,
            base_url=base_url,
        )


def preview(account: Account, data: Any, base_url: str) -> MassMessage:
    """message/mass/preview {"touser": openid, "msgtype", …}: at once, to one follower's
    chat, outside every quota; an article preview is not in the account's history."""
    if not account.verified:
        raise ApiError(48001)
    if not isinstance(data, dict):
        raise ApiError(47001)
    if data.get("towxname"):
        raise ApiError(40132, "invalid username: sandbox followers have no WeChat ID")
    touser = data.get("touser")
    follower = (
        Follower.objects.filter(account=account, openid=touser).first()
        if isinstance(touser, str) and touser
        else None
    )
    if follower is None:
        raise ApiError(40003)
    if not follower.subscribed:
        raise ApiError(43004)
    msgtype, content = _content(account, data)
    now = timezone.now()
    with transaction.atomic():
        message = _create(
            account,
            target=Target.PREVIEW,
            openids=[follower.openid],
            msgtype=msgtype,
            content=content,
            key="",
            base_url=base_url,
        )
        publication = None
        if msgtype == "mpnews":
            publication = publishing.publish_from(
                account,
                message.payload["articles"],
                Publication.Origin.PREVIEW,
                message.msg_data_id or publishing.new_msg_data_id(),
                base_url,
            )
        Entry.objects.create(
            follower=follower,
            kind=Entry.Kind.PREVIEW,
            msg_type=msgtype,
            payload=shown(message, publication),
            created_at=now,
        )
        message.publication = publication
        message.status = MassMessage.Status.SUCCESS
        message.filter_count = message.sent_count = 1
        message.claimed_at = message.finished_at = now
        message.save()
        return message


def shown(message: MassMessage, publication: Publication | None) -> dict[str, Any]:
    """The message as a follower's chat shows it."""
    payload = message.payload
    if message.msg_type == "text":
        return {"msg_type": "text", "content": payload["content"]}
    if message.msg_type == "mpnews":
        assert publication is not None
        return {
            "msg_type": "mpnews",
            "article_id": publication.article_id,
            "articles": [
                {
                    "idx": a.idx,
                    "title": a.title,
                    "description": a.digest,
                    "pic_url": publishing.material_url(message.base_url, a.thumb_media_id),
                    "url": a.url,
                }
                for a in publication.items.order_by("idx")
            ],
        }
    urls = [_media_url(message, m) for m in payload["media_ids"]]
    if message.msg_type == "image":
        return {
            "msg_type": "image",
            "media_id": payload["media_ids"][0],
            "pic_url": urls[0],
            "pic_urls": urls,
        }
    return {"msg_type": message.msg_type, "media_id": payload["media_ids"][0], "url": urls[0]}


def _media_url(message: MassMessage, media_id: str) -> str:
    if Material.objects.filter(account=message.account, media_id=media_id).exists():
        return publishing.material_url(message.base_url, media_id)
    return message.base_url.rstrip("/") + reverse("sandbox:media_file", args=[media_id])


# ------------------------------------------------------------------ the task's end


def complete(message: MassMessage) -> None:
    """Deliver a claimed send (inside the claiming transaction): an mpnews draft becomes a
    publication (and leaves the draft box); followers who left or are over their monthly
    four (service accounts) are filtered out."""
    account = message.account
    now = timezone.now()
    publication = None
    if message.msg_type == "mpnews":
        assert message.msg_data_id is not None
        publication = publishing.publish_from(
            account,
            message.payload["articles"],
            Publication.Origin.MASS,
            message.msg_data_id,
            message.base_url,
        )
        Draft.objects.filter(account=account, media_id=message.payload["media_id"]).delete()
    followers = list(
        Follower.objects.filter(
            account=account, openid__in=message.openids, subscribed=True
        ).order_by("id")
    )
    if account.kind == Account.Kind.SERVICE:
        received = dict(
            Entry.objects.filter(
                follower__in=followers, kind=Entry.Kind.MASS, created_at__gte=_month_start(now)
            )
            .values_list("follower_id")
            .annotate(n=Count("id"))
        )
        followers = [f for f in followers if received.get(f.pk, 0) < PER_FOLLOWER_MONTHLY]
    payload = shown(message, publication)
    Entry.objects.bulk_create(
        Entry(
            follower=f, kind=Entry.Kind.MASS, msg_type=message.msg_type, payload=payload,
            created_at=now,
        )
        for f in followers
    )  # fmt: skip
    message.publication = publication
    message.status = MassMessage.Status.SUCCESS
    message.filter_count = message.sent_count = len(followers)
    message.error_count = 0
    message.finished_at = now
    message.save(
        update_fields=[
            "publication", "status", "filter_count", "sent_count", "error_count", "finished_at",
        ]
    )  # fmt: skip


def announce(message: MassMessage) -> None:
    """MASSSENDJOBFINISH to the account's server, outside any transaction."""
    body: list[callbacks.Element] = [
        ("MsgID", message.msg_id),
        ("Status", "send success" if message.status != MassMessage.Status.FAIL else "send fail"),
        ("TotalCount", message.total_count),
        ("FilterCount", message.filter_count),
        ("SentCount", message.sent_count),
        ("ErrorCount", message.error_count),
    ]
    if message.publication is not None:
        items = list(message.publication.items.order_by("idx"))
        body += [
            ("CopyrightCheckResult", [("Count", 0), ("ResultList", []), ("CheckState", 1)]),
            (
                "ArticleUrlResult",
                [
                    ("Count", len(items)),
                    (
                        "ResultList",
                        [("item", [("ArticleIdx", a.idx), ("ArticleUrl", a.url)]) for a in items],
                    ),
                ],
            ),
        ]
    message.delivery = publishing.push_event(message.account, "MASSSENDJOBFINISH", body)
    message.save(update_fields=["delivery"])


# ------------------------------------------------------------------ get and delete


def find(account: Account, data: Any) -> MassMessage:
    msg_id = data.get("msg_id") if isinstance(data, dict) else None
    if isinstance(msg_id, str) and msg_id.isdigit():
        msg_id = int(msg_id)
    if isinstance(msg_id, bool) or not isinstance(msg_id, int):
        raise ApiError(40059)
    found = MassMessage.objects.filter(account=account, msg_id=msg_id).first()
    if found is None:
        raise ApiError(40059)
    return found


def delete(account: Account, data: Any) -> None:
    """message/mass/delete {"msg_id", "article_idx"}: only a sent article message (mpnews)
    can be deleted; its pages stop working, the cards stay in the chats."""
    if isinstance(data, dict) and data.get("msg_id") is None and data.get("url"):
        article = (
            Article.objects.filter(
                publication__account=account,
                publication__origin=Publication.Origin.MASS,
                url=data["url"],
            )
            .select_related("publication")
            .first()
        )
        message = (
            MassMessage.objects.filter(publication=article.publication).first() if article else None
        )
        if article is None or message is None:
            raise ApiError(40059)
        index: Any = article.idx
    else:
        message = find(account, data)
        index = data.get("article_idx", 0)
    if message.target == Target.PREVIEW or message.status in (
        MassMessage.Status.SENDING,
        MassMessage.Status.FAIL,
    ):
        raise ApiError(40059)
    if message.msg_type != "mpnews" or message.publication is None:
        raise ApiError(40008)
    with transaction.atomic():
        publishing.delete_items(message.publication, index)
        if not message.publication.items.filter(deleted=False).exists():
            MassMessage.objects.filter(pk=message.pk).update(status=MassMessage.Status.DELETED)
