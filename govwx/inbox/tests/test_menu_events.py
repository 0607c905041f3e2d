"""Menu events as the sandbox pushes them (location_select, VIEW with MenuId,
view_miniprogram), read by govwx's own protocol and stored for the menu analytics. The
sandbox is driven over HTTP only, like WeChat."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from govwx.console.management.commands import demo
from govwx.wechat import protocol
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)
OPENID = "oMenuEvents0000000000000002"


def drive(site: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{site}/sandbox/api/accounts/{demo.APPID}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_govwx_reads_the_menu_events_the_sandbox_sends(demo_site: str) -> None:
    drive(demo_site, "/followers", {"openid": OPENID, "nickname": "小周", "follow": True})
    sent = [
        {
            "type": "location_select",
            "key": "MENU_NEARBY",
            "x": 34.2611,
            "y": 108.9423,
            "scale": 16,
            "label": "陕西省西安市碑林区钟楼",
            "poiname": "钟楼",
        },
        {"type": "view", "url": f"{demo_site}/h/{demo.APPID}/", "menu_id": "4087"},
        {"type": "view_miniprogram", "pagepath": "pages/card/index", "menu_id": "4087"},
    ]
    for body in sent:
        assert drive(demo_site, f"/followers/{OPENID}/messages", body)["status"] == 200
    rows = list(
        InboundMessage.objects.filter(openid=OPENID, msg_type="event")
        .exclude(event="subscribe")
        .order_by("id")
    )
    assert [r.event for r in rows] == ["location_select", "VIEW", "view_miniprogram"]
    selected, view, program = (protocol.to_message(r.payload) for r in rows)
    assert isinstance(selected, protocol.LocationSelectEvent)
    assert (
        selected.event_key,
        selected.latitude,
        selected.longitude,
        selected.scale,
        selected.label,
        selected.poiname,
    ) == ("MENU_NEARBY", 34.2611, 108.9423, 16, "陕西省西安市碑林区钟楼", "钟楼")
    assert isinstance(view, protocol.ViewEvent) and isinstance(program, protocol.ViewEvent)
    assert (view.event_key, view.menu_id) == (f"{demo_site}/h/{demo.APPID}/", "4087")
    assert (program.event_key, program.menu_id) == ("pages/card/index", "4087")
