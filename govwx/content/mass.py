"""群发: a mass send of a published article, a text or a picture to every follower, to a
tag, or to a list of followers.

A send is checked before any call: its content, its audience, and the account type's
quota (docs/wechat-publishing.md §4; days and months are Asia/Shanghai's):
- a subscription account (订阅号) mass-sends once a day, to all or to a tag, and cannot
  send to a list of followers (message/mass/send is for verified service accounts);
- a service account (服务号) sends to all followers once a day and four times a month;
  to a tag or a list as often as it likes, but each follower receives at most four mass
  messages a month (WeChat filters those over it: the event's FilterCount).

It is stored with one `MassCall` per WeChat call (a list send is split into calls of at
most LIST_MAX followers), and run by the task worker at its time, claimed with a lease
(`sending_until`) so that one worker sends it and another takes over from a dead one; at
most PER_MINUTE calls a minute per account, as WeChat takes them (a list of a million
followers, 100 calls, goes out in just over a minute).
Each call carries its own clientmsgid: a call is made, then marked; a worker killed in
between makes it again after the restart, and WeChat refuses the repeat with 45065
(naming the first call's msg_id, recorded as made), so no follower gets it twice and
none is missed. An article goes as mpnews, which takes a draft (草稿) that WeChat removes
once it is sent: each call sends a new draft of the published article.
MASSSENDJOBFINISH records each call's counts (total, filtered, sent, errors).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django_tasks import task

from govwx.accounts import permissions
from govwx.accounts.models import Account
from govwx.accounts.services import record
from govwx.wechat.client import WeChatClient
from govwx.wechat.errors import (
    DuplicateMassSend,
    InvalidMediaId,
    MassRetryTooFast,
    WeChatAPIError,
)

from . import events, materials
from .models import Article, MassCall, MassSend, Material
from .publishing import draft_item, error_words, later

log = logging.getLogger(__name__)

SH = ZoneInfo("Asia/Shanghai")
LIST_MIN, LIST_MAX = 2, 10_000  # message/mass/send: openids per call
# govwx's bound on a text mass message (WeChat documents none; a chat bubble of more is
# not read)
TEXT_MAX = 600
SUBSCRIPTION_PER_DAY = 1
SERVICE_TO_ALL_PER_DAY, SERVICE_TO_ALL_PER_MONTH = 1, 4
PER_FOLLOWER_PER_MONTH = 4  # a service account's followers; WeChat filters the rest
LEASE = timedelta(minutes=2)  # a send's claim, renewed before each call
# WeChat takes at most this many mass calls a minute from an account ("群发接口每分钟限制请求
# 60 次", Batch_Sends guide) and refuses the rest: a long list waits for the next minute
PER_MINUTE = 60
PAST_SLACK = timedelta(minutes=5)  # a send "now" whose form took a while to submit
OPENID_RE = re.compile(r"[A-Za-z0-9_-]{6,64}")
TAGS_KEY = "govwx:content:mass-tags:{}"

K = MassSend.Kind
ST = MassSend.Status
C = MassCall.Status


# ------------------------------------------------------------------ quota


def _day(when: datetime) -> tuple[datetime, datetime]:
    start = when.astimezone(SH).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _month(when: datetime) -> tuple[datetime, datetime]:
    start = when.astimezone(SH).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=32)).replace(day=1)


def _counted(account: Account) -> QuerySet[MassSend]:
    """The account's mass sends that use its quota: all but those that failed before
    WeChat took any of their calls (a deleted send used it too)."""
    made = MassCall.objects.filter(mass_send=OuterRef("pk"), status__in=[C.CALLED, C.FINISHED])
    return MassSend.objects.filter(account=account).exclude(Q(status=ST.FAILED) & ~Exists(made))


@dataclass(frozen=True)
class Quota:
    """What the account may still mass-send on a day: a subscription account's sends of
    the day; a service account's sends to all followers of the day and of the month."""

    kind: str
    day_left: int
    month_left: int | None  # service accounts (to all followers)

    @property
    def words(self) -> str:
        if self.kind == Account.Kind.SUBSCRIPTION:
            return f"今天还可群发 {self.day_left} 次"
        return (
            f"今天还可向全部粉丝群发 {self.day_left} 次（本月还可 {self.month_left} 次）；"
            f"按标签或名单群发不限次数，每位粉丝每月最多收到 {PER_FOLLOWER_PER_MONTH} 条群发"
        )


