"""Menu events the phone page sends — location_select, VIEW with MenuId and
view_miniprogram — as WeChat pushes them, read by wechatpy (govwx's own parser reads them
in govwx/inbox/tests/test_menu_events.py, over HTTP: the sandbox imports nothing of govwx)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.sandbox import callbacks
from govwx.sandbox.models import Entry
from govwx.sandbox.xmltools import document

from .conftest import ORIGINAL_ID, register
from .peer import APPID, Peer, serve

pytestmark = pytest.mark.django_db
OPENID = "oMenuEvents0000000000000001"
URL = f"/sandbox/api/accounts/{APPID}/followers/{OPENID}"


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{URL}/{path}", body, content_type="application/json")


def follow(client: Client, peer: Peer) -> None:
    register(peer.url, mode="plaintext")
    r = client.post(
        f"/sandbox/api/accounts/{APPID}/followers",
        {"openid": OPENID, "nickname": "小赵", "follow": True},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content


LOCATION = {
    "type": "location_select",
    "key": "MENU_NEARBY",
    "x": 34.2612,
    "y": 108.9423,
    "scale": 16,
    "label": "陕西省西安市碑林区钟楼",
    "poiname": "钟楼",
}


def test_location_select_is_read_by_wechatpy(client: Client) -> None:
    with serve(Peer(mode="plaintext")) as peer:
        follow(client, peer)
        r = post(client, "messages", LOCATION)
    assert r.status_code == 200 and r.json()["status"] == 200, r.content
    received = peer.received[-1]
    assert received.error == ""
    got = received.message
    assert (got.event, got.key, got.location, got.scale, got.label) == (
        "location_select",
        "MENU_NEARBY",
        ("34.2612", "108.9423"),
        "16",
        "陕西省西安市碑林区钟楼",
    )
    assert got.location_info["Poiname"] == "钟楼"
    entry = Entry.objects.filter(kind="inbound").last()
    assert entry is not None and entry.payload == {
        "msg_type": "location_select",
        "key": "MENU_NEARBY",
        "x": 34.2612,
        "y": 108.9423,
        "scale": 16,
        "label": "陕西省西安市碑林区钟楼",
        "poiname": "钟楼",
    }


def test_the_location_fields_are_text_as_wechat_sends_them() -> None:
    _, fields = callbacks.message_fields(
        "location_select",
        {**LOCATION, "x": 0.1 + 0.2, "y": 1e-05},
        to=ORIGINAL_ID,
        openid=OPENID,
        create_time=1764000000,
        msg_id=1,
    )
    xml = document(fields)
    assert (
        "<SendLocationInfo><Location_X><![CDATA[0.3]]></Location_X>"
        "<Location_Y><![CDATA[0.00001]]></Location_Y><Scale><![CDATA[16]]></Scale>"
        "<Label><![CDATA[陕西省西安市碑林区钟楼]]></Label><Poiname><![CDATA[钟楼]]></Poiname>"
        "</SendLocationInfo>"
    ) in xml
    assert "<MsgId>" not in xml  # events carry no MsgId


def test_view_carries_the_menuid_of_a_conditional_menu_and_view_miniprogram_its_path(
    client: Client,
) -> None:
    with serve(Peer(mode="plaintext")) as peer:
        follow(client, peer)
        post(client, "messages", {"type": "view", "url": "https://a.gov.cn/", "menu_id": "4087"})
        post(client, "messages", {"type": "view", "url": "https://a.gov.cn/"})
        post(
            client,
            "messages",
            {"type": "view_miniprogram", "pagepath": "pages/card/index", "menu_id": "4087"},
        )
    view, default_view, program = peer.received[-3:]
    assert [r.error for r in (view, default_view, program)] == ["", "", ""]
    assert (view.message.event, view.message.url) == ("view", "https://a.gov.cn/")
    assert b"<MenuId><![CDATA[4087]]></MenuId>" in view.body
    assert b"MenuId" not in default_view.body
    assert (program.message.event, program.message.page_path, program.message.menu_id) == (
        "view_miniprogram",
        "pages/card/index",
        "4087",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"type": "location_select", "key": "K", "y": 108.9}, "x must be a number"),
        ({"type": "location_select", "key": "K", "x": 91, "y": 108.9}, "x is a latitude"),
        ({"type": "location_select", "x": 34.2, "y": 108.9}, "key is required"),
        ({"type": "view_miniprogram"}, "pagepath is required"),
        ({"type": "view", "url": "https://a.gov.cn/", "menu_id": 7}, "menu_id is required"),
    ],
)
def test_bad_menu_events_are_refused_and_nothing_is_sent(
    client: Client, body: dict[str, Any], error: str
) -> None:
    with serve(Peer(mode="plaintext")) as peer:
        follow(client, peer)
        before = Entry.objects.count()
        r = post(client, "messages", body)
    assert r.status_code == 400
    assert error in r.json()["error"]
    assert Entry.objects.count() == before
    assert len(peer.received) == 1  # the follow only
