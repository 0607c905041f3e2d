"""Test data for console pages: stored messages and followers, as the inbox writes them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from govwx.accounts.models import Account
from govwx.wechat.models import Follower, InboundMessage

_seq = itertools.count(1)


def inbound(
    account: Account,
    *,
    openid: str = "o-fan-1",
    msg_type: str = "text",
    content: str = "",
    event: str = "",
    payload: dict[str, Any] | None = None,
    reply: dict[str, Any] | None = None,
    handled_by: str = "none",
    rule_id: int | None = None,
    at: datetime | None = None,
) -> InboundMessage:
    at = at or timezone.now()
    n = next(_seq)
    return InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"test:{n}",
        msg_type=msg_type,
        event=event,
        msg_id=n if msg_type != "event" else None,
        content=content,
        payload=payload or {},
        sent_at=at,
        received_at=at,
        reply=reply or {},
        handled_by=handled_by,
        rule_id=rule_id,
    )


def follower(
    account: Account,
    openid: str,
    *,
    subscribed: bool = True,
    subscribed_at: datetime | None = None,
    unsubscribed_at: datetime | None = None,
    nickname: str = "",
) -> Follower:
    now = timezone.now()
    return Follower.objects.create(
        account=account,
        openid=openid,
        subscribed=subscribed,
        subscribed_at=subscribed_at,
        unsubscribed_at=unsubscribed_at,
        first_seen_at=now,
        last_interaction_at=now,
        nickname=nickname,
    )


def text_reply(content: str) -> dict[str, Any]:
    return {"kind": "text", "data": {"content": content}}