def quota(account: Account, when: datetime | None = None) -> Quota:
    when = when or timezone.now()
    day = _day(when)
    if account.kind == Account.Kind.SUBSCRIPTION:
        used = _counted(account).filter(due_at__gte=day[0], due_at__lt=day[1]).count()
        return Quota(account.kind, max(0, SUBSCRIPTION_PER_DAY - used), None)
    month = _month(when)
    to_all = _counted(account).filter(to_all=True)
    today = to_all.filter(due_at__gte=day[0], due_at__lt=day[1]).count()
    this_month = to_all.filter(due_at__gte=month[0], due_at__lt=month[1]).count()
    return Quota(
        account.kind,
        max(0, SERVICE_TO_ALL_PER_DAY - today),
        max(0, SERVICE_TO_ALL_PER_MONTH - this_month),
    )


def quota_problem(account: Account, due: datetime, *, to_all: bool) -> str:
    """Why the account may not mass-send at `due`, in words ('' when it may)."""
    left = quota(account, due)
    local = due.astimezone(SH)
    if account.kind == Account.Kind.SUBSCRIPTION:
        if left.day_left <= 0:
            return (
                f"订阅号每天只能群发 {SUBSCRIPTION_PER_DAY} 次，{local:%m月%d日}已有群发 / "
                "a subscription account mass-sends once a day"
            )
        return ""
    if to_all and left.day_left <= 0:
        return (
            f"服务号每天只能向全部粉丝群发 {SERVICE_TO_ALL_PER_DAY} 次，{local:%m月%d日}已有 / "
            "a service account sends to all followers once a day"
        )
    if to_all and not left.month_left:
        return (
            f"服务号每月只能向全部粉丝群发 {SERVICE_TO_ALL_PER_MONTH} 次，{local:%Y年%m月}已用完 / "
            "a service account sends to all followers four times a month"
        )
    return ""


# ------------------------------------------------------------------ checks


def _content(
    account: Account, kind: str, article: Article | None, text: str, image: Material | None
) -> None:
    if kind == K.ARTICLE:
        if article is None or article.account_id != account.pk:
            raise ValidationError("请选择本公众号的文章 / choose an article of this account")
        if article.status != Article.Status.PUBLISHED:
            raise ValidationError("只能群发已发布到微信的文章 / only articles published to WeChat")
        if article.cover is None or not article.cover.wechat_media_id:
            raise ValidationError("文章的封面不在微信素材库中 / the cover is not on WeChat")
    elif kind == K.TEXT:
        if not text.strip():
            raise ValidationError("群发文字不能为空 / the text is empty")
        if len(text.strip()) > TEXT_MAX:
            raise ValidationError(
                f"群发文字最多 {TEXT_MAX} 字，现为 {len(text.strip())} 字 / text too long"
            )
    elif kind == K.IMAGE:
        if image is None or image.account_id != account.pk or image.kind != Material.Kind.IMAGE:
            raise ValidationError("请选择素材库中的图片 / choose a picture of the library")
    else:
        raise ValidationError(f"未知的群发类型 {kind!r} / unknown kind")


def parse_openids(raw: str | list[str]) -> list[str]:
    """OpenIDs pasted one a line (or separated by commas or spaces), each once."""
    items = re.split(r"[\s,，;；]+", raw) if isinstance(raw, str) else list(raw)
    ids = list(dict.fromkeys(o.strip() for o in items if o and o.strip()))
    bad = [o for o in ids if not OPENID_RE.fullmatch(o)]
    if bad:
        shown = "、".join(bad[:3]) + ("…" if len(bad) > 3 else "")
        raise ValidationError(f"OpenID 格式不正确：{shown} / invalid OpenIDs")
    return ids


def split(openids: list[str]) -> list[list[str]]:
    """A list of followers in calls of LIST_MIN..LIST_MAX (a last call too short takes
    what it lacks from the one before)."""
    ids = parse_openids(openids)
    if len(ids) < LIST_MIN:
        raise ValidationError(f"按名单群发至少 {LIST_MIN} 位粉丝 / at least {LIST_MIN} followers")
    chunks = [ids[i : i + LIST_MAX] for i in range(0, len(ids), LIST_MAX)]
    lacking = LIST_MIN - len(chunks[-1])
    if len(chunks) > 1 and lacking > 0:
        chunks[-1] = chunks[-2][-lacking:] + chunks[-1]
        chunks[-2] = chunks[-2][:-lacking]
    return chunks


