"""The menu builder's rules (reference §2.3, §2.4), compiling to WeChat's JSON, drafts."""

from __future__ import annotations

from typing import Any

import pytest

from govwx.accounts.models import Account, AuditEvent, Organisation
from govwx.services.menu import (
    MenuInvalid,
    compile_menu,
    save_menu_draft,
    validate_conditional,
    validate_tree,
)
from govwx.services.models import Category, MenuVersion, Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def shebao(city: Organisation) -> Service:
    return Service.objects.create(
        organisation=city, code="SB001", name="社保卡补办", category=Category.SOCIAL_SECURITY
    )


def click(name: str = "按钮", key: str = "K") -> dict[str, Any]:
    return {"name": name, "kind": "click", "key": key}


def parent(name: str, *subs: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "sub_button": list(subs)}


def refused(account: Account, tree: Any) -> str:
    with pytest.raises(MenuInvalid) as info:
        validate_tree(account, tree)
    return str(info.value.message)


def test_a_menu_with_four_buttons_is_refused_with_the_rule_named(city_account: Account) -> None:
    tree = {"button": [click("一"), click("二"), click("三"), click("四")]}
    assert refused(city_account, tree) == (
        "一级菜单最多 3 个（第 4 个：「四」） / at most 3 top-level buttons"
    )


def test_an_empty_menu_is_refused(city_account: Account) -> None:
    assert refused(city_account, {"button": []}) == (
        "菜单至少要有 1 个按钮 / a menu needs at least one button"
    )
    assert refused(city_account, {"menu": []}) == "菜单格式不正确 / malformed menu"


def test_six_sub_buttons_are_refused(city_account: Account) -> None:
    tree = {"button": [parent("办事", *[click(f"子{i}") for i in range(6)])]}
    assert refused(city_account, tree) == (
        "「办事」的二级菜单最多 5 个（第 6 个：「办事」 › 「子5」） / at most 5 sub-buttons"
    )


def test_a_parent_without_sub_buttons_is_refused(city_account: Account) -> None:
    assert refused(city_account, {"button": [parent("办事")]}) == (
        "「办事」的二级菜单是空的：请添加子菜单或设置按钮类型 / "
        "「办事」: a parent needs at least one sub-button"
    )


def test_a_third_level_is_refused(city_account: Account) -> None:
    tree = {"button": [parent("办事", parent("更多", click()))]}
    assert refused(city_account, tree) == (
        "「办事」 › 「更多」：菜单最多两级 / 「办事」 › 「更多」: menus have two levels at most"
    )


def test_a_top_name_may_have_16_bytes_not_17(city_account: Account) -> None:
    validate_tree(city_account, {"button": [click("一二三四五a")]})  # 16 bytes
    assert refused(city_account, {"button": [click("一二三四五六")]}) == (
        "菜单名称「一二三四五六」超过 16 字节（一级菜单，现为 18 字节） / "
        "name 「一二三四五六」 over 16 bytes"
    )


def test_a_parent_name_is_held_to_16_bytes(city_account: Account) -> None:
    tree = {"button": [parent("一二三四五六", click())]}
    assert "超过 16 字节" in refused(city_account, tree)


def test_a_sub_name_may_have_60_bytes_not_61(city_account: Account) -> None:
    sixty = "一二三四五六七八九十" * 2  # 60 bytes
    validate_tree(city_account, {"button": [parent("办事", click(sixty))]})
    message = refused(city_account, {"button": [parent("办事", click(sixty + "a"))]})
    assert message == (
        f"菜单名称「办事」 › 「{sixty}a」超过 60 字节（二级菜单，现为 61 字节） / "
        f"name 「办事」 › 「{sixty}a」 over 60 bytes"
    )


def test_a_name_is_required(city_account: Account) -> None:
    assert refused(city_account, {"button": [click(" ")]}) == (
        "「#1」缺少名称 / 「#1」: a name is required"
    )


def test_a_key_may_have_128_bytes_not_129(city_account: Account) -> None:
    validate_tree(city_account, {"button": [click(key="k" * 128)]})
    assert refused(city_account, {"button": [click(key="k" * 129)]}) == (
        "「按钮」的 key 超过 128 字节 / 「按钮」: key over 128 bytes"
    )
    assert refused(city_account, {"button": [click(key="")]}) == (
        "「按钮」缺少 key / 「按钮」: a key is required"
    )
    location = {"name": "附近", "kind": "location_select"}
    assert refused(city_account, {"button": [location]}) == (
        "「附近」缺少 key / 「附近」: a key is required"
    )


