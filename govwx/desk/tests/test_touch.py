"""Followers from the stored messages: the callback writes only the message (and a
(un)subscription's row); the desk's pass adds each new follower and moves each one's last
interaction forward, a range of messages in one statement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.desk.models import IntakeCursor
from govwx.desk.services import SETTLE_DEFAULT, take_in_pending, touch_pending
from govwx.inbox.tests.wxpeer import Peer, event_xml, text_xml
from govwx.wechat.models import Follower, InboundMessage

pytestmark = pytest.mark.django_db


def test_a_message_writes_one_row_and_the_desk_adds_its_follower(
    client: Any, account: Account
) -> None:
    peer = Peer(client)
    peer.post(text_xml("小区门口的路灯坏了", openid="oNew1", msg_id=1))
    assert InboundMessage.objects.count() == 1
    assert not Follower.objects.filter(openid="oNew1").exists()  # not in the callback
    take_in_pending()
    f = Follower.objects.get(account=account, openid="oNew1")
    seen = InboundMessage.objects.get(msg_id=1).received_at
    assert f.subscribed and f.first_seen_at == seen and f.last_interaction_at == seen
    # the cursor passes a message once it has settled (at once on SQLite; on PostgreSQL,
    # where a lower id may commit after a higher one, after SETTLE: touched again meanwhile)
    with time_machine.travel(timezone.now() + SETTLE_DEFAULT + timedelta(seconds=1)):
        touch_pending()
    assert IntakeCursor.objects.get(pk=1).last_touched_id == InboundMessage.objects.get().pk
    assert Follower.objects.get(openid="oNew1").last_interaction_at == seen


def test_the_last_interaction_moves_forward_never_back(client: Any, account: Account) -> None:
    peer = Peer(client)
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        peer.post(text_xml("后来的一条", openid="oA", msg_id=2))
    later = InboundMessage.objects.get(msg_id=2).received_at
    touch_pending()
    peer.post(text_xml("先到的一条", openid="oA", msg_id=3))  # received earlier in time
    touch_pending()
    assert Follower.objects.get(openid="oA").last_interaction_at == later
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        peer.post(text_xml("再后来", openid="oA", msg_id=4))
        touch_pending()
    f = Follower.objects.get(openid="oA")
    assert f.last_interaction_at == InboundMessage.objects.get(msg_id=4).received_at
    assert f.first_seen_at == later  # a row's first sight is not rewritten


def test_events_that_are_not_the_follower_s_doing_touch_nothing(
    client: Any, account: Account
) -> None:
    peer = Peer(client)
    peer.post(event_xml("TEMPLATESENDJOBFINISH", openid="oT"))
    peer.post(event_xml("CLICK", openid="oC", key="GUIDE"))
    touch_pending()
    assert list(Follower.objects.values_list("openid", flat=True)) == ["oC"]


def test_an_unsubscription_stays_one_when_earlier_messages_are_touched_after_it(
    client: Any, account: Account
) -> None:
    peer = Peer(client)
    peer.post(event_xml("subscribe", openid="oU"))
    peer.post(text_xml("在吗", openid="oU", msg_id=5))
    peer.post(event_xml("unsubscribe", openid="oU", create_time=int(timezone.now().timestamp())))
    touch_pending()  # after the unsubscription, in the desk's pass
    f = Follower.objects.get(openid="oU")
    assert not f.subscribed and f.unsubscribed_at is not None


def test_a_pass_with_nothing_new_writes_nothing(
    client: Any, account: Account, django_assert_num_queries: Any
) -> None:
    Peer(client).post(text_xml("你好", openid="oN", msg_id=6))
    with time_machine.travel(timezone.now() + SETTLE_DEFAULT + timedelta(seconds=1)):
        touch_pending()
        last = IntakeCursor.objects.get(pk=1).last_touched_id
        with django_assert_num_queries(1):  # is there anything after the cursor? no
            touch_pending(last)
