"""The service query through the real callback: signed, encrypted, parsed and answered."""

from __future__ import annotations

import time
from typing import Any

import pytest

from govwx.accounts.models import Account, Organisation
from govwx.conftest import ORIGINAL_ID
from govwx.inbox import runtime
from govwx.inbox.tests.wxpeer import Peer, event_xml, text_xml
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule
from govwx.services import catalogue
from govwx.services.models import Category, Office, Service
from govwx.services.query import OfficePoint, distance_label, load_index, nearby_text
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db

# Along a meridian one degree of latitude is 6,371,008.8 m × π / 180 = 111,195.08 m.
LAT, LNG = 30.0, 120.0


def location_xml(lat: float, lng: float, *, msg_id: int = 2001) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[oUser1]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[location]]></MsgType>"
        f"<Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y><Scale>15</Scale>"
        f"<Label><![CDATA[示例市某路]]></Label><MsgId>{msg_id}</MsgId></xml>"
    )


def location_select_xml(lat: float, lng: float) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[oUser1]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[location_select]]></Event><EventKey><![CDATA[NEAR]]></EventKey>"
        f"<SendLocationInfo><Location_X>{lat}</Location_X><Location_Y>{lng}</Location_Y>"
        f"<Scale>15</Scale><Label><![CDATA[示例市某路]]></Label><Poiname><![CDATA[]]></Poiname>"
        f"</SendLocationInfo></xml>"
    )


def service(org: Organisation, code: str, name: str, **kw: Any) -> Service:
    kw.setdefault("category", Category.HOUSING)
    return Service.objects.create(organisation=org, code=code, name=name, **kw)


def office(org: Organisation, code: str, name: str, dlat: float | None, **kw: Any) -> Office:
    return Office.objects.create(
        organisation=org,
        code=code,
        name=name,
        address=kw.pop("address", f"{name}地址"),
        latitude=None if dlat is None else LAT + dlat,
        longitude=None if dlat is None else LNG,
        **kw,
    )


@pytest.fixture
def housing(city: Organisation) -> Service:
    return service(
        city,
        "HF-001",
        "住房公积金提取",
        summary="购房、租房、退休等情形提取住房公积金",
        keywords=["公积金", "提取公积金"],
    )


def card(doc: dict[str, Any]) -> dict[str, str]:
    assert doc["MsgType"] == "news" and doc["ArticleCount"] == "1"
    item: dict[str, str] = doc["Articles"]["item"]
    return item


def test_a_service_keyword_answers_with_the_guide_card(
    client: Any, city_account: Account, housing: Service
) -> None:
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml("公积金")))
    assert card(doc) == {
        "Title": "住房公积金提取",
        "Description": "购房、租房、退休等情形提取住房公积金",
        "PicUrl": "",
        "Url": catalogue.guide_url(city_account, "HF-001"),
    }
    assert card(doc)["Url"].startswith("http://127.0.0.1:8000/")
    row = InboundMessage.objects.get()
    assert (row.handled_by, row.rule_id) == ("service", None)
    # a keyword inside a sentence, and the service's name as the whole message
    doc = peer.reply(peer.post(text_xml("请问怎么提取公积金", msg_id=2)))
    assert card(doc)["Title"] == "住房公积金提取"
    doc = peer.reply(peer.post(text_xml(" 住房公积金提取 ", msg_id=3)))
    assert card(doc)["Title"] == "住房公积金提取"


def test_a_guide_without_a_summary_describes_itself_by_its_first_lines(
    client: Any, city_account: Account, city: Organisation
) -> None:
    service(
        city,
        "HH-002",
        "居民身份证换领",
        category=Category.HOUSEHOLD,
        eligibility="本市户籍居民\n身份证有效期满者",
        materials="居民户口簿\n原身份证\n近期照片\n其他",
        time_limit="20个工作日",
    )
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml("居民身份证换领")))
    assert card(doc)["Description"] == (
        "办理对象：本市户籍居民\n申请材料：居民户口簿、原身份证、近期照片\n办理时限：20个工作日"
    )


def test_an_operators_rule_with_the_same_keyword_wins(
    client: Any, city_account: Account, housing: Service
) -> None:
    rule = create_rule(
        city_account,
        RuleInput(
            "公积金热线", [KeywordInput("公积金")], [ReplyInput("text", {"content": "请拨12329"})]
        ),
    )
    peer = Peer(client)
    assert peer.reply(peer.post(text_xml("公积金")))["Content"] == "请拨12329"
    row = InboundMessage.objects.get()
    assert (row.handled_by, row.rule_id) == ("rule", rule.pk)