def test_duplicate_click_keys_are_allowed_as_wechat_allows_them(city_account: Account) -> None:
    tree = {"button": [click("一", "SAME"), click("二", "SAME")]}
    validate_tree(city_account, tree)  # no MenuInvalid
    # both buttons reach WeChat, each with the shared key
    assert compile_menu(city_account, tree, [])["menu"] == {
        "button": [
            {"type": "click", "name": "一", "key": "SAME"},
            {"type": "click", "name": "二", "key": "SAME"},
        ]
    }
    # and a draft with them is stored, not refused
    version = save_menu_draft(city_account, tree, [], actor=None)
    assert version.tree == tree


def test_a_url_may_have_1024_bytes_and_must_be_http(city_account: Account) -> None:
    base = "https://example.gov.cn/"
    ok = {"name": "网页", "kind": "url", "url": base + "a" * (1024 - len(base))}
    validate_tree(city_account, {"button": [ok]})
    long = {**ok, "url": ok["url"] + "a"}
    assert refused(city_account, {"button": [long]}) == (
        "「网页」的链接超过 1024 字节 / 「网页」: URL over 1024 bytes"
    )
    for bad in ("javascript:alert(1)", "ftp://example.gov.cn/", "https://"):
        assert refused(city_account, {"button": [{**ok, "url": bad}]}) == (
            f"「网页」的链接：网址须以 http:// 或 https:// 开头并含有域名：{bad} / "
            f"URL must be http or https with a host: {bad!r}"
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://[abc/x",
            "「网页」的链接：网址格式不正确：http://[abc/x / malformed URL: 'http://[abc/x'",
        ),
        (
            "http://example.gov.cn:99999/",
            "「网页」的链接：网址格式不正确：http://example.gov.cn:99999/ / "
            "malformed URL: 'http://example.gov.cn:99999/'",
        ),
        (
            "https://example.gov.cn/a b",
            "「网页」的链接：网址不能含空格或控制字符：https://example.gov.cn/a b / "
            "URL must not contain spaces: 'https://example.gov.cn/a b'",
        ),
        (
            "https://example.gov.cn/a\nb",
            "「网页」的链接：网址不能含空格或控制字符：https://example.gov.cn/a\nb / "
            "URL must not contain spaces: 'https://example.gov.cn/a\\nb'",
        ),
        (
            "ftp://example.gov.cn/",
            "「网页」的链接：网址须以 http:// 或 https:// 开头并含有域名：ftp://example.gov.cn/ / "
            "URL must be http or https with a host: 'ftp://example.gov.cn/'",
        ),
        (
            "https:///path",
            "「网页」的链接：网址须以 http:// 或 https:// 开头并含有域名：https:///path / "
            "URL must be http or https with a host: 'https:///path'",
        ),
    ],
    ids=["bracket-host", "bad-port", "space", "newline", "ftp", "no-host"],
)
def test_a_malformed_url_is_refused_with_the_reason_not_a_crash(
    city_account: Account, url: str, message: str
) -> None:
    for tree in (
        {"button": [{"name": "网页", "kind": "url", "url": url}]},
        {
            "button": [
                {
                    "name": "网页",
                    "kind": "miniprogram",
                    "appid": "wx0123456789abcdef",
                    "pagepath": "pages/index",
                    "url": url,
                }
            ]
        },
    ):
        expected = (
            message
            if tree["button"][0]["kind"] == "url"
            else message.replace("的链接：", "的备用网页链接：", 1)
        )
        assert refused(city_account, tree) == expected


