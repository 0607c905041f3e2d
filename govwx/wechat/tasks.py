"""Background jobs of the WeChat channel."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django_tasks import task

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


@task()
def deliver_outbound(message_id: int) -> str:
    """Send one stored customer-service message, at most once."""
    from .client import WeChatClient
    from .errors import WeChatAPIError

    claimed = OutboundMessage.objects.filter(
        pk=message_id, status=OutboundMessage.Status.PENDING
    ).update(status=OutboundMessage.Status.SENDING)
    if not claimed:
        return "skipped"
    msg = OutboundMessage.objects.select_related("account").get(pk=message_id)
    msgtype, payload = custom_payload(msg.kind, msg.payload)
    try:
        WeChatClient(msg.account).send_custom_message(msg.openid, msgtype, payload)
    except WeChatAPIError as exc:
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.FAILED,
            error_code=exc.errcode,
            error_message=str(exc.errmsg)[:255],
        )
        return "failed"
    except ValueError as exc:  # a payload the API cannot carry: never retried
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.FAILED, error_message=str(exc)[:255]
        )
        return "failed"
    OutboundMessage.objects.filter(pk=message_id).update(
        status=OutboundMessage.Status.SENT, sent_at=timezone.now()
    )
    return "sent"
