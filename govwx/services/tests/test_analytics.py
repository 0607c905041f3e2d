"""Menu analytics: taps per menu item per local day, from the stored callbacks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account
from govwx.services import analytics
from govwx.services.models import MenuVersion
from govwx.wechat import protocol
from govwx.wechat.services import store_inbound

pytestmark = pytest.mark.django_db

HALL = "https://www.example.gov.cn/hall/"
MENU = {
    "button": [
        {
            "name": "办事服务",
            "sub_button": [
                {"type": "click", "name": "公积金查询", "key": "GJJ"},
                {"type": "view", "name": "服务大厅", "url": HALL},
                {
                    "type": "miniprogram",
                    "name": "社保卡",
                    "url": "https://card.example.gov.cn/",
                    "appid": "wxcard000000000001",
                    "pagepath": "pages/card/index",
                },
            ],
        },
        {"type": "location_select", "name": "附近网点", "key": "NEARBY"},
        {"type": "click", "name": "最新通知", "key": "NEWS"},
    ]
}
SEQ = count(1)


def publish(account: Account, number: int, menu: dict[str, Any]) -> None:
    MenuVersion.objects.create(
        account=account,
        number=number,
        status=MenuVersion.Status.PUBLISHED,
        compiled={"menu": menu},
        published_at=datetime(2026, 10, 1, tzinfo=UTC),
    )


def event(account: Account, at: datetime, name: str, key: str, extra: str = "") -> None:
    """Store one event as the callback does: parsed by govwx's protocol, then stored."""
    n = next(SEQ)
    xml = (
        f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        f"<FromUserName><![CDATA[oUser{n}]]></FromUserName>"
        f"<CreateTime>{int(at.timestamp())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey>{extra}</xml>"
    )
    msg = protocol.to_message(protocol.parse_xml(xml.encode()))
    store_inbound(account.pk, msg, reply={}, handled_by="click", rule_id=None, now=at)


def text(account: Account, at: datetime, content: str) -> None:
    xml = (
        f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        f"<FromUserName><![CDATA[oText]]></FromUserName>"
        f"<CreateTime>{int(at.timestamp())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{next(SEQ)}</MsgId></xml>"
    )
    msg = protocol.to_message(protocol.parse_xml(xml.encode()))
    store_inbound(account.pk, msg, reply={}, handled_by="none", rule_id=None, now=at)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LAST_SECOND_OF_NOV_1 = utc(2026, 11, 1, 15, 59, 59)  # 23:59:59 in Shanghai
FIRST_SECOND_OF_NOV_2 = utc(2026, 11, 1, 16, 0, 0)  # 00:00:00 on 2 November in Shanghai


@pytest.fixture
def taps(account: Account, other_account: Account) -> None:
    publish(account, 1, {"button": [{"type": "click", "name": "旧通知", "key": "OLD"}]})
    publish(account, 2, MENU)
    event(account, LAST_SECOND_OF_NOV_1, "CLICK", "GJJ")
    event(account, utc(2026, 10, 31, 16, 0, 0), "CLICK", "GJJ")  # 00:00 on 1 November
    event(account, FIRST_SECOND_OF_NOV_2, "CLICK", "GJJ")
    event(account, FIRST_SECOND_OF_NOV_2, "VIEW", "HTTPS://WWW.example.gov.cn/hall")
    event(account, FIRST_SECOND_OF_NOV_2, "view_miniprogram", "/pages/card/index")
    location = (
        "<SendLocationInfo><Location_X>34.26</Location_X><Location_Y>108.94</Location_Y>"
        "<Scale>15</Scale><Label><![CDATA[钟楼]]></Label><Poiname><![CDATA[钟楼]]></Poiname>"
        "</SendLocationInfo>"
    )
    event(account, utc(2026, 11, 2, 3, 0), "location_select", "NEARBY", location)
    event(account, LAST_SECOND_OF_NOV_1, "CLICK", "OLD")
    event(account, LAST_SECOND_OF_NOV_1, "CLICK", "GONE_KEY")
    # not counted: outside the period, not a menu event, another account
    event(account, utc(2026, 10, 31, 15, 59, 59), "CLICK", "GJJ")  # 31 October locally
    event(account, utc(2026, 11, 2, 16, 0, 0), "CLICK", "GJJ")  # 3 November locally
    event(account, LAST_SECOND_OF_NOV_1, "subscribe", "")
    text(account, LAST_SECOND_OF_NOV_1, "GJJ")
    event(other_account, LAST_SECOND_OF_NOV_1, "CLICK", "GJJ")


