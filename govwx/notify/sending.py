"""The one way a channel sends: claim, merge, send, record.

Every send (the `deliver` task after `enqueue`, `deliver_due` in `govwx desk run`, the
deferred `deliver_channel`, `send_test`) goes through `claim`: one short transaction with
the channel's row locked (SELECT … FOR UPDATE on PostgreSQL; on SQLite every transaction
begins IMMEDIATE, which serialises writers) that

1. refuses while the channel waits (`held_until`: its rate window is full, the far end
   asked to wait, or it is down and retried after a backoff) or while another send on it
   is in flight (`sending_until`, so merged messages go out in order);
2. counts the channel's `Batch` rows of the last 60 seconds against its rate limit;
3. moves the due pending rows, oldest first and as many as fit in one message, from
   pending to sending in one conditional UPDATE, into a new `Batch`.

The message is sent after the commit (a crash mid-send leaves the rows `sending`: shown,
never resent) and the outcome recorded: sent; rate limited (HTTP 429, WeCom 45009) → back
to pending after Retry-After or the window, the attempt not counted; down (timeout,
refused, 5xx, -1) → back to pending after 1, 5, 15, 60 minutes, five attempts in all, the
channel held as long; refused for good (93000, 404, 550) → failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import senders
from .models import Batch, Channel, Delivery

MAX_ATTEMPTS = 5
# Wait before attempt n + 1 after attempt n failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Limits:
    """What a channel may send: messages in any 60 seconds, and the most one merged
    message may carry (items, and bytes of what goes out)."""

    per_minute: int
    max_items: int
    max_bytes: int


# The WeCom group robot: 20 messages a minute, text content at most 2048 bytes (群机器人配置
# 说明, https://developer.work.weixin.qq.com/document/path/91770; see senders.py). E-mail and
# webhooks have no platform limit: a sane default keeps one code path, and a receiver's own
# limit comes back as HTTP 429.
LIMITS = {
    Channel.Kind.WECOM: Limits(per_minute=20, max_items=50, max_bytes=senders.WECOM_CONTENT_BYTES),
    Channel.Kind.WEBHOOK: Limits(per_minute=60, max_items=50, max_bytes=256 * 1024),
    Channel.Kind.EMAIL: Limits(per_minute=60, max_items=50, max_bytes=256 * 1024),
}


def limits(kind: str) -> Limits:
    return LIMITS[Channel.Kind(kind)]


def _lease() -> timedelta:
    """How long a send may hold its channel: past any attempt's timeout."""
    return timedelta(seconds=max(60.0, 3 * float(settings.GOVWX_NOTIFY_TIMEOUT)))


# ------------------------------------------------------------------ messages


def message_of(delivery: Delivery, channel: Channel) -> senders.Message:
    account = channel.account
    return senders.Message(
        key=delivery.key,
        title=delivery.title,
        text=delivery.text,
        link=delivery.link,
        account=account.name,
        appid=account.appid,
        mentions=list(delivery.mentions or []),
    )


def size(kind: str, message: senders.Message) -> int:
    """Bytes of what the kind of channel would send of the message, uncut."""
    if kind == Channel.Kind.WECOM:
        return len(senders.wecom_text(message).encode())
    if kind == Channel.Kind.WEBHOOK:
        return len(senders.webhook_body(message))
    return len((message.title + senders.email_body(message)).encode())


def fit(kind: str, items: list[senders.Message]) -> int:
    """How many of the items, from the first, go in one message (at least one: a single
    item too long is cut by its sender, as before there was merging)."""
    allowed = limits(kind)
    count = 1
    for n in range(2, min(len(items), allowed.max_items) + 1):
        if size(kind, senders.merge(items[:n], key="batch")) > allowed.max_bytes:
            break
        count = n
    return count


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


# ------------------------------------------------------------------ claim


