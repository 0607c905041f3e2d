"""What WeChat reports of the account's publishing, as the callback received it:
PUBLISHJOBFINISH (a publish job ended) and MASSSENDJOBFINISH (a mass send ended).

The callback stores every event before it is recorded here (inbox.gateway), so an event
that came before its job's id was stored on our side (a worker slow, or killed, between
WeChat's answer and its own write) is not lost: `received` finds it when the id is
stored, and it is recorded then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from govwx.wechat.models import InboundMessage


def record_event(account_id: int, event: str, raw: dict[str, Any]) -> bool:
    """Record a platform event for the account; returns whether it named something of
    ours (an unknown publish_id or msg_id is ignored: another tool's job, or one whose
    id is not stored yet)."""
    if event == "PUBLISHJOBFINISH":
        from .publishing import on_publish_event

        info = raw.get("PublishEventInfo")
        return on_publish_event(account_id, info if isinstance(info, dict) else {})
    if event == "MASSSENDJOBFINISH":
        from .mass import on_mass_event

        return on_mass_event(account_id, raw)
    return False


def received(
    account_id: int, event: str, *, since: datetime, key: str, value: str
) -> dict[str, Any] | None:
    """The latest stored event of this kind received since `since` whose payload has
    `value` at `key` (a path like "PublishEventInfo__publish_id")."""
    payload = (
        InboundMessage.objects.filter(
            account_id=account_id,
            received_at__gte=since,
            event__iexact=event,
            **{f"payload__{key}": value},
        )
        .order_by("-id")
        .values_list("payload", flat=True)
        .first()
    )
    return payload if isinstance(payload, dict) else None
