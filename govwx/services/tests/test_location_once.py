"""A place picked with the menu's location button is answered once, whether WeChat
pushes only the location_select event or the event and the chat's location message."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from govwx.accounts.models import Account, Organisation
from govwx.inbox.tests.wxpeer import Peer
from govwx.wechat.models import InboundMessage

from .test_query import LAT, LNG, location_select_xml, location_xml, office

pytestmark = pytest.mark.django_db


def test_the_event_and_then_the_message_of_one_place_get_one_answer(
    client: Any, city_account: Account, city: Organisation
) -> None:
    office(city, "O-1", "示例市政务服务中心", 0.01)
    peer = Peer(client)
    with time_machine.travel("2026-12-02 10:00:00 +0800", tick=False):
        doc = peer.reply(peer.post(location_select_xml(LAT, LNG)))
        assert doc["Content"].startswith("离您最近的办事网点：")
        assert peer.post(location_xml(LAT, LNG)).content == b"success"
    rows = list(InboundMessage.objects.order_by("id").values_list("msg_type", "handled_by"))
    assert rows == [("event", "service"), ("location", "service")]
    assert InboundMessage.objects.get(msg_type="location").reply == {}


def test_the_message_first_then_the_event_also_get_one_answer(
    client: Any, city_account: Account, city: Organisation
) -> None:
    office(city, "O-1", "示例市政务服务中心", 0.01)
    peer = Peer(client)
    with time_machine.travel("2026-12-02 10:00:00 +0800", tick=False):
        assert peer.reply(peer.post(location_xml(LAT, LNG)))["MsgType"] == "text"
        assert peer.post(location_select_xml(LAT, LNG)).content == b"success"


def test_another_place_or_a_minute_later_is_answered_again(
    client: Any, city_account: Account, city: Organisation
) -> None:
    office(city, "O-1", "示例市政务服务中心", 0.01)
    peer = Peer(client)
    with time_machine.travel("2026-12-02 10:00:00 +0800", tick=False):
        peer.reply(peer.post(location_select_xml(LAT, LNG)))
        doc = peer.reply(peer.post(location_xml(LAT + 0.001, LNG, msg_id=2002)))
        assert doc["Content"].startswith("离您最近的办事网点：")
    with time_machine.travel("2026-12-02 10:01:01 +0800", tick=False):
        doc = peer.reply(peer.post(location_xml(LAT, LNG, msg_id=2003)))
        assert doc["Content"].startswith("离您最近的办事网点：")
