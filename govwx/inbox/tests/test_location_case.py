"""A place a citizen sends: answered with the nearest offices, and part of their case when
they are in a conversation with the desk (a flooded underpass of a complaint)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from govwx.accounts.models import Account, Organisation
from govwx.conftest import ORIGINAL_ID
from govwx.desk.models import Case, CaseMessage
from govwx.desk.services import take_in_pending
from govwx.inbox.tests.wxpeer import Peer, text_xml
from govwx.services.models import Office
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db


def location_xml(openid: str, msg_id: int, label: str = "南关正街地下通道") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        f"<Location_X>34.265</Location_X><Location_Y>108.947</Location_Y><Scale>15</Scale>"
        f"<Label><![CDATA[{label}]]></Label><MsgId>{msg_id}</MsgId></xml>"
    )


@pytest.fixture
def offices(account: Account) -> None:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    Office.objects.create(
        organisation=org, code="GJJ", name="住房公积金管理中心营业部", address="南关正街 88 号",
        latitude=34.261, longitude=108.947,
    )  # fmt: skip


def test_a_place_from_a_stranger_is_a_service_query(client: Any, offices: None) -> None:
    peer = Peer(client)
    reply = peer.reply(peer.post(location_xml("oStranger", 1)))
    assert reply is not None and "住房公积金管理中心营业部" in reply["Content"]
    assert InboundMessage.objects.get().handled_by == "service"
    assert take_in_pending() == (0, 0)


def test_a_place_in_a_conversation_joins_the_case_and_is_answered(
    client: Any, offices: None
) -> None:
    peer = Peer(client)
    peer.post(text_xml("地下通道积水很深，车都熄火了", openid="oCitizen", msg_id=2))
    # before the desk has taken the first message in: it is a conversation already
    reply = peer.reply(peer.post(location_xml("oCitizen", 3)))
    assert reply is not None and "住房公积金管理中心营业部" in reply["Content"]
    assert take_in_pending() == (2, 0)
    case = Case.objects.get()
    assert list(
        CaseMessage.objects.filter(case=case).values_list("inbound__msg_type", flat=True)
    ) == [
        "text",
        "location",
    ]
    # with the case open, another place joins it too
    peer.post(location_xml("oCitizen", 4, "另一处积水"))
    assert take_in_pending() == (1, 0)
    assert CaseMessage.objects.filter(case=case).count() == 3