@pytest.mark.parametrize("word", ["查询", "服务", "办事", "服务大厅"])
def test_the_hub_words_answer_with_the_hub_card(
    client: Any, city_account: Account, housing: Service, word: str
) -> None:
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml(word)))
    assert card(doc) == {
        "Title": "示例市发布 · 服务大厅",
        "Description": "按类别查找办事指南、办理地点和在线办理入口",
        "PicUrl": "",
        "Url": catalogue.hub_url(city_account),
    }
    assert InboundMessage.objects.get().handled_by == "service"


def test_a_hub_word_inside_a_sentence_is_not_the_hub(
    client: Any, city_account: Account, housing: Service
) -> None:
    peer = Peer(client)
    assert peer.post(text_xml("我想查询一下天气")).content == b"success"
    assert InboundMessage.objects.get().handled_by == "desk"


def test_a_location_answers_with_the_nearest_three_offices_in_order(
    client: Any, city_account: Account, city: Organisation, housing: Service
) -> None:
    far = office(city, "O-4", "示例市北郊服务站", 0.5)
    near = office(
        city,
        "O-1",
        "示例市政务服务中心",
        -0.0027,  # 300.2 m
        address="示例市人民路1号",
        opening_hours="工作日 9:00-17:00",
        phone="0571-12345",
    )
    office(city, "O-2", "公积金管理中心", 0.0076, opening_hours="工作日 8:30-17:30")  # 845.1 m
    office(city, "O-3", "东区便民服务站", 0.0108, phone="0571-67890")  # 1,200.9 m
    office(city, "O-5", "没有坐标的窗口", None)
    housing.offices.add(near)
    assert far.latitude is not None
    peer = Peer(client)
    doc = peer.reply(peer.post(location_xml(LAT, LNG)))
    page = {code: catalogue.office_url(city_account, code) for code in ("O-1", "O-2", "O-3")}
    hub = catalogue.hub_url(city_account)
    assert page["O-1"].endswith(f"/h/{city_account.appid}/o/O-1/")
    assert doc["MsgType"] == "text"
    assert doc["Content"] == (
        "离您最近的办事网点：\n\n"
        "1. 示例市政务服务中心（300 米）\n地址：示例市人民路1号\n办公时间：工作日 9:00-17:00\n"
        f'电话：0571-12345\n<a href="{page["O-1"]}">查看网点详情（可办 1 项）</a>\n\n'
        "2. 公积金管理中心（850 米）\n地址：公积金管理中心地址\n办公时间：工作日 8:30-17:30\n"
        f'<a href="{page["O-2"]}">查看网点详情</a>\n\n'
        "3. 东区便民服务站（1.2 公里）\n地址：东区便民服务站地址\n电话：0571-67890\n"
        f'<a href="{page["O-3"]}">查看网点详情</a>\n\n'
        f'<a href="{hub}">查看全部服务 →</a>'
    )
    assert InboundMessage.objects.get().handled_by == "service"


def test_a_location_picked_from_the_menu_is_answered_too(
    client: Any, city_account: Account, city: Organisation
) -> None:
    office(city, "O-1", "示例市政务服务中心", 0.045)  # 5,003.8 m
    peer = Peer(client)
    doc = peer.reply(peer.post(location_select_xml(LAT, LNG)))
    assert doc["Content"].startswith("离您最近的办事网点：\n\n1. 示例市政务服务中心（5.0 公里）\n")
    assert InboundMessage.objects.get(event="location_select").handled_by == "service"


def test_without_offices_with_coordinates_a_location_goes_to_the_desk(
    client: Any, city_account: Account, city: Organisation, housing: Service
) -> None:
    office(city, "O-5", "没有坐标的窗口", None)
    peer = Peer(client)
    assert peer.post(location_xml(LAT, LNG)).content == b"success"
    assert InboundMessage.objects.get().handled_by == "desk"
    # an impossible position also goes to a person
    office(city, "O-1", "示例市政务服务中心", 0.01)
    catalogue.bump(city)
    assert peer.post(location_xml(91.0, LNG, msg_id=2)).content == b"success"
    assert InboundMessage.objects.get(msg_id=2).handled_by == "desk"


def test_a_catalogue_change_is_seen_on_the_next_message(
    client: Any, city_account: Account, housing: Service, settings: Any
) -> None:
    settings.GOVWX_RULES_TTL = 0
    peer = Peer(client)
    assert peer.post(text_xml("社保卡")).content == b"success"
    Service.objects.filter(pk=housing.pk).update(keywords=["社保卡"], name="社会保障卡申领")
    catalogue.bump(housing.organisation)
    doc = peer.reply(peer.post(text_xml("社保卡", msg_id=2)))
    assert card(doc)["Title"] == "社会保障卡申领"
    assert peer.post(text_xml("公积金", msg_id=3)).content == b"success"


