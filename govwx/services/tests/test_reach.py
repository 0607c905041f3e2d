"""Two taps: the taps from the chat screen to each service's guide and online entry, on
menus of several shapes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, Organisation
from govwx.replies.services import ReplyInput, set_trigger_replies
from govwx.services import catalogue
from govwx.services.models import MenuVersion, Service
from govwx.services.reach import Reach, normalise, reach, report

pytestmark = pytest.mark.django_db

QUERY_URL = "https://gjj.example.gov.cn/query"


@pytest.fixture
def services(city: Organisation, city_account: Account) -> list[Service]:
    return [
        Service.objects.create(
            organisation=city,
            code="HF01",
            name="公积金查询",
            category="housing",
            online_url=QUERY_URL,
            position=1,
        ),
        Service.objects.create(
            organisation=city, code="HF02", name="公积金提取", category="housing", position=2
        ),
        Service.objects.create(
            organisation=city,
            code="SS01",
            name="社保卡补办",
            category="social_security",
            miniprogram_appid="wxcard000000000001",
            miniprogram_path="pages/card/index",
            online_url="https://card.example.gov.cn/",
            position=3,
        ),
    ]


def view(name: str, url: str) -> dict[str, Any]:
    return {"type": "view", "name": name, "url": url}


def sub(name: str, *buttons: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "sub_button": list(buttons)}


def taps(found: dict[str, Reach]) -> dict[str, tuple[int | None, int | None]]:
    return {code: (r.guide_taps, r.online_taps) for code, r in found.items()}


def test_the_hub_at_the_top_level_is_one_tap_so_guides_are_two_and_online_entries_three(
    city_account: Account, services: list[Service]
) -> None:
    menu = {"button": [view("服务大厅", catalogue.hub_url(city_account))]}
    found = reach(city_account, menu)
    assert taps(found) == {"HF01": (2, 3), "HF02": (2, None), "SS01": (2, 3)}
    assert found["HF02"].guide_path == ("服务大厅", "公积金提取")
    assert found["HF01"].online_path == ("服务大厅", "公积金查询", "在线办理")
    assert [r.taps for r in found.values()] == [2, 2, 2]
    assert not any(r.over_limit or r.unreachable for r in found.values())


def test_the_hub_in_a_sub_menu_takes_a_tap_more_and_every_service_is_over_two(
    city_account: Account, services: list[Service]
) -> None:
    menu = {
        "button": [
            {"type": "click", "name": "最新通知", "key": "NEWS"},
            sub("办事服务", {"type": "click", "name": "热线", "key": "HOT"},
                view("服务大厅", catalogue.hub_url(city_account))),
        ]
    }  # fmt: skip
    found = reach(city_account, menu)
    assert taps(found) == {"HF01": (3, 4), "HF02": (3, None), "SS01": (3, 4)}
    assert found["HF02"].guide_path == ("办事服务", "服务大厅", "公积金提取")
    assert [r.code for r in found.values() if r.over_limit] == ["HF01", "HF02", "SS01"]


def test_a_service_directly_in_the_menu_is_one_tap_to_its_online_entry(
    city_account: Account, services: list[Service]
) -> None:
    menu = {
        "button": [
            view("公积金查询", QUERY_URL),
            sub(
                "办事服务",
                {
                    "type": "miniprogram",
                    "name": "社保卡补办",
                    "url": "https://card.example.gov.cn/fallback",
                    "appid": "wxcard000000000001",
                    "pagepath": "/pages/card/index",
                },
                view("公积金提取", catalogue.guide_url(city_account, "HF02")),
            ),
        ]
    }
    found = reach(city_account, menu)
    # the online entry does not lead back to the guide
    assert taps(found) == {"HF01": (None, 1), "HF02": (2, None), "SS01": (None, 2)}
    assert found["HF01"].online_path == ("公积金查询",)
    assert found["SS01"].online_path == ("办事服务", "社保卡补办")
    assert found["HF02"].guide_path == ("办事服务", "公积金提取")
    assert [r.taps for r in found.values()] == [1, 2, 2]


def test_a_category_page_in_a_sub_menu_is_three_taps_to_its_guides_and_others_unreachable(
    city_account: Account, services: list[Service]
) -> None:
    menu = {
        "button": [
            sub("办事服务", view("住房公积金", catalogue.category_url(city_account, "housing")))
        ]
    }
    result = report_for(city_account, menu).menus[0]
    assert taps(result.services) == {"HF01": (3, 4), "HF02": (3, None), "SS01": (None, None)}
    assert result.services["HF01"].guide_path == ("办事服务", "住房公积金", "公积金查询")
    assert [r.code for r in result.over_limit] == ["HF01", "HF02"]
    assert [r.code for r in result.unreachable] == ["SS01"]


def test_without_a_menu_no_service_is_reached(
    city_account: Account, services: list[Service]
) -> None:
    assert report(city_account).version is None
    assert report(city_account).menus == []
    found = reach(city_account, {})
    assert [r.code for r in found.values() if r.unreachable] == ["HF01", "HF02", "SS01"]


def test_urls_match_with_a_trailing_slash_and_another_case_of_scheme_and_host(
    city_account: Account, services: list[Service]
) -> None:
    hub = catalogue.hub_url(city_account)  # http://127.0.0.1:8000/h/<appid>/
    scheme, rest = hub.split("://", 1)
    host, path = rest.split("/", 1)
    shouted = f"{scheme.upper()}://{host.upper()}/{path.rstrip('/')}#top"
    menu = {
        "button": [
            view("服务大厅", shouted),
            view("查询", QUERY_URL.replace("https://gjj", "HTTPS://GJJ") + "/"),
            view("别处", "https://gjj.example.gov.cn/query/other"),
        ]
    }
    found = reach(city_account, menu)
    assert taps(found) == {"HF01": (2, 1), "HF02": (2, None), "SS01": (2, 3)}
    assert normalise("HTTP://Example.GOV.cn/A/b/?x=1#f") == "http://example.gov.cn/A/b?x=1"
    assert normalise("https://a.cn/p?x=1", query=False) == "https://a.cn/p"


def test_a_click_answered_by_a_news_card_reaches_the_guide_after_two_taps(
    city_account: Account, services: list[Service]
) -> None:
    set_trigger_replies(
        city_account,
        "click",
        [
            ReplyInput(
                "news",
                {
                    "articles": [
                        {
                            "title": "公积金提取指南",
                            "description": "",
                            "pic_url": "",
                            "url": catalogue.guide_url(city_account, "HF02"),
                        }
                    ]
                },
            )
        ],
        click_key="MENU_GJJ",
    )
    menu = {"button": [{"type": "click", "name": "公积金", "key": "MENU_GJJ"}]}
    found = reach(city_account, menu)
    assert taps(found) == {"HF01": (None, None), "HF02": (2, None), "SS01": (None, None)}
    assert found["HF02"].guide_path == ("公积金", "公积金提取指南")


def report_for(account: Account, menu: dict[str, Any], **extra: Any) -> Any:
    MenuVersion.objects.create(
        account=account,
        number=MenuVersion.objects.filter(account=account).count() + 1,
        status=MenuVersion.Status.PUBLISHED,
        compiled={"menu": menu, **extra},
    )
    return report(account)


def test_a_conditional_menu_is_computed_beside_the_default_one(
    city_account: Account, services: list[Service]
) -> None:
    hub = catalogue.hub_url(city_account)
    MenuVersion.objects.create(
        account=city_account,
        number=1,
        status=MenuVersion.Status.PUBLISHED,
        conditional=[{"tag_id": 100, "tag_name": "企业", "button": []}],
        compiled={
            "menu": {"button": [sub("办事", view("服务大厅", hub))]},
            "conditional": [
                {"button": [view("服务大厅", hub)], "matchrule": {"tag_id": "100"}},
                {"button": [view("查询", QUERY_URL)], "matchrule": {"tag_id": "101"}},
            ],
        },
    )
    # a newer draft and an older published version are not what followers see
    MenuVersion.objects.create(account=city_account, number=2, compiled={"menu": {}})
    result = report(city_account)
    assert result.version is not None and result.version.number == 1
    assert [m.label for m in result.menus] == [
        "默认菜单",
        "个性化菜单：企业（标签 100）",
        "个性化菜单：标签 101",
    ]
    assert [taps(m.services)["HF02"] for m in result.menus] == [(3, None), (2, None), (None, None)]
    assert [[r.code for r in m.over_limit] for m in result.menus] == [
        ["HF01", "HF02", "SS01"],
        [],
        [],
    ]
    assert [[r.code for r in m.unreachable] for m in result.menus] == [[], [], ["HF02", "SS01"]]


def test_the_latest_published_version_is_the_current_menu(
    city_account: Account, services: list[Service]
) -> None:
    hub = catalogue.hub_url(city_account)
    report_for(city_account, {"button": [sub("办事", view("服务大厅", hub))]})
    result = report_for(city_account, {"button": [view("服务大厅", hub)]})
    assert result.version.number == 2
    assert taps(result.menus[0].services)["HF02"] == (2, None)


# ------------------------------------------------------------------ the page


def test_the_page_lists_the_services_over_two_taps_and_unreachable_first(
    client: Client, city_account: Account, operator: Any, services: list[Service]
) -> None:
    report_for(
        city_account,
        {"button": [sub("办事服务", view("住房公积金", catalogue.category_url(city_account, "housing")))]},
    )  # fmt: skip
    client.force_login(operator)
    r = client.get(reverse("services:reach"))
    assert r.status_code == 200
    body = r.content.decode()
    assert body.index('id="over-limit"') < body.index('id="unreachable"') < body.index('id="all"')
    over = body[body.index('id="over-limit"') : body.index('id="unreachable"')]
    assert "公积金查询" in over and "公积金提取" in over and "社保卡补办" not in over
    unreachable = body[body.index('id="unreachable"') : body.index('id="all"')]
    assert "社保卡补办" in unreachable and "公积金" not in unreachable
    assert "办事服务 › 住房公积金 › 公积金提取" in body


def test_the_page_says_when_no_menu_is_published(
    client: Client, city_account: Account, operator: Any, services: list[Service]
) -> None:
    client.force_login(operator)
    r = client.get(reverse("services:reach"))
    assert r.status_code == 200
    assert 'id="no-menu"' in r.content.decode()
    assert "还没有发布自定义菜单" in r.content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: Client) -> None:
    r = client.get(reverse("services:reach"))
    assert r.status_code == 302 and r["Location"].startswith("/login/")
