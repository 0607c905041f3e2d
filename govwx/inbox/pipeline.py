"""The one pipeline a stored message goes through: it decides the answer.

Order: a follow gets the follow reply; a menu click its key's reply; a text message the
first matching keyword rule, else the default reply. Later capabilities (service queries,
the desk) slot in here, between the rules and the default reply.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from govwx.wechat.protocol import ClickEvent, Message, Reply, SubscribeEvent, TextMessage

from .runtime import AccountRuntime


@dataclass(frozen=True)
class Decision:
    handled_by: str  # rule / follow / click / default / none
    replies: tuple[Reply, ...] = field(default=())
    rule_id: int | None = None

    @property
    def passive(self) -> Reply | None:
        return self.replies[0] if self.replies else None

    @property
    def followups(self) -> tuple[Reply, ...]:
        """Replies beyond the first: sent as customer-service messages."""
        return self.replies[1:]


NONE = Decision("none")


def _pick(replies: tuple[Reply, ...], reply_all: bool = False) -> tuple[Reply, ...]:
    if reply_all or len(replies) <= 1:
        return replies
    return (random.choice(replies),)


def decide(rt: AccountRuntime, msg: Message) -> Decision:
    rules = rt.rules
    if isinstance(msg, TextMessage):
        hit = rules.matcher.match(msg.content)
        if hit is not None:
            return Decision("rule", hit.choose(), hit.pk)
        if rules.default:
            return Decision("default", _pick(rules.default))
        return NONE
    if isinstance(msg, SubscribeEvent):
        return Decision("follow", rules.follow) if rules.follow else NONE
    if isinstance(msg, ClickEvent):
        replies = rules.click.get(msg.event_key)
        return Decision("click", _pick(replies)) if replies else NONE
    if (
        msg.msg_type != "event"
        and msg.msg_type in {"image", "voice", "video", "shortvideo", "location", "link"}
        and rules.default
    ):
        return Decision("default", _pick(rules.default))
    return NONE
