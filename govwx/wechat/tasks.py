"""Background jobs of the WeChat channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone
from django_tasks import task, task_backends

from .models import OutboundMessage


def custom_payload(kind: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A stored reply in WeChat's customer-service message shape."""
    if kind == "music":
        return "music", {
            "title": data.get("title", ""),
            "description": data.get("description", ""),
            "musicurl": data.get("music_url", ""),
            "hqmusicurl": data.get("hq_music_url", ""),
            "thumb_media_id": data.get("thumb_media_id", ""),
        }
    if kind == "news":
        # The customer-service API sends one external-link article.
        a = data["articles"][0]
        return "news", {
            "articles": [
                {
                    "title": a.get("title", ""),
                    "description": a.get("description", ""),
                    "url": a.get("url", ""),
                    "picurl": a.get("pic_url", ""),
                }
            ]
        }
    return kind, dict(data)


MAX_ATTEMPTS = 5


def backoff(attempt: int, hint: float | None = None) -> timedelta:
    """Wait before attempt `attempt + 1`: 5 s, 15 s, 45 s, 135 s, then 5 minutes."""
    return timedelta(seconds=max(min(300, 5 * 3**attempt), hint or 0))


@task()
def deliver_outbound(message_id: int) -> str:
    """Send one stored customer-service message, at most once.

    A retryable failure (system busy, rate limit, network) puts the message back to
    `pending` and schedules the next attempt with backoff, up to MAX_ATTEMPTS; any other
    failure is final. A crash between claiming and recording leaves it `sending`:
    never sent twice, shown for a person to decide.
    """
    from .client import WeChatClient
    from .errors import OutsideReplyWindow, ReplyQuotaUsedUp, WeChatAPIError

    claimed = OutboundMessage.objects.filter(
        pk=message_id, status=OutboundMessage.Status.PENDING
    ).update(status=OutboundMessage.Status.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    msg = OutboundMessage.objects.select_related("account").get(pk=message_id)
    msgtype, payload = custom_payload(msg.kind, msg.payload)
    try:
        WeChatClient(msg.account).send_custom_message(msg.openid, msgtype, payload)
    except (OutsideReplyWindow, ReplyQuotaUsedUp) as exc:
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.HELD,
            held_at=timezone.now(),
            error_code=exc.errcode,
            error_message=str(exc.errmsg)[:255],
        )
        return "held"
    except WeChatAPIError as exc:
        again = exc.retryable and msg.attempts < MAX_ATTEMPTS
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.PENDING if again else OutboundMessage.Status.FAILED,
            error_code=exc.errcode,
            error_message=str(exc.errmsg)[:255],
        )
        if not again:
            return "failed"
        # Backends that cannot defer (the immediate one in tests) leave it pending.
        if task_backends[deliver_outbound.backend].supports_defer:
            run_after = timezone.now() + backoff(msg.attempts - 1, exc.retry_after)
            deliver_outbound.using(run_after=run_after).enqueue(message_id)
        return "retry"
    except ValueError as exc:  # a payload the API cannot carry: never retried
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.FAILED, error_message=str(exc)[:255]
        )
        return "failed"
    OutboundMessage.objects.filter(pk=message_id).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now()
    )
    return "sent"