@dataclass(frozen=True)
class Claim:
    """Rows claimed into one batch: one message to send."""

    channel: Channel
    batch: Batch
    deliveries: list[Delivery]
    leased: bool  # this send holds the channel (`sending_until`) until it is recorded


def schedule_channel(channel_id: int, run_after: datetime | None = None) -> None:
    """The `deliver_channel` task after commit; at `run_after` where the task backend can
    defer (the immediate one of the tests cannot: `deliver_due` sends then instead)."""
    from django_tasks import task_backends

    from .tasks import deliver_channel

    if run_after is not None and not task_backends[deliver_channel.backend].supports_defer:
        return

    def go() -> None:
        if run_after is None:
            deliver_channel.enqueue(channel_id)
        else:
            deliver_channel.using(run_after=run_after).enqueue(channel_id)

    transaction.on_commit(go)


def _hold(channel: Channel, until: datetime, reason: str) -> None:
    Channel.objects.filter(pk=channel.pk).update(held_until=until, held_for=reason)
    if channel.held_until != until:
        schedule_channel(channel.pk, until)


def claim(channel_id: int, now: datetime, *, only: int | None = None) -> Claim | str:
    """Claim the channel's next message, or say why not: "held" (its rate window is full,
    or it waits after a 429 / 45009 or being down), "busy" (a send on it is in flight),
    "none" (nothing due, or the channel is disabled).

    `only`: claim that one row alone (a test message). It counts in the window and obeys
    a rate hold, but not the wait of a channel that was down (the test says whether it is
    back) nor a send in flight (it is not in the order of the alerts)."""
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update(of=("self",))
            .select_related("account")
            .filter(pk=channel_id, enabled=True)
            .first()
        )
        if channel is None:
            return "none"
        if only is None and channel.sending_until and channel.sending_until > now:
            return "busy"
        if channel.held_until and channel.held_until > now:
            if only is None or channel.held_for != Channel.Hold.DOWN:
                return "held"
        allowed = limits(channel.kind)
        window = list(
            Batch.objects.filter(channel=channel, at__gt=now - WINDOW)
            .order_by("at")
            .values_list("at", flat=True)
        )
        if len(window) >= allowed.per_minute:
            # free again when enough of these have left the window
            _hold(channel, window[len(window) - allowed.per_minute] + WINDOW, Channel.Hold.RATE)
            return "held"
        due = Delivery.objects.filter(
            channel=channel, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        )
        if only is not None:
            due = due.filter(pk=only)
        candidates = list(due.order_by("created_at", "id")[: allowed.max_items])
        if not candidates:
            return "none"
        count = fit(channel.kind, [message_of(d, channel) for d in candidates])
        batch = Batch.objects.create(channel=channel, at=now, size=count)
        claimed = Delivery.objects.filter(
            pk__in=[d.pk for d in candidates[:count]], status=Delivery.Status.PENDING
        ).update(
            status=Delivery.Status.SENDING,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            batch=batch,
        )
        if claimed != count:  # cannot happen with the row locked; never send a stranger's
            transaction.set_rollback(True)
            return "busy"
        if only is None:
            Channel.objects.filter(pk=channel.pk).update(sending_until=now + _lease())
        deliveries = list(
            Delivery.objects.filter(batch=batch, status=Delivery.Status.SENDING).order_by(
                "created_at", "id"
            )
        )
    return Claim(channel=channel, batch=batch, deliveries=deliveries, leased=only is None)


# ------------------------------------------------------------------ send and record