NOV = analytics.Period(date(2026, 11, 1), date(2026, 11, 2))


def test_taps_are_counted_per_item_per_local_day_across_the_day_boundary(
    account: Account, taps: None, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):  # the current version, the others, one grouped count
        usage = analytics.usage(account, NOV)
    got = [(i.name, i.kind, i.total, i.counts(usage.days), i.current, i.known) for i in usage.items]
    assert got == [
        ("办事服务 › 公积金查询", "click", 3, [2, 1], True, True),
        ("办事服务 › 服务大厅", "view", 1, [0, 1], True, True),
        ("办事服务 › 社保卡", "miniprogram", 1, [0, 1], True, True),
        ("附近网点", "location_select", 1, [0, 1], True, True),
        ("旧通知", "click", 1, [1, 0], False, True),
        ("GONE_KEY", "click", 1, [1, 0], False, False),
        ("最新通知", "click", 0, [0, 0], True, True),
    ]
    assert usage.day_counts() == [4, 4]
    assert usage.total == 8
    assert analytics.chart(usage)["totals"] == [3, 1, 1, 1, 1, 1]
    assert analytics.chart(usage)["days"] == ["2026-11-01", "2026-11-02"]


def test_one_local_day_holds_exactly_its_own_taps(account: Account, taps: None) -> None:
    usage = analytics.usage(account, analytics.Period(date(2026, 11, 2), date(2026, 11, 2)))
    assert [(i.name, i.total) for i in usage.items if i.total] == [
        ("办事服务 › 公积金查询", 1),
        ("办事服务 › 服务大厅", 1),
        ("办事服务 › 社保卡", 1),
        ("附近网点", 1),
    ]


def test_a_period_is_parsed_and_bad_ones_refused_with_the_reason() -> None:
    assert analytics.parse_period("2026-11-01", "2026-11-02") == (NOV, [])
    default, errors = analytics.parse_period("2026-11-05", "2026-11-01")
    assert errors == ["结束日期早于开始日期 / the end date is before the start date"]
    assert (default.last - default.first).days == 29
    _, errors = analytics.parse_period("11/01/2026", "")
    assert errors == [
        "日期格式不正确：11/01/2026（应为 2026-11-01 这样的格式） / "
        "not a date: '11/01/2026' (use YYYY-MM-DD)"
    ]
    _, errors = analytics.parse_period("2025-01-01", "2026-11-01")
    assert errors == ["统计期最长 366 天 / a period is at most 366 days"]


def test_the_page_shows_the_table_with_totals_and_the_chart(
    client: Client, account: Account, operator: Any, taps: None
) -> None:
    client.force_login(operator)
    r = client.get(reverse("services:analytics"), {"from": "2026-11-01", "to": "2026-11-02"})
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="total-taps">8<' in body
    row = body[body.index('data-key="GJJ"') :]
    row = row[: row.index("</tr>")]
    assert "办事服务 › 公积金查询" in row and "<strong>3</strong>" in row
    assert "<td>2</td>" in row and "<td>1</td>" in row
    assert "echarts-6.1.0.min.js" in body and 'id="chart-data"' in body
    totals = body[body.index('id="day-totals"') :]
    assert totals[: totals.index("</tr>")].endswith("<th>8</th><th>4</th><th>4</th>")


def test_a_bad_period_gets_the_reason_and_the_default_period(
    client: Client, account: Account, operator: Any
) -> None:
    client.force_login(operator)
    r = client.get(reverse("services:analytics"), {"from": "2026-13-01"})
    assert r.status_code == 400
    assert "日期格式不正确：2026-13-01" in r.content.decode()
