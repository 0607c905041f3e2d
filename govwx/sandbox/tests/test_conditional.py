"""Follower tags and conditional (个性化) menus as the sandbox serves them (§2.4, §2.11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.sandbox.models import Account, ConditionalMenu, Follower, Tag, Tagging

from .peer import APPID
from .test_api import get, post

pytestmark = pytest.mark.django_db
ACCOUNTS = "/sandbox/api/accounts"

DEFAULT = {"button": [{"type": "click", "name": "办事", "key": "DEFAULT"}]}


def menu_of(label: str, url: str = "https://a.example.cn/") -> dict[str, Any]:
    return {"button": [{"type": "view", "name": label, "url": url}]}


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    from .conftest import SECRET

    return str(
        get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)[
            "access_token"
        ]
    )


def new_tag(client: Client, token: str, name: str) -> int:
    answer = post(client, "tags/create", {"tag": {"name": name}}, access_token=token)
    return int(answer["tag"]["id"])


# ------------------------------------------------------------------ tags


def test_tags_are_created_listed_and_applied(
    client: Client, token: str, follower: Follower
) -> None:
    assert post(client, "tags/create", {"tag": {"name": "退休人员"}}, access_token=token) == {
        "tag": {"id": 100, "name": "退休人员"}
    }
    assert new_tag(client, token, "企业") == 101
    body = {"openid_list": [follower.openid], "tagid": 101}
    assert post(client, "tags/members/batchtagging", body, access_token=token) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert get(client, "tags/get", access_token=token) == {
        "tags": [
            {"id": 100, "name": "退休人员", "count": 0},
            {"id": 101, "name": "企业", "count": 1},
        ]
    }
    idlist = post(client, "tags/getidlist", {"openid": follower.openid}, access_token=token)
    assert idlist == {"tagid_list": [101]}
    info = get(client, "user/info", access_token=token, openid=follower.openid)
    assert info["tagid_list"] == [101]


@pytest.mark.parametrize(
    ("name", "errcode"),
    [("", 45158), ("一二三四五六七八九十一", 45158), ("退休人员", 45157)],  # 33 bytes
)
def test_bad_tag_names_are_refused(client: Client, token: str, name: str, errcode: int) -> None:
    new_tag(client, token, "退休人员")
    assert post(client, "tags/create", {"tag": {"name": name}}, access_token=token) == {
        "errcode": errcode,
        "errmsg": {45158: "tag name too long", 45157: "invalid tag name: duplicate"}[errcode],
    }
    assert Tag.objects.count() == 1


def test_the_101st_tag_is_refused(client: Client, token: str, sandbox_account: Account) -> None:
    Tag.objects.bulk_create(
        [Tag(account=sandbox_account, tag_id=100 + i, name=f"t{i}") for i in range(100)]
    )
    answer = post(client, "tags/create", {"tag": {"name": "多一个"}}, access_token=token)
    assert answer["errcode"] == 45056
    assert Tag.objects.count() == 100


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"openid_list": [], "tagid": 100}, 40032),
        ({"openid_list": ["o" * 28] * 51, "tagid": 100}, 40032),
        ({"openid_list": ["FOLLOWER"], "tagid": 999}, 45159),
        ({"openid_list": ["FOLLOWER", "oNobody000000000000000000000"], "tagid": 100}, 40003),
    ],
)
def test_bad_batch_tagging_is_refused_and_tags_nobody(
    client: Client, token: str, follower: Follower, body: dict[str, Any], errcode: int
) -> None:
    new_tag(client, token, "退休人员")
    body = {
        **body,
        "openid_list": [follower.openid if o == "FOLLOWER" else o for o in body["openid_list"]],
    }
    assert post(client, "tags/members/batchtagging", body, access_token=token)["errcode"] == errcode
    assert not Tagging.objects.exists()


def test_a_follower_carries_at_most_20_tags(
    client: Client, token: str, follower: Follower, sandbox_account: Account
) -> None:
    for i in range(21):
        new_tag(client, token, f"标签{i}")
    for tag_id in range(100, 120):
        body = {"openid_list": [follower.openid], "tagid": tag_id}
        assert post(client, "tags/members/batchtagging", body, access_token=token)["errcode"] == 0
    body = {"openid_list": [follower.openid], "tagid": 120}
    assert post(client, "tags/members/batchtagging", body, access_token=token)["errcode"] == 45059
    assert follower.taggings.count() == 20


# ------------------------------------------------------------------ conditional menus


def test_a_conditional_menu_needs_a_default_menu_first(client: Client, token: str) -> None:
    tag = new_tag(client, token, "退休人员")
    body = {**menu_of("退休"), "matchrule": {"tag_id": str(tag)}}
    assert post(client, "menu/addconditional", body, access_token=token) == {
        "errcode": 65303,
        "errmsg": "there is no selfmenu, please create selfmenu first",
    }
    assert not ConditionalMenu.objects.exists()


@pytest.mark.parametrize(
    ("matchrule", "errcode"),
    [
        ({"tag_id": "100", "sex": "1"}, 65320),
        ({"country": "中国"}, 65320),
        ({"province": "广东"}, 65320),
        ({"city": "广州"}, 65320),
        ({"language": "zh_CN"}, 65320),
        ({"tag_id": "555"}, 45159),
        ({"tag_id": "abc"}, 45159),
        ({}, 65304),
        (None, 65304),
        ({"client_platform_type": "9"}, 40035),
    ],
)
def test_bad_match_rules_are_refused(
    client: Client, token: str, matchrule: Any, errcode: int
) -> None:
    new_tag(client, token, "退休人员")
    assert post(client, "menu/create", DEFAULT, access_token=token)["errcode"] == 0
    body = {**menu_of("退休"), "matchrule": matchrule}
    assert post(client, "menu/addconditional", body, access_token=token)["errcode"] == errcode
    assert not ConditionalMenu.objects.exists()


def test_a_conditional_menu_obeys_the_menu_rules(client: Client, token: str) -> None:
    tag = new_tag(client, token, "退休人员")
    post(client, "menu/create", DEFAULT, access_token=token)
    body = {
        "button": [{"type": "click", "name": "一二三四五六", "key": "K"}],
        "matchrule": {"tag_id": str(tag)},
    }
    assert post(client, "menu/addconditional", body, access_token=token)["errcode"] == 40018
    body = {"button": [], "matchrule": {"tag_id": str(tag)}}
    assert post(client, "menu/addconditional", body, access_token=token)["errcode"] == 65307


def test_conditional_menus_link_to_three_domains_at_most(client: Client, token: str) -> None:
    tag = new_tag(client, token, "退休人员")
    post(client, "menu/create", DEFAULT, access_token=token)
    for host in ("a", "b", "c"):
        body = {**menu_of(host, f"https://{host}.example.cn/x"), "matchrule": {"tag_id": str(tag)}}
        assert "menuid" in post(client, "menu/addconditional", body, access_token=token)
    body = {**menu_of("d", "https://d.example.cn/"), "matchrule": {"tag_id": str(tag)}}
    assert post(client, "menu/addconditional", body, access_token=token)["errcode"] == 65316
    assert ConditionalMenu.objects.count() == 3


def test_the_follower_sees_the_newest_matching_menu(
    client: Client, token: str, follower: Follower, sandbox_account: Account
) -> None:
    retired, business = new_tag(client, token, "退休人员"), new_tag(client, token, "企业")
    post(client, "menu/create", DEFAULT, access_token=token)
    first = post(
        client,
        "menu/addconditional",
        {**menu_of("退休"), "matchrule": {"tag_id": str(retired)}},
        access_token=token,
    )["menuid"]
    second = post(
        client,
        "menu/addconditional",
        {**menu_of("企业"), "matchrule": {"tag_id": str(business)}},
        access_token=token,
    )["menuid"]
    seen = f"{ACCOUNTS}/{APPID}/menu?openid={follower.openid}"
    assert client.get(seen).json()["menuid"] == ""  # no tag yet: the default menu
    assert client.get(seen).json()["menu"]["button"][0]["key"] == "DEFAULT"

    tagged = client.post(
        f"{ACCOUNTS}/{APPID}/followers/{follower.openid}/tags",
        {"tag_id": retired},
        content_type="application/json",
    )
    assert tagged.json() == {"tags": [{"id": retired, "name": "退休人员"}]}
    answer = client.get(seen).json()
    assert answer["menuid"] == first
    assert answer["menu"]["button"][0]["name"] == "退休"
    tried = post(client, "menu/trymatch", {"user_id": follower.openid}, access_token=token)
    assert tried["menu"]["button"][0]["name"] == "退休"

    # Several tags: the one applied last decides.
    client.post(
        f"{ACCOUNTS}/{APPID}/followers/{follower.openid}/tags",
        {"name": "企业"},
        content_type="application/json",
    )
    assert client.get(seen).json()["menuid"] == second

    menus = get(client, "menu/get", access_token=token)
    assert [m["menuid"] for m in menus["conditionalmenu"]] == [int(second), int(first)]
    assert menus["conditionalmenu"][0]["matchrule"] == {"tag_id": str(business)}

    ok = post(client, "menu/delconditional", {"menuid": second}, access_token=token)
    assert ok == {"errcode": 0, "errmsg": "ok"}
    assert client.get(seen).json()["menuid"] == ""  # tag 企业 is newest, its menu gone
    gone = post(client, "menu/delconditional", {"menuid": second}, access_token=token)
    assert gone["errcode"] == 65301
    assert (
        post(client, "menu/trymatch", {"user_id": "nobody"}, access_token=token)["errcode"] == 65302
    )

    assert get(client, "menu/delete", access_token=token)["errcode"] == 0
    assert not ConditionalMenu.objects.exists()  # deleting the default deletes them all
    assert client.get(seen).json() == {"menu": None, "menuid": ""}


def test_the_driver_tags_followers(client: Client, follower: Follower) -> None:
    base = f"{ACCOUNTS}/{APPID}"
    created = client.post(f"{base}/tags", {"name": "退休人员"}, content_type="application/json")
    assert created.status_code == 201
    assert created.json() == {"id": 100, "name": "退休人员"}
    again = client.post(f"{base}/tags", {"name": "退休人员"}, content_type="application/json")
    assert again.status_code == 400
    assert again.json() == {"error": "45157 invalid tag name: duplicate"}
    url = f"{base}/followers/{follower.openid}/tags"
    assert client.post(url, {"tag_id": 404}, content_type="application/json").json() == {
        "error": "45159 invalid tag id"
    }
    assert client.post(url, {}, content_type="application/json").status_code == 400
    assert client.post(url, {"tag_id": 100}, content_type="application/json").json() == {
        "tags": [{"id": 100, "name": "退休人员"}]
    }
    assert client.get(url).json() == {"tags": [{"id": 100, "name": "退休人员"}]}
    assert client.get(f"{base}/tags").json() == {
        "tags": [{"id": 100, "name": "退休人员", "count": 1}]
    }
    assert client.get(f"{base}/menu?openid=oNobody").status_code == 404