def test_a_mini_program_needs_its_appid_page_and_fallback_url(city_account: Account) -> None:
    mp = {
        "name": "小程序",
        "kind": "miniprogram",
        "appid": "wx0123456789abcdef",
        "pagepath": "pages/index",
        "url": "https://example.gov.cn/",
    }
    validate_tree(city_account, {"button": [mp]})
    assert refused(city_account, {"button": [{**mp, "appid": "gh_123"}]}) == (
        "「小程序」的小程序 AppID 应为 wx 加 16 位十六进制字符 / "
        "「小程序」: the mini program AppID must be wx and 16 hex digits"
    )
    assert refused(city_account, {"button": [{**mp, "pagepath": ""}]}) == (
        "「小程序」缺少小程序页面路径 / 「小程序」: a pagepath is required"
    )
    assert refused(city_account, {"button": [{**mp, "url": ""}]}) == (
        "「小程序」缺少备用网页链接 / 「小程序」: a URL is required"
    )


def test_an_unknown_kind_is_refused(city_account: Account) -> None:
    assert refused(city_account, {"button": [{"name": "图片", "kind": "media_id"}]}) == (
        "「图片」的类型「media_id」不受支持 / 「图片」: unknown kind 'media_id' "
        "(allowed: service, hub, category, url, article, click, miniprogram, location_select)"
    )


def test_a_service_must_be_in_the_accounts_catalogue(
    city_account: Account, county_account: Account, county: Organisation, shebao: Service
) -> None:
    item = {"name": "社保卡", "kind": "service", "service": "SB001"}
    validate_tree(city_account, {"button": [item]})
    validate_tree(county_account, {"button": [item]})  # the county inherits the city's
    Service.objects.create(
        organisation=county,
        code="SB001",
        name="社保卡补办",
        category=Category.SOCIAL_SECURITY,
        withdrawn=True,
    )
    assert refused(county_account, {"button": [item]}) == (
        "「社保卡」的服务事项「SB001」不在本公众号的服务目录中 / "
        "「社保卡」: service 'SB001' is not in this account's catalogue"
    )


def test_a_category_and_an_article_need_their_fields(city_account: Account) -> None:
    assert refused(city_account, {"button": [{"name": "类", "kind": "category"}]}) == (
        "「类」的服务类别「None」不存在 / 「类」: unknown category"
    )
    assert refused(city_account, {"button": [{"name": "文", "kind": "article"}]}) == (
        "「文」缺少文章的 article_id / 「文」: an article_id is required"
    )


def conditional(tag_id: Any = 100, **extra: Any) -> dict[str, Any]:
    return {"tag_id": tag_id, "tag_name": "退休人员", "button": [click("退休")], **extra}


def refused_conditional(account: Account, menus: Any) -> str:
    with pytest.raises(MenuInvalid) as info:
        validate_conditional(account, menus)
    return str(info.value.message)


def test_a_conditional_menu_needs_a_tag(city_account: Account) -> None:
    assert refused_conditional(city_account, [conditional(None, tag_name="")]) == (
        "个性化菜单（#1）没有选择粉丝标签 / conditional menu 1: a follower tag is required"
    )
    assert "没有选择粉丝标签" in refused_conditional(city_account, [conditional("100")])


def test_one_conditional_menu_per_tag(city_account: Account) -> None:
    assert refused_conditional(city_account, [conditional(), conditional()]) == (
        "个性化菜单（退休人员）：同一个标签只能有一个个性化菜单 / one conditional menu per tag"
    )


def test_at_most_20_conditional_menus(city_account: Account) -> None:
    validate_conditional(city_account, [conditional(100 + i) for i in range(20)])
    assert refused_conditional(city_account, [conditional(100 + i) for i in range(21)]) == (
        "个性化菜单最多 20 个（现有 21 个） / at most 20 conditional menus"
    )


def test_a_conditional_menu_obeys_the_menu_rules(city_account: Account) -> None:
    menu = conditional(button=[click("一二三四五六")])
    assert refused_conditional(city_account, [menu]) == (
        "菜单名称个性化菜单（退休人员）「一二三四五六」超过 16 字节（一级菜单，现为 18 字节） / "
        "name 个性化菜单（退休人员）「一二三四五六」 over 16 bytes"
    )


def test_conditional_menus_link_to_three_domains_at_most(city_account: Account) -> None:
    def link(i: int, host: str) -> dict[str, Any]:
        item = {"name": "网", "kind": "url", "url": f"https://{host}/"}
        return conditional(100 + i, button=[item])

    validate_conditional(city_account, [link(0, "a.cn"), link(1, "b.cn"), link(2, "c.cn")])
    assert refused_conditional(
        city_account, [link(0, "a.cn"), link(1, "b.cn"), link(2, "c.cn"), link(3, "d.cn")]
    ) == (
        "个性化菜单的链接最多指向 3 个域名（现为 a.cn、b.cn、c.cn、d.cn） / "
        "conditional menus may link to 3 domains at most"
    )