def send(claimed: Claim, now: datetime) -> dict[int, str]:
    """Send the claimed rows as one message and record the outcome; "sent", "retry" or
    "failed" per delivery."""
    channel, batch = claimed.channel, claimed.batch
    message = senders.merge(
        [message_of(d, channel) for d in claimed.deliveries], key=f"batch:{batch.pk}"
    )
    try:
        send_through(channel, message)
    except senders.SendError as exc:
        return _record_failure(claimed, exc, now)
    done = max(now, timezone.now())
    with transaction.atomic():
        Delivery.objects.filter(batch=batch, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.SENT, sent_at=now, last_error=""
        )
        Batch.objects.filter(pk=batch.pk).update(outcome=Batch.Outcome.SENT, at=done)
        changes: dict[str, object] = {"last_ok_at": now, "failing_since": None}
        if claimed.leased:
            changes["sending_until"] = None
        Channel.objects.filter(pk=channel.pk).update(**changes)
        if channel.held_for == Channel.Hold.DOWN:
            # It is back (a test message found it so): what waited goes out now, merged.
            Channel.objects.filter(pk=channel.pk, held_for=Channel.Hold.DOWN).update(
                held_until=None, held_for=""
            )
            Delivery.objects.filter(
                channel=channel, status=Delivery.Status.PENDING, next_attempt_at__gt=now
            ).update(next_attempt_at=now)
            if not claimed.leased:
                schedule_channel(channel.pk)
    return {d.pk: "sent" for d in claimed.deliveries}


def _record_failure(claimed: Claim, exc: senders.SendError, now: datetime) -> dict[int, str]:
    channel, batch = claimed.channel, claimed.batch
    error = str(exc)[:500]
    rows = Delivery.objects.filter(batch=batch, status=Delivery.Status.SENDING)
    results: dict[int, str]
    hold: tuple[datetime, str] | None = None
    channel_changes: dict[str, object] = {"last_error": error, "last_error_at": now}
    if claimed.leased:
        channel_changes["sending_until"] = None
    with transaction.atomic():
        if exc.rate_limited:
            # Not a failure: the far end only asked us to slow down. The attempt is given
            # back; the window (WeCom's is a minute) or its Retry-After says when.
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else WINDOW
            hold = (now + wait, Channel.Hold.RATE)
            rows.update(
                status=Delivery.Status.PENDING,
                attempts=F("attempts") - 1,
                next_attempt_at=now + wait,
                last_error=error,
            )
            outcome = Batch.Outcome.LIMITED
            results = {d.pk: "retry" for d in claimed.deliveries}
        elif exc.retryable:
            attempts = max(d.attempts for d in claimed.deliveries)
            retry_at = now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
            hold = (retry_at, Channel.Hold.DOWN)
            rows.filter(attempts__lt=MAX_ATTEMPTS).update(
                status=Delivery.Status.PENDING, next_attempt_at=retry_at, last_error=error
            )
            rows.update(status=Delivery.Status.FAILED, last_error=error)
            outcome = Batch.Outcome.RETRY
            results = {
                d.pk: "retry" if d.attempts < MAX_ATTEMPTS else "failed" for d in claimed.deliveries
            }
            channel_changes["failing_since"] = Coalesce("failing_since", Value(now))
        else:
            rows.update(status=Delivery.Status.FAILED, last_error=error)
            outcome = Batch.Outcome.FAILED
            results = {d.pk: "failed" for d in claimed.deliveries}
            channel_changes["failing_since"] = Coalesce("failing_since", Value(now))
        Batch.objects.filter(pk=batch.pk).update(
            outcome=outcome, error=error, at=max(now, timezone.now())
        )
        Channel.objects.filter(pk=channel.pk).update(**channel_changes)
        if hold is not None:
            _hold(channel, *hold)
    return results


def drain(channel_id: int, now: datetime, budget: int, results: dict[int, str]) -> str:
    """Send the channel's due rows, one message after another while it may (what did not
    fit in one goes in the next), until nothing is due or `budget` rows were attempted.
    Fills `results` per delivery; returns why it stopped: "none", "held", "busy" or
    "budget"."""
    attempted = 0
    while attempted < budget:
        claimed = claim(channel_id, now)
        if isinstance(claimed, str):
            return claimed
        attempted += len(claimed.deliveries)
        results.update(send(claimed, now))
        # What arrived during the send is due too: a task that found the channel busy
        # left its row to this loop.
        now = max(now, timezone.now())
    return "budget"
