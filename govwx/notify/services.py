"""Writes on notification channels, and the sending of notifications through them.

`enqueue` stores one `Delivery` per enabled channel (idempotent by key) and schedules the
`deliver` task after commit. Every send goes through `sending.claim`: with the channel's
row locked, its rate window checked, the due pending rows claimed together (pending →
sending in one conditional UPDATE, oldest first) and sent as one merged message, as many
as fit, so a burst costs few messages and none is sent twice. A rate answer (HTTP 429,
WeCom 45009) puts them back to wait without counting the attempt; a channel that is down
is tried again after 1, 5, 15 and 60 minutes, five attempts in all, then the deliveries
are `failed` and the channel shows the error. `deliver_due`, run by `govwx desk run`,
sends what is due.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.db.models import Exists, Min, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.accounts.permissions import require
from govwx.accounts.services import record

from . import sending
from .models import Batch, Channel, Delivery

# Rows one call of attempt / deliver_due sends at most (in as few messages as fit).
DRAIN_BUDGET = 200
# A delivery left `sending` this long was cut off mid-send (a crash): shown, never resent.
STUCK_AFTER = timedelta(minutes=5)
MAX_ADDRESSES = 20

WECOM_URL_RE = re.compile(
    r"^https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=[A-Za-z0-9-]+$"
)
# The sandbox's robot (docs/sandbox.md), accepted only where the sandbox is mounted.
SANDBOX_WECOM_URL_RE = re.compile(
    r"^https?://[^/?#\s]+(?:/[^?#\s]*)?/sandbox/cgi-bin/webhook/send\?key=[A-Za-z0-9-]+$"
)


# ------------------------------------------------------------------ validation


@dataclass(frozen=True)
class ChannelInput:
    kind: str
    name: str
    target: str
    secret: str = ""


def clean_addresses(target: str) -> str:
    addresses = [a for a in re.split(r"[\s,;，；]+", target) if a]
    if not addresses:
        raise ValidationError("请填写收件地址 / enter at least one e-mail address")
    if len(addresses) > MAX_ADDRESSES:
        raise ValidationError(
            f"收件地址最多 {MAX_ADDRESSES} 个 / at most {MAX_ADDRESSES} addresses"
        )
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                f"邮件地址格式不正确：{address} / not an e-mail address: {address}"
            ) from exc
    return ", ".join(addresses)


def clean_url(target: str) -> str:
    url = target.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            "地址必须是 http:// 或 https:// 开头的网址 / the URL must be an http(s) URL"
        ) from exc
    return url


def clean_wecom_url(target: str) -> str:
    url = target.strip()
    if WECOM_URL_RE.match(url) or (settings.GOVWX_SANDBOX and SANDBOX_WECOM_URL_RE.match(url)):
        return url
    raise ValidationError(
        "企业微信群机器人地址应为 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… / "
        "a WeCom group robot URL is https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"
    )


def clean_channel_input(data: ChannelInput) -> ChannelInput:
    """The input with the target normalised, or ValidationError per field."""
    errors: dict[str, list[str]] = {}
    target = data.target.strip()
    name = data.name.strip()
    if not name:
        errors["name"] = ["名称不能为空 / name is required"]
    elif len(name) > 60:
        errors["name"] = ["名称最多 60 个字 / name: at most 60 characters"]
    cleaners = {
        Channel.Kind.EMAIL: clean_addresses,
        Channel.Kind.WEBHOOK: clean_url,
        Channel.Kind.WECOM: clean_wecom_url,
    }
    if data.kind not in cleaners:
        errors["kind"] = [f"未知的渠道类型 / unknown kind of channel: {data.kind}"]
    else:
        try:
            target = cleaners[Channel.Kind(data.kind)](target)
        except ValidationError as exc:
            errors["target"] = exc.messages
    if data.secret and data.kind != Channel.Kind.WEBHOOK:
        errors["secret"] = [
            "只有 Webhook 渠道可以设置签名密钥 / only a webhook channel takes a signing secret"
        ]
    if errors:
        raise ValidationError(errors)
    return ChannelInput(kind=data.kind, name=name, target=target, secret=data.secret.strip())


# ------------------------------------------------------------------ channel writes


def get_channel_for_account(account: Account, pk: int) -> Channel:
    """The account's channel, or 404: another account's channel does not exist here."""
    channel = Channel.objects.filter(account=account, pk=pk).first()
    if channel is None:
        raise Http404("no such channel")
    return channel


def create_channel(account: Account, data: ChannelInput, *, actor: Any) -> Channel:
    require(actor, account, "channels.manage")
    data = clean_channel_input(data)
    with transaction.atomic():
        channel = Channel.objects.create(
            account=account, kind=data.kind, name=data.name, target=data.target, secret=data.secret
        )
        record("channel.created", account=account, actor=actor, channel=channel.pk, kind=data.kind)
    return channel


def update_channel(
    channel: Channel, *, name: str, target: str = "", secret: str | None = None, actor: Any
) -> Channel:
    """Rename, and change the target (an empty target keeps the stored one) and, for a
    webhook, the secret (None keeps it, "" removes it)."""
    require(actor, channel.account, "channels.manage")
    data = clean_channel_input(
        ChannelInput(
            kind=channel.kind,
            name=name,
            target=target.strip() or channel.target,
            secret=channel.secret if secret is None else secret,
        )
    )
    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(
            name=data.name, target=data.target, secret=data.secret
        )
        record(
            "channel.updated",
            account=channel.account,
            actor=actor,
            channel=channel.pk,
            target_changed=data.target != channel.target,
        )
    channel.refresh_from_db()
    return channel


def set_channel_enabled(channel: Channel, enabled: bool, *, actor: Any) -> Channel:
    require(actor, channel.account, "channels.manage")
    with transaction.atomic():
        Channel.objects.filter(pk=channel.pk).update(enabled=enabled)
        record(
            "channel.enabled" if enabled else "channel.disabled",
            account=channel.account,
            actor=actor,
            channel=channel.pk,
        )
    channel.refresh_from_db()
    return channel


# ------------------------------------------------------------------ sending


def _absolute(link: str) -> str:
    """Links go out of govwx: a console path becomes a full URL."""
    return settings.GOVWX_PUBLIC_URL + link if link.startswith("/") else link


def enqueue(
    account: Account,
    key: str,
    title: str,
    text: str,
    link: str = "",
    mentions: Iterable[str] = (),
) -> list[Delivery]:
    """One delivery per enabled channel of the account, sent in the background after
    commit. Idempotent: a key already enqueued for a channel is not stored or sent again.
    Returns the deliveries of this key that are still pending."""
    channels = list(Channel.objects.filter(account=account, enabled=True).only("id"))
    if not channels:
        return []
    now = timezone.now()
    phones = [str(m) for m in dict.fromkeys(mentions) if m]
    Delivery.objects.bulk_create(
        [
            Delivery(
                channel=c,
                key=key[:100],
                title=title[:200],
                text=text,
                link=_absolute(link)[:500],
                mentions=phones,
                next_attempt_at=now,
                created_at=now,
            )
            for c in channels
        ],
        ignore_conflicts=True,
    )
    pending = list(
        Delivery.objects.filter(
            channel__in=channels, key=key[:100], status=Delivery.Status.PENDING, attempts=0
        )
    )
    for d in pending:
        _schedule(d.pk)
    return pending


def _schedule(delivery_id: int) -> None:
    from .tasks import deliver

    transaction.on_commit(lambda: deliver.enqueue(delivery_id))


def attempt(delivery_id: int, now: datetime | None = None) -> str:
    """Send what is due on the delivery's channel, this delivery among it: merged with the
    channel's other due rows, oldest first, in as many messages as its size and rate
    allow. For this delivery: "sent", "retry" (pending again, tried later), "failed",
    "held" (pending: the channel's rate window or a wait does not allow a send now, or
    another send on it is in flight, which takes it next) or "skipped" (not pending, not
    due, or its channel is disabled)."""
    now = now or timezone.now()
    channel_id = (
        Delivery.objects.filter(
            pk=delivery_id,
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
            channel__enabled=True,
        )
        .values_list("channel_id", flat=True)
        .first()
    )
    if channel_id is None:
        return "skipped"
    results: dict[int, str] = {}
    sending.drain(channel_id, now, budget=DRAIN_BUDGET, results=results)
    if delivery_id in results:
        return results[delivery_id]
    pending = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).exists()
    return "held" if pending else "skipped"


def deliver_channel(channel_id: int, now: datetime | None = None) -> int:
    """Send what is due on one channel (the deferred task when its wait ends); the number
    of deliveries attempted."""
    results: dict[int, str] = {}
    sending.drain(channel_id, now or timezone.now(), budget=DRAIN_BUDGET, results=results)
    return len(results)


def deliver_due(now: datetime | None = None, limit: int = DRAIN_BUDGET) -> int:
    """Send what is due on every channel that may send now (the channel with the oldest
    due row first), merged per channel; the number of deliveries attempted (at most about
    `limit`). Safe beside the task worker and other processes: rows are claimed once, the
    rate window is kept in the database."""
    now = now or timezone.now()
    may_send = (Q(channel__held_until__isnull=True) | Q(channel__held_until__lte=now)) & (
        Q(channel__sending_until__isnull=True) | Q(channel__sending_until__lte=now)
    )
    channel_ids = list(
        Delivery.objects.filter(
            may_send,
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
            channel__enabled=True,
        )
        .values("channel_id")
        .annotate(oldest=Min("created_at"))
        .order_by("oldest", "channel_id")
        .values_list("channel_id", flat=True)[:limit]
    )
    results: dict[int, str] = {}
    for channel_id in channel_ids:
        if len(results) >= limit:
            break
        sending.drain(channel_id, now, budget=limit - len(results), results=results)
    return len(results)


def send_test(channel: Channel, *, actor: Any) -> Delivery:
    """A test message through one channel, sent now and alone (the admin waits for the
    answer). It counts in the channel's rate window: while the window is full it waits
    (pending) and goes out with the next send. It is sent even while the channel waits
    after being down, to say whether it is back (then what waited goes out). A retryable
    failure is retried like any delivery."""
    require(actor, channel.account, "channels.manage")
    if not channel.enabled:
        raise ValidationError("渠道已停用，请先启用 / the channel is disabled: enable it first")
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel,
            key=f"test:{uuid.uuid4().hex}",
            title="govwx 测试消息 / test message",
            text=f"这是「{channel.account.name}」的通知渠道「{channel.name}」发出的测试消息。",
            link=settings.GOVWX_PUBLIC_URL + "/team/channels/",
            next_attempt_at=now,
            created_at=now,
        )
        record("channel.tested", account=channel.account, actor=actor, channel=channel.pk)
    claimed = sending.claim(channel.pk, now, only=delivery.pk)
    if isinstance(claimed, sending.Claim):
        sending.send(claimed, now)
    delivery.refresh_from_db()
    channel.refresh_from_db()
    return delivery


# ------------------------------------------------------------------ reading


def failing(account: Account) -> list[Channel]:
    """The account's enabled channels in trouble: an attempt failed since the last
    success (the last delivery failed, is being retried, or failed for good), or a send
    was cut off mid-way and left `sending`."""
    stuck = Delivery.objects.filter(
        channel=OuterRef("pk"),
        status=Delivery.Status.SENDING,
        last_attempt_at__lt=timezone.now() - STUCK_AFTER,
    )
    return list(
        Channel.objects.filter(account=account, enabled=True)
        .filter(Q(failing_since__isnull=False) | Exists(stuck))
        .order_by("id")
    )


def channels_with_state(account: Account) -> list[Channel]:
    """The account's channels, each with `failed_count`, `pending_count`, `stuck_count`
    and `window_count` (messages sent in the last 60 seconds, against its rate limit)
    (one query)."""
    now = timezone.now()
    in_window = (
        Batch.objects.filter(channel=OuterRef("pk"), at__gt=now - sending.WINDOW)
        .order_by()
        .values("channel")
        .annotate(n=models.Count("id"))
        .values("n")
    )
    return list(
        Channel.objects.filter(account=account)
        .annotate(
            failed_count=models.Count(
                "deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)
            ),
            pending_count=models.Count(
                "deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)
            ),
            stuck_count=models.Count(
                "deliveries",
                filter=Q(
                    deliveries__status=Delivery.Status.SENDING,
                    deliveries__last_attempt_at__lt=now - STUCK_AFTER,
                ),
            ),
            window_count=Coalesce(
                models.Subquery(in_window, output_field=models.IntegerField()), Value(0)
            ),
        )
        .order_by("id")
    )


@dataclass(frozen=True)
class ChannelRow:
    """A channel as the channels page shows it."""

    channel: Channel
    target: str
    failing: bool
    # why nothing goes out now: "rate" (its rate limit, or the far end asked to wait),
    # "down" (waiting to try again), "" (nothing holds it)
    held: str
    per_minute: int


def channel_rows(account: Account) -> list[ChannelRow]:
    """The account's channels with their state (two queries)."""
    now = timezone.now()
    failing_ids = {c.pk for c in failing(account)}
    return [
        ChannelRow(
            channel=c,
            target=display_target(c),
            failing=c.pk in failing_ids,
            held=c.held_for if c.enabled and c.held_until and c.held_until > now else "",
            per_minute=sending.limits(c.kind).per_minute,
        )
        for c in channels_with_state(account)
    ]


def recent_deliveries(account: Account, limit: int = 50) -> Sequence[Delivery]:
    return list(
        Delivery.objects.filter(channel__account=account)
        .select_related("channel", "batch")
        .order_by("-created_at", "-id")[:limit]
    )


def display_target(channel: Channel) -> str:
    """The target as the console shows it: addresses in full, a URL without the key or
    path that may carry a secret."""
    if channel.kind == Channel.Kind.EMAIL:
        return channel.target
    parts = urlsplit(channel.target)
    if channel.kind == Channel.Kind.WECOM:
        key = parts.query.removeprefix("key=")
        return f"{parts.scheme}://{parts.netloc}{parts.path}?key={key[:4]}…"
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path not in ("", "/") else channel.target