def test_it_compiles_every_kind_to_wechats_json(
    city_account: Account, shebao: Service, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://wx.example.gov.cn"
    appid = city_account.appid
    tree = {
        "button": [
            {"name": "大厅", "kind": "hub"},
            parent(
                "办事",
                {"name": "社保卡", "kind": "service", "service": "SB001"},
                {"name": "社保", "kind": "category", "category": "social_security"},
                {"name": "官网", "kind": "url", "url": " https://www.example.gov.cn/ "},
                {"name": "通知", "kind": "article", "article_id": "ART1"},
                {
                    "name": "小程序",
                    "kind": "miniprogram",
                    "appid": "wx0123456789abcdef",
                    "pagepath": "pages/index",
                    "url": "https://www.example.gov.cn/",
                },
            ),
            parent(
                "互动",
                click("留言", "LEAVE_MSG"),
                {"name": "附近", "kind": "location_select", "key": "NEAR"},
            ),
        ]
    }
    validate_tree(city_account, tree)
    compiled = compile_menu(city_account, tree, [conditional(101)])
    hub = f"https://wx.example.gov.cn/h/{appid}/"
    assert compiled["menu"]["button"][0] == {"type": "view", "name": "大厅", "url": hub}
    assert compiled["menu"]["button"][1]["sub_button"] == [
        {"type": "view", "name": "社保卡", "url": f"{hub}s/SB001/"},
        {"type": "view", "name": "社保", "url": f"{hub}c/social_security/"},
        {"type": "view", "name": "官网", "url": "https://www.example.gov.cn/"},
        {"type": "article_id", "name": "通知", "article_id": "ART1"},
        {
            "type": "miniprogram",
            "name": "小程序",
            "url": "https://www.example.gov.cn/",
            "appid": "wx0123456789abcdef",
            "pagepath": "pages/index",
        },
    ]
    assert compiled["menu"]["button"][2] == {
        "name": "互动",
        "sub_button": [
            {"type": "click", "name": "留言", "key": "LEAVE_MSG"},
            {"type": "location_select", "name": "附近", "key": "NEAR"},
        ],
    }
    assert compiled["conditional"] == [
        {"button": [{"type": "click", "name": "退休", "key": "K"}], "matchrule": {"tag_id": "101"}}
    ]


# ------------------------------------------------------------------ drafts


def test_a_draft_is_saved_and_saved_again_in_place(city_account: Account, operator: Any) -> None:
    tree = {"button": [click("办事")]}
    first = save_menu_draft(city_account, tree, [], actor=operator, note="初稿")
    assert (first.number, first.status, first.tree, first.created_by) == (
        1,
        MenuVersion.Status.DRAFT,
        tree,
        operator,
    )
    again = save_menu_draft(city_account, {"button": [click("办事2")]}, [], actor=operator)
    assert again.pk == first.pk
    assert MenuVersion.objects.get().tree == {"button": [click("办事2")]}
    assert list(AuditEvent.objects.filter(name="menu.saved").values_list("data", flat=True)) == [
        {"version": 1, "conditional": 0},
        {"version": 1, "conditional": 0},
    ]


def test_an_invalid_draft_stores_nothing(city_account: Account, operator: Any) -> None:
    with pytest.raises(MenuInvalid):
        save_menu_draft(city_account, {"button": [click("一二三四五六")]}, [], actor=operator)
    with pytest.raises(MenuInvalid):
        save_menu_draft(city_account, {"button": [click()]}, [conditional(None)], actor=operator)
    assert not MenuVersion.objects.exists()
    assert not AuditEvent.objects.filter(name__startswith="menu.").exists()


def test_a_reviewer_may_not_save_a_draft(city_account: Account, django_user_model: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from govwx.accounts.models import Membership
    from govwx.accounts.services import add_member

    reviewer = django_user_model.objects.create_user("reviewer")
    add_member(city_account, reviewer, Membership.Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        save_menu_draft(city_account, {"button": [click()]}, [], actor=reviewer)
    assert not MenuVersion.objects.exists()
