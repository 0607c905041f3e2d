"""The service hub in English once the language switch says so: the catalogue, the menu
builder (its JavaScript strings and choices too), link health, the citizens' hub and a
guide, and the sandbox phone's strings and web stand-in."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, Department, Organisation
from govwx.services.catalogue_writes import OfficeInput, ServiceInput, create_office, create_service

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff0f\uff1a-\uff20]")


@pytest.fixture
def catalogue(city: Organisation, hrss: Department, city_account: Account) -> Account:
    create_office(
        OfficeInput("HALL", "市民中心", "人民路 1 号", "工作日 9:00-17:00", "0571-8765 4321", 30.274084, 120.15507),
        organisation=city,
    )  # fmt: skip
    create_service(
        ServiceInput(
            code="SB001",
            name="城乡居民养老保险参保登记",
            category="social_security",
            department_id=hrss.pk,
            eligibility="年满 16 周岁的城乡居民",
            materials=["居民身份证"],
            steps=["提交申请", "办结"],
            fees="不收费",
            time_limit="5 个工作日",
            online_url="https://zwfw.example.gov.cn/sb001",
            keywords=["养老保险"],
            office_codes=["HALL"],
        ),
        organisation=city,
    )
    return city_account


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def operator_in_english(english: Client, operator: Any, catalogue: Account) -> Client:
    english.force_login(operator)
    return english


def json_block(page: str, element_id: str) -> Any:
    """What the page's script reads from <script id=… type="application/json">."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S
    )
    assert match, element_id
    return json.loads(match.group(1))


def test_the_catalogue_page_is_in_english(operator_in_english: Client) -> None:
    page = operator_in_english.get(reverse("services:catalogue")).content.decode()
    assert '<h1>Service catalogue <small class="muted">示例市</small></h1>' in page
    assert '<h2 class="cat-head" id="cat-social_security">Social security</h2>' in page
    assert (
        "<thead><tr><th>Service code</th><th>Service name</th><th>Responsible department</th>"
        "<th>Keywords</th><th>Source</th>"
    ) in page
    assert '<span class="tag tag-ok">Own</span>' in page
    assert '<span class="muted push-right" id="shown">Showing 1 of 1 services</span>' in page
    assert '<option value="withdrawn">Not offered here</option>' in page


def test_the_menu_builder_and_its_script_strings_are_in_english(
    operator_in_english: Client,
) -> None:
    page = operator_in_english.get(reverse("services:menu")).content.decode()
    assert "<h1>Custom menu</h1>" in page
    assert "No menu has been published from this platform yet." in page
    strings = json_block(page, "menu-strings")
    assert strings["default"] == "Default menu"
    assert strings["r_top_count"] == "At most 3 top-level menus"
    assert strings["r_tag_twice"] == "A tag can have only one conditional menu"
    assert strings["fails"] == "Breaks a WeChat rule"
    # every string the builder shows is English, and none carries an HTML escape
    assert {k: v for k, v in strings.items() if CJK.search(v) or html.unescape(v) != v} == {}
    setup = json_block(page, "menu-setup")
    assert {k["value"]: k["label"] for k in setup["kinds"]} == {
        "service": "Services",
        "hub": "Service hub",
        "category": "Service category",
        "url": "Web link",
        "article": "Published article",
        "click": "Click event (a reply or the desk)",
        "miniprogram": "Mini program",
        "location_select": "Send location",
    }
    assert setup["categories"][0] == {"value": "social_security", "label": "Social security"}
    assert [c["label"] for c in setup["categories"] if CJK.search(c["label"])] == []


def test_link_health_names_where_each_link_is_used_in_english(
    operator_in_english: Client,
) -> None:
    page = operator_in_english.get(reverse("services:links")).content.decode()
    assert "<h1>Link health</h1>" in page
    assert "<td>Service hub home</td>" in page
    assert "<td>Service hub category: Social security</td>" in page
    assert "<td>Service guide: SB001 城乡居民养老保险参保登记</td>" in page
    assert "<td>Online application: SB001 城乡居民养老保险参保登记</td>" in page


def test_the_hub_is_in_english(english: Client, catalogue: Account) -> None:
    page = english.get(reverse("hub:hub", args=[catalogue.appid])).content.decode()
    assert '<html lang="en">' in page
    assert '<h1 class="hero">Government services</h1>' in page
    assert 'placeholder="Search, e.g. social security, provident fund"' in page
    assert (
        f'<h2><a href="{reverse("hub:category", args=[catalogue.appid, "social_security"])}">'
        "Social security "
        '<span class="count">1</span></a></h2>'
    ) in page


def test_a_guide_is_in_english_and_its_content_stays_as_written(
    english: Client, catalogue: Account
) -> None:
    page = english.get(reverse("hub:guide", args=[catalogue.appid, "SB001"])).content.decode()
    assert '<h1 class="hero">城乡居民养老保险参保登记</h1>' in page
    assert (
        '<a class="go" id="online" href="https://zwfw.example.gov.cn/sb001" rel="noopener">'
        "Apply online</a>"
    ) in page
    assert '<dt>Responsible department</dt><dd id="department">市人力资源和社会保障局</dd>' in page
    assert '<dt>Statutory time limit</dt><dd id="time-limit">5 个工作日</dd>' in page
    headings = re.findall(r"<h2>([^<]+)</h2>", page)
    assert headings == ["Who can apply", "Required documents", "Steps", "Where to apply"]
    assert '<a class="act" href="tel:057187654321">Phone 0571-8765 4321</a>' in page
    assert ">Directions</a>" in page


def test_the_sandbox_phone_gives_its_script_english_strings(english: Client) -> None:
    page = english.get(reverse("sandbox:phone")).content.decode()
    strings = json_block(page, "sandbox-strings")
    assert strings["unavailable"] == (
        "This Official Account cannot provide service at the moment. Please try again later."
    )
    assert strings["clicked"] == "Clicked menu: %s"
    assert {k: v for k, v in strings.items() if CJK.search(v)} == {}
    attrs = dict(re.findall(r'data-s-([a-z-]+)="([^"]*)"', page))
    assert attrs == {
        "location-selected": "Sent location: %s",
        "scan-prompt": "Scan result (the content of the QR code)",
        "unsupported": "The sandbox does not support this kind of menu yet: %s",
        "miniprogram": "Mini program %s: the sandbox opens its fallback web page",
        "bad-location": "Enter a latitude (-90 to 90) and a longitude (-180 to 180)",
        "program-opened": "Opened mini program: %s",
    }
    assert 'aria-label="Custom menu"' in page


def test_the_sandbox_web_stand_in_is_in_english(english: Client) -> None:
    page = english.get(reverse("sandbox:web_page", args=["apply/sb001"])).content.decode()
    assert "<header>Government services website (sandbox)</header>" in page
    assert "<h1>Apply online</h1>" in page
