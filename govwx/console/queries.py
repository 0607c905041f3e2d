"""Read-only queries of the console's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.replies.models import Rule
from govwx.wechat.models import Follower, InboundMessage

from .display import AUTO_HANDLERS, MessageRow, message_rows


@dataclass(frozen=True)
class TodayStats:
    received: int
    auto_replied: int
    unanswered: int
    new_followers: int
    unfollows: int
    following: int
    enabled_rules: int


def local_day(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of the current day in the site's zone (Asia/Shanghai), aware."""
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def today_stats(account: Account, now: datetime | None = None) -> TodayStats:
    start, end = local_day(now)
    msgs = InboundMessage.objects.filter(
        account=account, received_at__gte=start, received_at__lt=end
    ).aggregate(
        received=Count("id", filter=~Q(msg_type="event")),
        # replies to the messages counted above: a follow or a menu click is an event,
        # and its reply is not a reply to a message. The desk's messages count as
        # replied when the default reply acknowledged them.
        auto_replied=Count(
            "id",
            filter=~Q(msg_type="event")
            & (Q(handled_by__in=AUTO_HANDLERS) | (Q(handled_by="desk") & ~Q(reply={}))),
        ),
        unanswered=Count(
            "id", filter=~Q(msg_type="event") & Q(handled_by__in=("none", "desk"), reply={})
        ),
    )
    fans = Follower.objects.filter(account=account).aggregate(
        new=Count("id", filter=Q(subscribed_at__gte=start, subscribed_at__lt=end)),
        gone=Count("id", filter=Q(unsubscribed_at__gte=start, unsubscribed_at__lt=end)),
        following=Count("id", filter=Q(subscribed=True)),
    )
    return TodayStats(
        received=msgs["received"],
        auto_replied=msgs["auto_replied"],
        unanswered=msgs["unanswered"],
        new_followers=fans["new"],
        unfollows=fans["gone"],
        following=fans["following"],
        enabled_rules=Rule.objects.filter(account=account, enabled=True).count(),
    )


def rows_for(account: Account, messages: list[InboundMessage]) -> list[MessageRow]:
    """Display rows, with rule names and follower nicknames in one query each."""
    rule_ids = {m.rule_id for m in messages if m.rule_id}
    names = (
        dict(Rule.objects.filter(account=account, pk__in=rule_ids).values_list("pk", "name"))
        if rule_ids
        else {}
    )
    openids = {m.openid for m in messages}
    nicknames = (
        dict(
            Follower.objects.filter(account=account, openid__in=openids)
            .exclude(nickname="")
            .values_list("openid", "nickname")
        )
        if openids
        else {}
    )
    return message_rows(messages, names, nicknames)
