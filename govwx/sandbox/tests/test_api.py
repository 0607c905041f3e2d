"""WeChat's API as the sandbox serves it: tokens, menu, customer-service messages, users."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from govwx.sandbox.models import AccessToken, Account, Entry, Follower

from .conftest import SECRET
from .peer import APPID

pytestmark = pytest.mark.django_db
BASE = "/sandbox/cgi-bin/"


def get(client: Client, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(BASE + path, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def post(client: Client, path: str, body: Any, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    response = client.post(f"{BASE}{path}?{query}", raw, content_type="application/json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    return get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)[
        "access_token"
    ]


# ------------------------------------------------------------------ tokens


def test_it_issues_a_token(client: Client, sandbox_account: Account) -> None:
    data = get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)
    assert data["expires_in"] == 7200
    assert len(data["access_token"]) >= 100
    assert AccessToken.objects.get().token == data["access_token"]


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wxnope", "secret": SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": APPID, "secret": "wrong"}, 40001),
        ({"grant_type": "password", "appid": APPID, "secret": SECRET}, 40002),
        ({"grant_type": "client_credential", "secret": SECRET}, 41002),
        ({"grant_type": "client_credential", "appid": APPID}, 41004),
    ],
)
def test_it_refuses_bad_token_requests(
    client: Client, sandbox_account: Account, params: dict[str, str], errcode: int
) -> None:
    assert get(client, "token", **params)["errcode"] == errcode
    assert not AccessToken.objects.exists()


def test_a_new_ordinary_token_leaves_the_old_one_five_minutes(
    client: Client, sandbox_account: Account
) -> None:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = get(client, "token", **params)["access_token"]
        second = get(client, "token", **params)["access_token"]
        assert first != second
        clock.shift(299)
        assert get(client, "menu/get", access_token=first)["errcode"] == 46003
        clock.shift(2)
        assert get(client, "menu/get", access_token=first)["errcode"] == 40001
        assert get(client, "menu/get", access_token=second)["errcode"] == 46003


def test_a_token_expires_after_7200_seconds(client: Client, token: str) -> None:
    with time_machine.travel(timezone.now() + timedelta(seconds=7201)):
        assert get(client, "menu/get", access_token=token) == {
            "errcode": 42001,
            "errmsg": "access_token expired",
        }


def test_every_api_checks_the_token(client: Client, token: str) -> None:
    assert get(client, "menu/get")["errcode"] == 41001
    assert get(client, "menu/get", access_token="forged")["errcode"] == 40001
    assert (
        post(client, "message/custom/send", {"touser": "x"}, access_token="forged")["errcode"]
        == 40001
    )
    assert get(client, "user/info", openid="x")["errcode"] == 41001


def test_stable_token_is_stable_until_five_minutes_before_expiry(
    client: Client, sandbox_account: Account
) -> None:
    body = {
        "grant_type": "client_credential",
        "appid": APPID,
        "secret": SECRET,
        "force_refresh": False,
    }
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = post(client, "stable_token", body)
        assert first["expires_in"] == 7200
        clock.shift(1000)
        again = post(client, "stable_token", body)
        assert again == {"access_token": first["access_token"], "expires_in": 6200}
        clock.shift(7200 - 1000 - 300)  # within 300 s of expiry: pre-rotated, both valid
        rotated = post(client, "stable_token", body)
        assert rotated["access_token"] != first["access_token"]
        assert rotated["expires_in"] == 7200
        assert get(client, "menu/get", access_token=first["access_token"])["errcode"] == 46003


def test_stable_token_force_refresh_invalidates_the_current_one(
    client: Client, sandbox_account: Account
) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = post(client, "stable_token", body)["access_token"]
    forced = post(client, "stable_token", {**body, "force_refresh": True})["access_token"]
    assert forced != first
    assert get(client, "menu/get", access_token=first)["errcode"] == 40001
    assert get(client, "menu/get", access_token=forced)["errcode"] == 46003
    # Stable tokens are isolated from ordinary ones.
    ordinary = get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)
    assert get(client, "menu/get", access_token=forced)["errcode"] == 46003
    assert ordinary["access_token"] != forced


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"grant_type": "client_credential", "appid": "wxnope", "secret": SECRET}, 40013),
        ({"grant_type": "client_credential", "appid": APPID, "secret": "wrong"}, 40125),
        (
            {
                "grant_type": "client_credential",
                "appid": APPID,
                "secret": SECRET,
                "force_refresh": "yes",
            },
            40035,
        ),
        (b"{not json", 47001),
        (b"", 44002),
    ],
)
def test_stable_token_refuses_bad_requests(
    client: Client, sandbox_account: Account, body: Any, errcode: int
) -> None:
    assert post(client, "stable_token", body)["errcode"] == errcode
    assert not AccessToken.objects.exists()


def test_stable_token_requires_post(client: Client, sandbox_account: Account) -> None:
    assert get(client, "stable_token")["errcode"] == 43002


# ------------------------------------------------------------------ menu

MENU = {
    "button": [
        {"type": "click", "name": "今日办事", "key": "TODAY"},
        {
            "name": "服务",
            "sub_button": [
                {"type": "view", "name": "社保查询", "url": "https://example.gov.cn/sb"},
                {
                    "type": "miniprogram",
                    "name": "小程序",
                    "url": "https://example.gov.cn",
                    "appid": "wxmini",
                    "pagepath": "pages/index",
                },
                {"type": "scancode_push", "name": "扫一扫", "key": "SCAN"},
                {"type": "media_id", "name": "图片", "media_id": "MEDIA"},
                {"type": "article_id", "name": "文章", "article_id": "ART"},
            ],
        },
        {"type": "location_select", "name": "附近", "key": "LOC"},
    ]
}


def test_it_creates_gets_and_deletes_a_menu(
    client: Client, token: str, sandbox_account: Account
) -> None:
    assert get(client, "menu/get", access_token=token) == {
        "errcode": 46003,
        "errmsg": "menu no exist",
    }
    assert post(client, "menu/create", MENU, access_token=token) == {"errcode": 0, "errmsg": "ok"}
    menu = get(client, "menu/get", access_token=token)["menu"]
    assert menu["button"][0] == {
        "type": "click",
        "name": "今日办事",
        "key": "TODAY",
        "sub_button": [],
    }
    assert [b["name"] for b in menu["button"][1]["sub_button"]] == [
        "社保查询",
        "小程序",
        "扫一扫",
        "图片",
        "文章",
    ]
    assert get(client, "menu/delete", access_token=token) == {"errcode": 0, "errmsg": "ok"}
    assert get(client, "menu/get", access_token=token)["errcode"] == 46003


def click(name: str = "按钮", **extra: Any) -> dict[str, Any]:
    return {"type": "click", "name": name, "key": "K", **extra}


def sub(*buttons: dict[str, Any], name: str = "更多") -> dict[str, Any]:
    return {"name": name, "sub_button": list(buttons)}


@pytest.mark.parametrize(
    ("menu", "errcode"),
    [
        ({"button": []}, 40016),
        ({"button": [click(), click(), click(), click()]}, 40016),
        ({}, 40016),
        ({"button": [click("一二三四五六")]}, 40018),  # 18 bytes > 16
        ({"button": [click("")]}, 40018),
        ({"button": [{"type": "nonsense", "name": "a", "key": "k"}]}, 40017),
        ({"button": [{"name": "a", "key": "k"}]}, 40017),
        ({"button": [{"type": "click", "name": "a"}]}, 40019),
        ({"button": [{"type": "click", "name": "a", "key": "k" * 129}]}, 40019),
        ({"button": [sub(*[click()] * 6)]}, 40023),
        ({"button": [sub(click("一二三四五六七八九十一二三四五六七八九十一"))]}, 40025),  # 63 bytes
        ({"button": [sub({"type": "bad", "name": "a"})]}, 40024),
        ({"button": [sub({"type": "click", "name": "a"})]}, 40026),
        ({"button": [sub({"type": "view", "name": "a"})]}, 40027),
        ({"button": [sub({"type": "view", "name": "a", "url": "https://x/" + "a" * 1020})]}, 40027),
        ({"button": [sub({"type": "view", "name": "a", "url": "ftp://example.com"})]}, 40054),
        ({"button": [{"type": "view", "name": "a", "url": "javascript:alert(1)"}]}, 40055),
        ({"button": [{"type": "miniprogram", "name": "a", "url": "https://x.cn"}]}, 40035),
        ({"button": [{"type": "media_id", "name": "a"}]}, 40007),
        ({"button": [sub(click(), name="一二三四五六")]}, 40018),
        ([1, 2], 47001),
    ],
)
def test_it_validates_menus_like_wechat(
    client: Client, token: str, sandbox_account: Account, menu: Any, errcode: int
) -> None:
    assert post(client, "menu/create", MENU, access_token=token)["errcode"] == 0
    assert post(client, "menu/create", menu, access_token=token)["errcode"] == errcode
    sandbox_account.refresh_from_db()
    assert sandbox_account.menu["button"][0]["key"] == "TODAY"  # the old menu is untouched


def test_a_sub_button_name_may_use_60_bytes(client: Client, token: str) -> None:
    menu = {"button": [sub(click("一二三四五六七八九十一二三四五六七八九十"))]}  # 60 bytes
    assert post(client, "menu/create", menu, access_token=token)["errcode"] == 0


# ------------------------------------------------------------------ customer-service messages


def text_to(openid: str, content: str = "您好") -> dict[str, Any]:
    return {"touser": openid, "msgtype": "text", "text": {"content": content}}


def test_it_sends_customer_service_messages_in_the_window(
    client: Client, token: str, follower: Follower
) -> None:
    assert (
        post(client, "message/custom/send", text_to(follower.openid), access_token=token)["errcode"]
        == 0
    )
    news = {
        "touser": follower.openid,
        "msgtype": "news",
        "news": {
            "articles": [
                {
                    "title": "办事指南",
                    "description": "d",
                    "url": "https://x.cn/a",
                    "picurl": "https://x.cn/p.png",
                }
            ]
        },
    }
    assert post(client, "message/custom/send", news, access_token=token)["errcode"] == 0
    entries = list(
        Entry.objects.filter(kind=Entry.Kind.CUSTOMER_SERVICE).values_list("payload", flat=True)
    )
    assert entries == [
        {"msg_type": "text", "content": "您好"},
        {
            "msg_type": "news",
            "articles": [
                {
                    "title": "办事指南",
                    "description": "d",
                    "url": "https://x.cn/a",
                    "pic_url": "https://x.cn/p.png",
                }
            ],
        },
    ]
    follower.refresh_from_db()
    assert follower.window_sent == 2


def test_the_sixth_message_in_a_window_is_refused(
    client: Client, token: str, follower: Follower
) -> None:
    for _ in range(5):
        assert (
            post(client, "message/custom/send", text_to(follower.openid), access_token=token)[
                "errcode"
            ]
            == 0
        )
    refused = post(client, "message/custom/send", text_to(follower.openid), access_token=token)
    assert refused == {"errcode": 45047, "errmsg": "out of response count limit"}
    assert Entry.objects.filter(kind=Entry.Kind.CUSTOMER_SERVICE).count() == 5


def test_a_new_interaction_resets_the_window(
    client: Client, token: str, follower: Follower
) -> None:
    for _ in range(5):
        post(client, "message/custom/send", text_to(follower.openid), access_token=token)
    response = client.post(
        f"/sandbox/api/accounts/{APPID}/followers/{follower.openid}/messages",
        {"type": "text", "content": "还在吗"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (
        post(client, "message/custom/send", text_to(follower.openid), access_token=token)["errcode"]
        == 0
    )


def test_the_window_closes_after_48_hours(client: Client, follower: Follower) -> None:
    with time_machine.travel(timezone.now() + timedelta(hours=47, minutes=59)):
        token = get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)[
            "access_token"
        ]
        assert (
            post(client, "message/custom/send", text_to(follower.openid), access_token=token)[
                "errcode"
            ]
            == 0
        )
    with time_machine.travel(timezone.now() + timedelta(hours=48, seconds=1)):
        token = get(client, "token", grant_type="client_credential", appid=APPID, secret=SECRET)[
            "access_token"
        ]
        refused = post(client, "message/custom/send", text_to(follower.openid), access_token=token)
        assert refused["errcode"] == 45015


def test_unsubscribed_followers_get_nothing(client: Client, token: str, follower: Follower) -> None:
    client.post(f"/sandbox/api/accounts/{APPID}/followers/{follower.openid}/unfollow")
    assert (
        post(client, "message/custom/send", text_to(follower.openid), access_token=token)["errcode"]
        == 45015
    )
    assert not Entry.objects.filter(kind=Entry.Kind.CUSTOMER_SERVICE).exists()


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        (text_to("oUnknown00000000000000000000"), 40003),
        ({"msgtype": "text", "text": {"content": "x"}}, 40003),
        ({"touser": "oFollower0000000000000000001", "msgtype": "hologram"}, 40008),
        ({"touser": "oFollower0000000000000000001", "msgtype": "text", "text": {}}, 44004),
        ({"touser": "oFollower0000000000000000001", "msgtype": "image", "image": {}}, 40007),
        (
            {
                "touser": "oFollower0000000000000000001",
                "msgtype": "news",
                "news": {"articles": [{}, {}]},
            },
            45008,
        ),
        (b"[", 47001),
    ],
)
def test_it_refuses_bad_custom_messages(
    client: Client, token: str, follower: Follower, body: Any, errcode: int
) -> None:
    assert post(client, "message/custom/send", body, access_token=token)["errcode"] == errcode
    assert not Entry.objects.filter(kind=Entry.Kind.CUSTOMER_SERVICE).exists()
    follower.refresh_from_db()
    assert follower.window_sent == 0


def test_custom_send_requires_post(client: Client, token: str) -> None:
    assert get(client, "message/custom/send", access_token=token)["errcode"] == 43002


# ------------------------------------------------------------------ users


def test_it_answers_user_info(client: Client, token: str, follower: Follower) -> None:
    info = get(client, "user/info", access_token=token, openid=follower.openid, lang="zh_CN")
    assert info["subscribe"] == 1
    assert info["openid"] == follower.openid
    assert info["nickname"] == "小王"
    assert info["subscribe_time"] == int(follower.subscribe_time.timestamp())
    assert info["subscribe_scene"] == "ADD_SCENE_SEARCH"
    assert get(client, "user/info", access_token=token, openid="oNobody")["errcode"] == 40003
    assert get(client, "user/info", access_token=token)["errcode"] == 41009


def test_user_info_of_someone_who_left(client: Client, token: str, follower: Follower) -> None:
    client.post(f"/sandbox/api/accounts/{APPID}/followers/{follower.openid}/unfollow")
    assert get(client, "user/info", access_token=token, openid=follower.openid) == {
        "subscribe": 0,
        "openid": follower.openid,
        "tagid_list": [],
    }


def test_it_lists_followers(
    client: Client, token: str, follower: Follower, sandbox_account: Account
) -> None:
    Follower.objects.create(account=sandbox_account, openid="oNotFollowing", subscribed=False)
    assert get(client, "user/get", access_token=token) == {
        "total": 1,
        "count": 1,
        "next_openid": follower.openid,
        "data": {"openid": [follower.openid]},
    }
