"""The citizens' H5 pages: the hub, a category, a guide and the search show exactly the
account's merged catalogue; unknown accounts, categories and codes are 404; a fixed
number of queries; framed by the same origin only."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, Department, Organisation
from govwx.services import catalogue
from govwx.services.catalogue_writes import (
    OfficeInput,
    ServiceInput,
    create_office,
    create_service,
    override_service,
    update_office,
    withdraw_service,
)
from govwx.services.models import Service

pytestmark = pytest.mark.django_db

SB = ServiceInput(
    code="SB001",
    name="城乡居民养老保险参保登记",
    category="social_security",
    summary="未参加职工养老保险的城乡居民参保",
    eligibility="年满 16 周岁的城乡居民",
    materials=["居民身份证", "户口簿"],
    steps=["提交申请", "窗口受理", "办结"],
    fees="不收费",
    time_limit="5 个工作日",
    online_url="https://zwfw.example.gov.cn/sb001",
    keywords=["养老保险", "参保"],
    office_codes=["HALL"],
)


@pytest.fixture
def matrix(
    city: Organisation, county: Organisation, hrss: Department, county_account: Account
) -> dict[str, Any]:
    hall = create_office(
        OfficeInput("HALL", "市民中心", "人民路 1 号", "工作日 9:00-17:00", "0571-8765 4321", 30.274084, 120.15507),
        organisation=city,
    )  # fmt: skip
    create_office(OfficeInput("GONE", "已撤的网点", "旧路 9 号"), organisation=city)
    sb = create_service(replace(SB, department_id=hrss.pk, office_codes=["HALL", "GONE"]), organisation=city)  # fmt: skip
    gjj = create_service(
        ServiceInput(code="GJJ01", name="住房公积金提取", category="housing", keywords=["公积金"],
                     summary="购房、租房提取", position=-1),
        organisation=city,
    )  # fmt: skip
    create_service(
        ServiceInput(code="ETC01", name="ETC 办理", category="transport", keywords=["高速"],
                     online_url="https://etc.example.gov.cn/apply",
                     miniprogram_appid="wx0123456789abcdef", miniprogram_path="pages/etc/index"),
        organisation=city,
    )  # fmt: skip
    hidden = create_service(
        ServiceInput(code="HID01", name="县里不办的事项", category="housing"), organisation=city
    )
    withdraw_service(hidden, organisation=county)
    gone = Service.objects.get(code="SB001").offices.get(code="GONE")
    from govwx.services.catalogue_writes import withdraw_office

    withdraw_office(gone, organisation=county)
    override_service(
        gjj,
        ServiceInput(code="GJJ01", name="县住房公积金提取", category="housing", keywords=["公积金"], position=-1),
        organisation=county,
    )  # fmt: skip
    # The county shows its own version of the city's hall.
    update_office(hall, OfficeInput.of(hall))
    create_office(
        replace(OfficeInput.of(hall), opening_hours="工作日 8:30-17:30"), organisation=county
    )
    return {"account": county_account, "sb": sb}


def get(url: str, data: dict[str, str] | None = None) -> Any:
    return Client().get(url, data)


def groups(html: str) -> list[tuple[str, list[str]]]:
    found = re.findall(r'<section class="group" id="c-(\w+)">(.*?)</section>', html, re.S)
    return [(c, re.findall(r'<span class="name">(.*?)</span>', body)) for c, body in found]


def test_the_hub_lists_every_category_with_its_services_and_links_one_tap_to_guides(
    matrix: dict[str, Any],
) -> None:
    a = matrix["account"]
    r = get(reverse("hub:hub", kwargs={"appid": a.appid}))
    html = r.content.decode()
    assert r.status_code == 200
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert '<a class="bar-title" href="/h/wx0000000000000c01/">示例县发布</a>' in html
    assert groups(html) == [
        ("social_security", ["城乡居民养老保险参保登记"]),
        ("housing", ["县住房公积金提取"]),
        ("transport", ["ETC 办理"]),
    ]
    assert f'href="/h/{a.appid}/s/SB001/"' in html
    assert (
        f'<h2><a href="/h/{a.appid}/c/housing/">住房公积金 <span class="count">1</span></a></h2>'
        in html
    )
    assert f'action="/h/{a.appid}/search/"' in html
    assert "县里不办的事项" not in html
    assert '<html lang="zh-CN">' in html


def test_the_hub_takes_the_same_number_of_queries_however_many_services(
    matrix: dict[str, Any], city: Organisation, django_assert_num_queries: Any
) -> None:
    url = reverse("hub:hub", kwargs={"appid": matrix["account"].appid})
    # account, the organisation's two ancestors, the services, their offices
    with django_assert_num_queries(5):
        get(url)
    for i in range(12):
        create_service(
            ServiceInput(code=f"X{i:02}", name=f"事项{i}", category="tax", office_codes=["HALL"]),
            organisation=city,
        )
    with django_assert_num_queries(5):
        r = get(url)
    assert len(dict(groups(r.content.decode()))["tax"]) == 12


def test_a_category_page_lists_only_its_services(matrix: dict[str, Any]) -> None:
    a = matrix["account"]
    html = get(
        reverse("hub:category", kwargs={"appid": a.appid, "category": "housing"})
    ).content.decode()
    assert re.findall(r'<span class="name">(.*?)</span>', html) == ["县住房公积金提取"]
    assert '<h1 class="hero">住房公积金</h1>' in html
    empty = get(reverse("hub:category", kwargs={"appid": a.appid, "category": "tax"}))
    assert empty.status_code == 200 and "该类别暂无服务事项。" in empty.content.decode()


def test_the_guide_shows_the_whole_guide(
    matrix: dict[str, Any], django_assert_num_queries: Any
) -> None:
    a = matrix["account"]
    url = reverse("hub:guide", kwargs={"appid": a.appid, "code": "SB001"})
    with django_assert_num_queries(6):  # account, 2 ancestors, services, their offices, offices
        r = get(url)
    html = r.content.decode()
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert '<h1 class="hero">城乡居民养老保险参保登记</h1>' in html
    assert (
        '<a class="go" id="online" href="https://zwfw.example.gov.cn/sb001" rel="noopener">在线办理</a>'
        in html
    )
    assert '<p id="eligibility">年满 16 周岁的城乡居民</p>' in html
    assert '<ul class="items" id="materials"><li>居民身份证</li><li>户口簿</li></ul>' in html
    assert (
        '<ol class="steps" id="steps"><li>提交申请</li><li>窗口受理</li><li>办结</li></ol>' in html
    )
    assert '<dd id="fees">不收费</dd>' in html
    assert '<dd id="time-limit">5 个工作日</dd>' in html
    assert '<dd id="department">市人力资源和社会保障局</dd>' in html
    offices = re.findall(r'<div class="office">(.*?)</div>', html, re.S)
    assert len(offices) == 1  # the withdrawn office is not shown
    office = offices[0]
    assert (
        f'<h3><a href="/h/{a.appid}/o/HALL/">市民中心</a></h3>' in office
        and '<p class="addr">人民路 1 号</p>' in office
    )
    assert "办公时间：工作日 8:30-17:30" in office  # the county's own version of the hall
    assert '<a class="act" href="tel:057187654321">电话 0571-8765 4321</a>' in office
    assert (
        '<a class="act" href="geo:30.274084,120.15507?q=30.274084,120.15507'
        '(%E5%B8%82%E6%B0%91%E4%B8%AD%E5%BF%83)">地图导航</a>'
    ) in office
    assert "mp-note" not in html


def test_a_mini_program_guide_opens_its_fallback_page_with_a_note(matrix: dict[str, Any]) -> None:
    a = matrix["account"]
    html = get(reverse("hub:guide", kwargs={"appid": a.appid, "code": "ETC01"})).content.decode()
    assert 'id="online" href="https://etc.example.gov.cn/apply"' in html
    assert '<p class="note" id="mp-note">本事项可在微信小程序中办理' in html


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("hub:hub", {"appid": "wx9999999999999999"}),
        ("hub:guide", {"appid": "wx0000000000000c01", "code": "NOPE"}),
        ("hub:guide", {"appid": "wx0000000000000c01", "code": "HID01"}),  # withdrawn here
        ("hub:category", {"appid": "wx0000000000000c01", "category": "weather"}),
        ("hub:search", {"appid": "wx9999999999999999"}),
    ],
)
def test_unknown_accounts_codes_and_categories_are_404(
    matrix: dict[str, Any], name: str, kwargs: dict[str, str]
) -> None:
    assert get(reverse(name, kwargs=kwargs)).status_code == 404


def test_an_inactive_accounts_hub_is_404(matrix: dict[str, Any]) -> None:
    a = matrix["account"]
    Account.objects.filter(pk=a.pk).update(is_active=False)
    assert get(reverse("hub:hub", kwargs={"appid": a.appid})).status_code == 404


def test_the_city_hub_still_shows_what_the_county_withdrew(
    matrix: dict[str, Any], city_account: Account
) -> None:
    html = get(
        catalogue.hub_url(city_account).removeprefix("http://127.0.0.1:8000")
    ).content.decode()
    assert dict(groups(html))["housing"] == ["住房公积金提取", "县里不办的事项"]


def search(a: Account, q: str) -> list[str]:
    r = get(reverse("hub:search", kwargs={"appid": a.appid}), {"q": q})
    assert r.status_code == 200 and r["X-Frame-Options"] == "SAMEORIGIN"
    return re.findall(r'<span class="name">(.*?)</span>', r.content.decode())


def test_the_search_finds_by_keyword_name_and_summary(matrix: dict[str, Any]) -> None:
    a = matrix["account"]
    assert search(a, "参保") == ["城乡居民养老保险参保登记"]  # keyword
    assert search(a, "高速") == ["ETC 办理"]  # keyword only
    assert search(a, "etc") == ["ETC 办理"]  # name, any case
    assert search(a, "租房") == []  # the city's summary; the county's override has none
    assert search(a, "城乡居民") == ["城乡居民养老保险参保登记"]  # name and summary
    assert search(a, "县里不办") == []  # withdrawn here
    assert search(a, "") == []


def test_an_exact_keyword_comes_before_a_name_match(
    matrix: dict[str, Any], county: Organisation
) -> None:
    create_service(
        ServiceInput(code="A0", name="公积金贷款", category="housing", position=-5),
        organisation=county,
    )
    assert search(matrix["account"], "公积金") == ["县住房公积金提取", "公积金贷款"]


def test_no_result_says_so(matrix: dict[str, Any]) -> None:
    r = get(reverse("hub:search", kwargs={"appid": matrix["account"].appid}), {"q": "火星移民"})
    html = r.content.decode()
    assert '<p class="meta" id="result-count">找到 0 个事项</p>' in html
    assert "没有找到相关事项，换个说法试试。" in html


def test_english_through_the_language_cookie(matrix: dict[str, Any]) -> None:
    c = Client()
    c.cookies["django_language"] = "en"
    html = c.get(reverse("hub:hub", kwargs={"appid": matrix["account"].appid})).content.decode()
    assert '<html lang="en">' in html
    assert '<button name="language" value="zh-hans">中文</button>' in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_one_tap_on_the_hub_opens_a_guide(
    matrix: dict[str, Any], live_server: Any, page: Any
) -> None:
    from playwright.sync_api import expect

    a = matrix["account"]
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto(live_server.url + reverse("hub:hub", kwargs={"appid": a.appid}))
    expect(page.locator(".bar-title")).to_have_text("示例县发布")
    # nothing sideways: the page is as wide as the phone
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    page.screenshot(path="/tmp/h5-hub.png", full_page=True)
    page.get_by_role("link", name=re.compile("城乡居民养老保险参保登记")).click()
    expect(page.locator("h1")).to_have_text("城乡居民养老保险参保登记")
    expect(page.locator("#steps li")).to_have_text(["提交申请", "窗口受理", "办结"])
    button = page.locator("#online")
    expect(button).to_have_text("在线办理")
    box = button.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] >= 44  # a thumb's target
    assert page.evaluate("document.documentElement.scrollWidth") == 375
    page.screenshot(path="/tmp/h5-guide.png", full_page=True)


def test_a_link_checker_may_ask_with_head_and_nobody_may_post(matrix: dict[str, Any]) -> None:
    url = reverse("hub:hub", kwargs={"appid": matrix["account"].appid})
    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code == 405


def test_an_office_page_shows_where_when_how_to_call_and_what_it_handles(
    matrix: dict[str, Any], django_assert_num_queries: Any
) -> None:
    a = matrix["account"]
    url = reverse("hub:office", kwargs={"appid": a.appid, "code": "HALL"})
    assert url == f"/h/{a.appid}/o/HALL/"
    assert catalogue.office_url(a, "HALL") == "http://127.0.0.1:8000" + url
    with django_assert_num_queries(6):  # account, 2 ancestors, offices, services, their offices
        r = get(url)
    html = r.content.decode()
    assert r["X-Frame-Options"] == "SAMEORIGIN"
    assert '<h1 class="hero">市民中心</h1>' in html
    assert '<p class="addr" id="address">人民路 1 号</p>' in html
    assert '<p class="hours" id="hours">办公时间：工作日 8:30-17:30</p>' in html  # the county's
    assert '<a class="act" id="call" href="tel:057187654321">电话 0571-8765 4321</a>' in html
    assert 'id="map" href="geo:30.274084,120.15507?q=' in html
    assert re.findall(r'<span class="name">(.*?)</span>', html) == ["城乡居民养老保险参保登记"]


def test_an_unknown_or_withdrawn_office_is_404(matrix: dict[str, Any]) -> None:
    a = matrix["account"]
    for code in ("NOPE", "GONE"):
        assert (
            get(reverse("hub:office", kwargs={"appid": a.appid, "code": code})).status_code == 404
        )