# ------------------------------------------------------------------ tags


def account_tags(account: Account) -> dict[str, Any]:
    """The follower tags as last read from WeChat: {"tags": [{"id", "name", "count"}],
    "read_at": ISO time ("" before the first reading), "error": why the last failed}."""
    found = cache.get(TAGS_KEY.format(account.pk))
    if not isinstance(found, dict):
        return {"tags": [], "read_at": "", "error": ""}
    return {
        "tags": list(found.get("tags") or []),
        "read_at": str(found.get("read_at") or ""),
        "error": str(found.get("error") or ""),
    }


def request_tags(account: Account, *, actor: Any) -> None:
    """Have the follower tags read from WeChat (after commit, by the task worker)."""
    permissions.require(actor, account, "content.publish")
    pk = account.pk
    transaction.on_commit(lambda: read_tags.enqueue(pk))


@task()
def read_tags(account_id: int) -> int:
    """从微信读取标签 (tags/get) and keep them; returns how many were read."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return 0
    state = account_tags(account)
    try:
        tags = [
            {"id": int(t["id"]), "name": str(t.get("name", "")), "count": int(t.get("count", 0))}
            for t in WeChatClient(account).get_tags()
            if str(t.get("id", "")).isdigit()
        ]
    except WeChatAPIError as exc:
        state["error"] = error_words(exc)
    else:
        state = {"tags": tags, "read_at": timezone.now().isoformat(), "error": ""}
    cache.set(TAGS_KEY.format(account.pk), state, None)
    return len(state["tags"])


# ------------------------------------------------------------------ create


def create(
    account: Account,
    *,
    kind: str,
    actor: Any,
    article: Article | None = None,
    text: str = "",
    image: Material | None = None,
    to_all: bool = False,
    tag_id: int | None = None,
    tag_name: str = "",
    openids: list[str] | None = None,
    due_at: datetime | None = None,
) -> MassSend:
    """A mass send, checked and stored with its calls, run at `due_at` (now)."""
    permissions.require(actor, account, "content.publish")
    _content(account, kind, article, text, image)
    if sum((to_all, tag_id is not None, openids is not None)) != 1:
        raise ValidationError("请选择全部粉丝、一个标签或一份名单 / all, a tag or a list")
    if tag_id is not None and tag_id < 0:
        raise ValidationError("标签 ID 不正确 / invalid tag")
    if openids is not None and account.kind != Account.Kind.SERVICE:
        raise ValidationError(
            "按名单群发仅限认证服务号，订阅号请向全部粉丝或按标签群发 / "
            "only verified service accounts send to a list"
        )
    chunks = split(openids) if openids is not None else [[]]
    now = timezone.now()
    due = due_at or now
    if timezone.is_naive(due):
        raise ValidationError("群发时间须带时区 / an aware time")
    if due < now - PAST_SLACK:
        raise ValidationError(
            f"群发时间 {timezone.localtime(due):%Y-%m-%d %H:%M} 已过 / that time has passed"
        )
    due = max(due, now)
    with transaction.atomic():
        # one send at a time per account, so that two cannot both take the last quota
        Account.objects.select_for_update().filter(pk=account.pk).first()
        problem = quota_problem(account, due, to_all=to_all)
        if problem:
            raise ValidationError(problem)
        mass = MassSend.objects.create(
            account=account, kind=kind, article=article if kind == K.ARTICLE else None,
            text=text.strip() if kind == K.TEXT else "", image=image if kind == K.IMAGE else None,
            to_all=to_all, tag_id=tag_id, tag_name=tag_name[:30], due_at=due, created_by=actor,
        )  # fmt: skip
        # the send's id and a random part: a database restored from a backup reuses ids,
        # and WeChat would take a repeated clientmsgid for a call already made
        nonce = secrets.token_hex(4)
        MassCall.objects.bulk_create(
            [
                MassCall(
                    mass_send=mass,
                    index=i,
                    clientmsgid=f"govwx-{mass.pk}-{nonce}-{i}",
                    openids=chunk,
                )  # fmt: skip
                for i, chunk in enumerate(chunks)
            ],
            batch_size=20,
        )
        record("mass.created", account=account, actor=actor, mass=mass.pk, kind=kind,
               calls=len(chunks), to_all=to_all, tag=tag_id,
               followers=sum(map(len, chunks)), due_at=due.isoformat())  # fmt: skip
        later(run_mass, due, mass.pk)
    return mass


# ------------------------------------------------------------------ sending


def _new_draft(article: Article, client: WeChatClient) -> str:
    return client.add_draft([draft_item(article)])


def _picture(image: Material, client: WeChatClient) -> str:
    if not image.wechat_media_id:
        materials.push_material(image, client=client)
        image.refresh_from_db()
    return image.wechat_media_id


def _message(mass: MassSend, media_id: str, client: WeChatClient) -> tuple[str, dict[str, Any]]:
    if mass.kind == K.ARTICLE:
        return "mpnews", {"media_id": media_id}
    if mass.kind == K.IMAGE:
        assert mass.image is not None
        return "image", {"media_ids": [_picture(mass.image, client)]}
    return "text", {"content": mass.text}


def _call(mass: MassSend, call: MassCall, client: WeChatClient) -> dict[str, Any]:
    """Make one call (its draft made first for an article, and kept on the call)."""
    fresh = False
    if mass.kind == K.ARTICLE and not call.media_id:
        assert mass.article is not None
        call.media_id, fresh = _new_draft(mass.article, client), True
        MassCall.objects.filter(pk=call.pk).update(media_id=call.media_id)

    def make() -> dict[str, Any]:
        msgtype, content = _message(mass, call.media_id, client)
        if mass.to_all or mass.tag_id is not None:
            return client.mass_send_all(
                msgtype, content, tag_id=mass.tag_id, clientmsgid=call.clientmsgid
            )
        return client.mass_send_openids(
            call.openids, msgtype, content, clientmsgid=call.clientmsgid
        )

    try:
        try:
            return make()
        except InvalidMediaId:
            if mass.kind != K.ARTICLE or fresh:
                raise
            # the call's draft was used by a call made before a restart (or deleted):
            # a new one, and WeChat then tells whether the call was made (45065)
            assert mass.article is not None
            call.media_id, fresh = _new_draft(mass.article, client), True
            MassCall.objects.filter(pk=call.pk).update(media_id=call.media_id)
            return make()
    except DuplicateMassSend:
        if fresh:  # the draft made for a repeat WeChat refused: not left in the draft box
            try:
                client.delete_draft(call.media_id)
            except WeChatAPIError:
                log.warning("could not delete the unused draft %s", call.media_id)
        raise


@task()
def run_mass(pk: int) -> str:
    return send(pk)


def room_at(account_id: int, now: datetime) -> datetime | None:
    """When the account may make its next mass call, if it made PER_MINUTE in the minute
    before `now` (None: now)."""
    made = list(
        MassCall.objects.filter(
            mass_send__account_id=account_id, called_at__gt=now - timedelta(minutes=1)
        )
        .order_by("-called_at")
        .values_list("called_at", flat=True)[:PER_MINUTE]
    )
    if len(made) < PER_MINUTE or made[-1] is None:
        return None
    return made[-1] + timedelta(minutes=1)


def send(pk: int, *, client: WeChatClient | None = None) -> str:
    """Make the send's calls not yet made, if this process claims it. Safe to run again
    at any point: "sent", "failed", "retry" (WeChat asked to wait; queued again),
    "paced" (the account's calls of the minute made; queued for the next), "busy"
    (another worker holds it), "settled" or "not due"."""
    now = timezone.now()
    claimed = (
        MassSend.objects.filter(pk=pk, status__in=[ST.SCHEDULED, ST.SENDING], due_at__lte=now)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))
        .update(status=ST.SENDING, sending_until=now + LEASE)
    )
    if not claimed:
        row = MassSend.objects.filter(pk=pk).values_list("status", "due_at").first()
        if row is None or row[0] not in (ST.SCHEDULED, ST.SENDING):
            return "settled"
        return "not due" if row[1] > now else "busy"
    mass = MassSend.objects.select_related("account", "article__cover", "image").get(pk=pk)
    client = client or WeChatClient(mass.account)
    for call in mass.calls.filter(status=C.PENDING).order_by("index"):
        room = room_at(mass.account_id, timezone.now())
        if room is not None:  # the account's calls of the minute are made: the rest then
            MassSend.objects.filter(pk=pk).update(sending_until=None)
            later(run_mass, room, pk)
            return "paced"
        MassSend.objects.filter(pk=pk).update(sending_until=timezone.now() + LEASE)
        try:
            answer = _call(mass, call, client)
        except DuplicateMassSend as exc:  # made before a restart: WeChat has it
            MassCall.objects.filter(pk=call.pk).update(
                status=C.CALLED, msg_id=str(exc.msg_id or ""), called_at=timezone.now()
            )
            record("mass.call_repeated", account=mass.account, mass=pk, call=call.index,
                   msg_id=exc.msg_id)  # fmt: skip
            _early_event(mass, str(exc.msg_id or ""))
            continue
        except WeChatAPIError as exc:
            if exc.retryable or isinstance(exc, MassRetryTooFast):
                # WeChat may or may not have taken it: the same clientmsgid tells, later
                wait = timedelta(seconds=exc.retry_after or 10)
                MassSend.objects.filter(pk=pk).update(sending_until=None)
                later(run_mass, timezone.now() + wait, pk)
                return "retry"
            _fail(mass, call, exc)
            return "failed"
        MassCall.objects.filter(pk=call.pk).update(
            status=C.CALLED,
            msg_id=str(answer.get("msg_id", "")),
            msg_data_id=str(answer.get("msg_data_id") or ""),
            called_at=timezone.now(),
        )
        _early_event(mass, str(answer.get("msg_id", "")))
    with transaction.atomic():
        MassSend.objects.filter(pk=pk, status=ST.SENDING).update(
            status=ST.SENT, sending_until=None, error=""
        )
        record("mass.sent", account=mass.account, mass=pk, calls=mass.calls.count())
    return "sent"


def _early_event(mass: MassSend, msg_id: str) -> None:
    """The call's end, if WeChat reported it before its msg_id was stored here (a call
    made before a restart)."""
    if not msg_id:
        return
    raw = events.received(
        mass.account_id, "MASSSENDJOBFINISH", since=mass.created_at - PAST_SLACK,
        key="MsgID", value=msg_id,
    )  # fmt: skip
    if raw is not None:
        on_mass_event(mass.account_id, raw)


def _fail(mass: MassSend, call: MassCall, exc: WeChatAPIError) -> None:
    words = error_words(exc)[:255]
    with transaction.atomic():
        MassCall.objects.filter(pk=call.pk).update(status=C.FAILED, error=words)
        MassSend.objects.filter(pk=mass.pk).update(
            status=ST.FAILED, error=words, sending_until=None, finished_at=timezone.now()
        )
        record("mass.failed", account=mass.account, mass=mass.pk, call=call.index,
               errcode=exc.errcode, error=words)  # fmt: skip


def send_due(now: datetime | None = None) -> int:
    """Start every send that is due and not held by a live worker (a restart's sweep).
    Returns how many were started."""
    now = now or timezone.now()
    due = MassSend.objects.filter(status__in=[ST.SCHEDULED, ST.SENDING], due_at__lte=now).filter(
        Q(sending_until__isnull=True) | Q(sending_until__lt=now)
    )
    started = 0
    for pk in due.values_list("pk", flat=True):
        started += send(pk) in ("sent", "failed", "retry")
    return started


# ------------------------------------------------------------------ preview, events, delete


def preview(
    account: Account,
    openid: str,
    *,
    kind: str,
    actor: Any,
    article: Article | None = None,
    text: str = "",
    image: Material | None = None,
    client: WeChatClient | None = None,
) -> None:
    """The message sent to one operator's own WeChat first (message/mass/preview): it
    counts against no quota and is not in the account's history."""
    permissions.require(actor, account, "content.publish")
    _content(account, kind, article, text, image)
    openid = openid.strip()
    if not OPENID_RE.fullmatch(openid):
        raise ValidationError("请填写接收预览的微信号的 OpenID / the OpenID to preview to")
    client = client or WeChatClient(account)
    probe = MassSend(account=account, kind=kind, article=article, text=text.strip(), image=image)
    draft = ""
    try:
        if kind == K.ARTICLE:
            assert article is not None
            draft = _new_draft(article, client)
        msgtype, content = _message(probe, draft, client)
        client.mass_preview(openid, msgtype, content)
    except WeChatAPIError as exc:
        raise ValidationError(f"预览发送失败：{error_words(exc)}") from exc
    finally:
        if draft:
            try:
                client.delete_draft(draft)
            except WeChatAPIError:
                log.warning("could not delete the preview's draft %s", draft)
    record("mass.previewed", account=account, actor=actor, openid=openid, kind=kind)


def _count(raw: dict[str, Any], key: str) -> int | None:
    value = str(raw.get(key) or "").strip()
    return int(value) if value.isdigit() else None


def on_mass_event(account_id: int, raw: dict[str, Any]) -> bool:
    """MASSSENDJOBFINISH: the counts of the call whose msg_id it names."""
    msg_id = str(raw.get("MsgID") or raw.get("MsgId") or "").strip()
    if not msg_id:
        return False
    call = (
        MassCall.objects.select_related("mass_send__account")
        .filter(mass_send__account_id=account_id, msg_id=msg_id)
        .first()
    )
    if call is None:
        return False
    status = str(raw.get("Status") or "")
    now = timezone.now()
    with transaction.atomic():
        MassCall.objects.filter(pk=call.pk).update(
            status=C.FINISHED, total=_count(raw, "TotalCount"),
            filtered=_count(raw, "FilterCount"), sent=_count(raw, "SentCount"),
            errors=_count(raw, "ErrorCount"), finished_at=now,
            error="" if status == "send success" else status[:255],
        )  # fmt: skip
        open_calls = MassCall.objects.filter(mass_send_id=call.mass_send_id).exclude(
            status__in=[C.FINISHED, C.FAILED]
        )
        if not open_calls.exists():
            MassSend.objects.filter(pk=call.mass_send_id, finished_at__isnull=True).update(
                finished_at=now
            )
        record("mass.finished", account=call.mass_send.account, mass=call.mass_send_id,
               call=call.index, status=status, sent=_count(raw, "SentCount"))  # fmt: skip
    return True


def delete(mass: MassSend, *, actor: Any, client: WeChatClient | None = None) -> MassSend:
    """Delete a sent article from followers' chats (message/mass/delete): its pages stop
    working; the cards stay in the chats. WeChat deletes only article messages."""
    permissions.require(actor, mass.account, "content.publish")
    if mass.status != ST.SENT:
        raise ValidationError("只能删除已发送的群发 / only a sent mass message")
    if mass.kind != K.ARTICLE:
        raise ValidationError(
            "微信只能删除图文群发，文字和图片无法撤回 / WeChat deletes only article messages"
        )
    client = client or WeChatClient(mass.account)
    for call in mass.calls.exclude(msg_id="").order_by("index"):
        try:
            client.mass_delete(call.msg_id)
        except WeChatAPIError as exc:
            raise ValidationError(f"删除失败：{error_words(exc)}") from exc
    with transaction.atomic():
        MassSend.objects.filter(pk=mass.pk).update(status=ST.DELETED)
        record("mass.deleted", account=mass.account, actor=actor, mass=mass.pk)
    mass.refresh_from_db()
    return mass


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Counts:
    """A send's MASSSENDJOBFINISH counts, summed over its calls (None before any)."""

    total: int | None
    filtered: int | None
    sent: int | None
    errors: int | None
    finished_calls: int
    calls: int


def counts(mass: MassSend) -> Counts:
    calls = list(mass.calls.all())
    done = [c for c in calls if c.status == C.FINISHED]

    def total(name: str) -> int | None:
        values = [getattr(c, name) for c in done if getattr(c, name) is not None]
        return sum(values) if values else None

    return Counts(
        total("total"), total("filtered"), total("sent"), total("errors"), len(done), len(calls)
    )


def sends(account: Account) -> QuerySet[MassSend]:
    """The account's mass sends, newest first, with their calls (no openid lists)."""
    calls = MassCall.objects.defer("openids").order_by("index")
    return (
        MassSend.objects.filter(account=account)
        .select_related("article", "image", "created_by")
        .defer("openids")
        .prefetch_related(Prefetch("calls", queryset=calls))
        .order_by("-due_at", "-id")
    )


def get_send(account: Account, pk: int) -> MassSend:
    found = sends(account).filter(pk=pk).first()
    if found is None:
        raise MassSend.DoesNotExist(f"no mass send {pk}")
    return found
