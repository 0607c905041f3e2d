"""Writes on notification channels, and the sending of notifications through them.

`enqueue` stores one `Delivery` per enabled channel (idempotent by key) and schedules the
`deliver` task after commit. A send is claimed by a conditional UPDATE (pending →
sending), so it happens at most once per attempt; a retryable failure is tried again
after 1, 5, 15 and 60 minutes, five attempts in all, then the delivery is `failed` and
the channel shows the error. `deliver_due`, run by `govwx desk run`, sends what is due.
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
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.accounts.permissions import require
from govwx.accounts.services import record

from . import senders
from .models import Channel, Delivery

MAX_ATTEMPTS = 5
# Wait before attempt n + 1 after attempt n failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
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


def _schedule(delivery_id: int, run_after: datetime | None = None) -> None:
    from .tasks import deliver

    def go() -> None:
        if run_after is None:
            deliver.enqueue(delivery_id)
        else:
            deliver.using(run_after=run_after).enqueue(delivery_id)

    transaction.on_commit(go)


def _message(delivery: Delivery) -> senders.Message:
    account = delivery.channel.account
    return senders.Message(
        key=delivery.key,
        title=delivery.title,
        text=delivery.text,
        link=delivery.link,
        account=account.name,
        appid=account.appid,
        mentions=list(delivery.mentions or []),
    )


def send_through(channel: Channel, message: senders.Message) -> None:
    """One send through the channel's kind of sender, with the per-attempt timeout."""
    timeout = float(settings.GOVWX_NOTIFY_TIMEOUT)
    if channel.kind == Channel.Kind.EMAIL:
        senders.send_email(
            [a.strip() for a in channel.target.split(",") if a.strip()], message, timeout=timeout
        )
    elif channel.kind == Channel.Kind.WEBHOOK:
        senders.send_webhook(channel.target, channel.secret, message, timeout=timeout)
    elif channel.kind == Channel.Kind.WECOM:
        senders.send_wecom(channel.target, message, timeout=timeout)
    else:
        raise senders.SendError(f"未知的渠道类型 / unknown kind {channel.kind}", retryable=False)


def attempt(delivery_id: int, now: datetime | None = None) -> str:
    """Claim one due delivery and send it: "sent", "retry", "failed" or "skipped" (not
    due, not pending, or its channel is disabled)."""
    now = now or timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id,
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
        channel__enabled=True,
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("channel__account").get(pk=delivery_id)
    channel = delivery.channel
    try:
        send_through(channel, _message(delivery))
    except senders.SendError as exc:
        error = str(exc)[:500]
        again = exc.retryable and delivery.attempts < MAX_ATTEMPTS
        next_at = now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.PENDING if again else Delivery.Status.FAILED,
            next_attempt_at=next_at if again else delivery.next_attempt_at,
            last_error=error,
        )
        Channel.objects.filter(pk=channel.pk).update(
            last_error=error, last_error_at=now, failing_since=Coalesce("failing_since", Value(now))
        )
        if not again:
            return "failed"
        from django_tasks import task_backends

        from .tasks import deliver

        # Backends that cannot defer (the immediate one in tests) leave it to deliver_due.
        if task_backends[deliver.backend].supports_defer:
            _schedule(delivery_id, next_at)
        return "retry"
    Delivery.objects.filter(pk=delivery_id).update(
        status=Delivery.Status.SENT, sent_at=now, last_error=""
    )
    Channel.objects.filter(pk=channel.pk).update(last_ok_at=now, failing_since=None)
    return "sent"


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Send every pending delivery whose time has come (oldest first, at most `limit`);
    the number attempted. Safe beside the task worker: each row is claimed once."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now, channel__enabled=True
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(attempt(pk, now) != "skipped" for pk in due)


def send_test(channel: Channel, *, actor: Any) -> Delivery:
    """A test message through one channel, sent now (the admin waits for the answer); a
    retryable failure is retried like any delivery."""
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
    attempt(delivery.pk, now)
    delivery.refresh_from_db()
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
    """The account's channels, each with `failed_count`, `pending_count` and
    `stuck_count` (one query)."""
    now = timezone.now()
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
        )
        .order_by("id")
    )


def recent_deliveries(account: Account, limit: int = 50) -> Sequence[Delivery]:
    return list(
        Delivery.objects.filter(channel__account=account)
        .select_related("channel")
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