def test_a_county_account_gets_the_citys_services_and_its_own_overrides(
    client: Any,
    county_account: Account,
    city: Organisation,
    county: Organisation,
    housing: Service,
) -> None:
    service(city, "HH-009", "户口迁移", category=Category.HOUSEHOLD, keywords=["户口"])
    service(county, "HH-009", "户口迁移", category=Category.HOUSEHOLD, withdrawn=True)
    county_near = office(county, "C-1", "示例县政务服务中心", 0.001)
    office(city, "O-1", "示例市政务服务中心", 0.2)
    housing.offices.add(county_near)
    peer = Peer(client, appid=county_account.appid)
    doc = peer.reply(peer.post(text_xml("公积金")))
    assert card(doc)["Url"] == catalogue.guide_url(county_account, "HF-001")
    assert county_account.appid in card(doc)["Url"]
    assert peer.post(text_xml("户口", msg_id=2)).content == b"success"  # withdrawn here
    doc = peer.reply(peer.post(location_xml(LAT, LNG, msg_id=3)))
    assert "1. 示例县政务服务中心（110 米）" in doc["Content"]
    assert "2. 示例市政务服务中心（22.2 公里）" in doc["Content"]


def test_an_account_outside_the_matrix_has_no_service_query(client: Any, account: Account) -> None:
    peer = Peer(client)
    assert peer.post(text_xml("查询")).content == b"success"
    assert InboundMessage.objects.get().handled_by == "desk"
    assert peer.post(event_xml("CLICK", key="X")).content == b"success"


def test_a_long_reply_stays_within_wechats_text_limit(
    city_account: Account, city: Organisation
) -> None:
    for i in range(3):
        office(
            city,
            f"O-{i}",
            "很长的网点名称" * 14,
            0.001 * (i + 1),
            address="很长的地址" * 40,
            opening_hours="工作日" * 60,
        )
    index = load_index(city_account, 0)
    reply = index.nearby(LAT, LNG)
    assert reply is not None
    text = reply.data["content"]
    assert len(text.encode()) <= 2048
    assert text.count("（") == 3 and "3. " in text


@pytest.mark.parametrize(
    ("metres", "label"),
    [(3, "10 米"), (845.08, "850 米"), (994, "990 米"), (996, "1.0 公里"), (1200.9, "1.2 公里"),
     (99_940, "99.9 公里"), (123_456, "123 公里")],
)  # fmt: skip
def test_distances_read_in_metres_then_kilometres(metres: float, label: str) -> None:
    assert distance_label(metres) == label


def test_the_index_is_rebuilt_only_when_the_version_changes(
    city_account: Account, housing: Service, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.GOVWX_RULES_TTL = 0
    rt = runtime.get(city_account.appid)
    assert rt is not None and rt.services.answer("公积金") is not None
    with django_assert_num_queries(1):  # the version check
        runtime.get(city_account.appid)


def test_the_longest_keyword_found_wins(
    client: Any, city_account: Account, city: Organisation, housing: Service
) -> None:
    service(city, "HF-002", "住房公积金贷款", keywords=["公积金贷款"], position=5)
    peer = Peer(client)
    doc = peer.reply(peer.post(text_xml("我想办公积金贷款")))
    assert card(doc)["Title"] == "住房公积金贷款"
    doc = peer.reply(peer.post(text_xml("公积金怎么办", msg_id=2)))
    assert card(doc)["Title"] == "住房公积金提取"


def test_a_name_with_markup_cannot_break_the_offices_link(
    client: Any, city_account: Account, city: Organisation
) -> None:
    office(city, "O-1", '中心</a><a href="http://x.example/">"东区" & 西区', 0.001)
    peer = Peer(client)
    doc = peer.reply(peer.post(location_xml(LAT, LNG)))
    page = catalogue.office_url(city_account, "O-1")
    hub = catalogue.hub_url(city_account)
    assert doc["Content"] == (
        "离您最近的办事网点：\n\n"
        '1. 中心＜/a＞＜a href="http://x.example/"＞"东区" & 西区（110 米）\n'
        '地址：中心＜/a＞＜a href="http://x.example/"＞"东区" & 西区地址\n'
        f'<a href="{page}">查看网点详情</a>\n\n'
        f'<a href="{hub}">查看全部服务 →</a>'
    )
    assert doc["Content"].count("<a ") == 2


def test_a_url_with_a_quote_or_an_ampersand_stays_one_attribute() -> None:
    o = OfficePoint(
        "O-1", "网点<b>", "地址", "", "", 0.0, 0.0, 1.0, 'https://a.example/?x=1&y="2"> <b', "办事"
    )
    text = nearby_text([(100.0, o)], "https://hub.example/?a=1&b=2")
    assert text == (
        "离您最近的办事网点：\n\n1. 网点＜b＞（100 米）\n地址：地址\n"
        '<a href="https://a.example/?x=1&y=%222%22%3E%20%3Cb">办事</a>\n\n'
        '<a href="https://hub.example/?a=1&b=2">查看全部服务 →</a>'
    )
