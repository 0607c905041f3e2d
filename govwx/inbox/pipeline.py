"""The one pipeline a stored message goes through: it decides the answer.

Order: a follow gets the follow reply; a menu click its key's reply; a text message the
first matching keyword rule (an operator's rule wins), then the service hub's query (a
service's keyword: its guide's card; 查询 / 服务: the hub's card); a location (sent, or
picked from a menu's location button) the nearest offices; any other message a follower
writes goes to the desk, with the default reply as an acknowledgement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from govwx.desk.models import OPEN_STATUSES, Case
from govwx.wechat.models import InboundMessage
from govwx.wechat.protocol import (
    ClickEvent,
    LocationMessage,
    LocationSelectEvent,
    Message,
    Reply,
    SubscribeEvent,
    TextMessage,
)

from .runtime import AccountRuntime


@dataclass(frozen=True)
class Decision:
    handled_by: str  # rule / follow / click / service / desk / content / none
    replies: tuple[Reply, ...] = field(default=())
    rule_id: int | None = None
    # the reply was drawn at random from several: a retry must get the stored one, so
    # this delivery waits for the database's writer instead of being spooled
    drawn: bool = False

    @property
    def passive(self) -> Reply | None:
        return self.replies[0] if self.replies else None

    @property
    def followups(self) -> tuple[Reply, ...]:
        """Replies beyond the first: sent as customer-service messages."""
        return self.replies[1:]


NONE = Decision("none")
CONTENT = Decision("content")


def _pick(replies: tuple[Reply, ...], reply_all: bool = False) -> tuple[Reply, ...]:
    if reply_all or len(replies) <= 1:
        return replies
    return (random.choice(replies),)


# What a follower writes (not events): when no rule answers it, a person will.
USER_MESSAGE_TYPES = frozenset(
    {"text", "image", "voice", "video", "shortvideo", "location", "link"}
)


# What the platform reports of the account's publishing (no follower wrote them): the
# content app records them after the message is stored (content.events).
PLATFORM_EVENTS = frozenset({"PUBLISHJOBFINISH", "MASSSENDJOBFINISH"})


def decide(rt: AccountRuntime, msg: Message) -> Decision:
    rules = rt.rules
    if isinstance(msg, TextMessage):
        hit = rules.matcher.match(msg.content)
        if hit is not None:
            # a 转人工 rule answers and hands the message to the desk as well
            return Decision(
                "desk" if hit.handoff else "rule",
                hit.choose(),
                hit.pk,
                drawn=not hit.reply_all and len(hit.replies) > 1,
            )
        card = rt.services.answer(msg.content)
        if card is not None:
            return Decision("service", (card,))
    if isinstance(msg, (LocationMessage, LocationSelectEvent)):
        if msg.latitude is not None and msg.longitude is not None:
            nearby = rt.services.nearby(msg.latitude, msg.longitude)
            if nearby is not None:
                answer = (
                    () if _answered_already(rt, msg, msg.latitude, msg.longitude) else (nearby,)
                )
                if isinstance(msg, LocationMessage) and _in_conversation(rt.id, msg.from_user):
                    # a place sent in a conversation with the desk (the flooded underpass
                    # of a complaint) belongs to the case too, beside the offices' answer
                    return Decision("desk", answer)
                return Decision("service", answer)
    if msg.msg_type == "event" and msg.event.upper() in PLATFORM_EVENTS:
        return CONTENT
    if isinstance(msg, SubscribeEvent):
        return Decision("follow", rules.follow) if rules.follow else NONE
    if isinstance(msg, ClickEvent):
        replies = rules.click.get(msg.event_key) or ()
        picked = _pick(replies) if replies else ()
        if msg.event_key in rules.handoff_keys:  # a 「我要投诉」 button: a person takes it
            return Decision("desk", picked, drawn=len(replies) > 1)
        return Decision("click", picked, drawn=len(replies) > 1) if replies else NONE
    if msg.msg_type in USER_MESSAGE_TYPES:
        # The desk takes it in from the stored row (desk.services.take_in_pending): the
        # callback only marks it; the default reply, if any, acknowledges it.
        return Decision(
            "desk", _pick(rules.default) if rules.default else (), drawn=len(rules.default) > 1
        )
    return NONE


# A follower's messages for the desk this recent make a place they send part of it.
CONVERSATION = timedelta(hours=48)


def _in_conversation(account_id: int, openid: str) -> bool:
    """Whether the follower has a case open or wrote to the desk lately (the desk may not
    have taken that message in yet): one indexed look-up, for a location message only,
    on an account whose catalogue has offices."""
    if Case.objects.filter(account_id=account_id, openid=openid, status__in=OPEN_STATUSES).exists():
        return True
    return InboundMessage.objects.filter(
        account_id=account_id,
        openid=openid,
        handled_by="desk",
        received_at__gte=datetime.now(UTC) - CONVERSATION,
    ).exists()


# A place picked with a menu's location button may reach us twice: as the
# location_select event and as the location message the picker puts in the chat.
SAME_PLACE_SECONDS = 60


def _coordinates(row: dict[str, Any]) -> tuple[float, float] | None:
    info: Any = row.get("SendLocationInfo")
    if not isinstance(info, dict):
        info = row
    try:
        return float(info["Location_X"]), float(info["Location_Y"])
    except (KeyError, TypeError, ValueError):
        return None


def _answered_already(
    rt: AccountRuntime, msg: LocationMessage | LocationSelectEvent, lat: float, lng: float
) -> bool:
    """Whether the same place, from the same follower, was answered a moment ago in its
    other form (the event for a message, the message for an event): one answer each."""
    other = (
        {"msg_type": "event", "event": "location_select"}
        if isinstance(msg, LocationMessage)
        else {"msg_type": "location"}
    )
    sent = datetime.fromtimestamp(msg.create_time, tz=UTC)
    window = timedelta(seconds=SAME_PLACE_SECONDS)
    rows = InboundMessage.objects.filter(
        account_id=rt.id,
        openid=msg.from_user,
        handled_by="service",
        sent_at__gte=sent - window,
        sent_at__lte=sent + window,
        **other,
    ).values_list("payload", flat=True)[:5]
    for payload in rows:
        seen = _coordinates(payload) if isinstance(payload, dict) else None
        if seen is not None and abs(seen[0] - lat) < 1e-5 and abs(seen[1] - lng) < 1e-5:
            return True
    return False
