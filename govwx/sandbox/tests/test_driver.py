"""The JSON driver API: registration, followers, conversation, menu, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from govwx.sandbox.models import Account, Entry, Follower

from .conftest import ORIGINAL_ID, SECRET
from .peer import AES_KEY, APPID, TOKEN

pytestmark = pytest.mark.django_db
ACCOUNTS = "/sandbox/api/accounts"
BODY = {
    "name": "示例市发布",
    "appid": APPID,
    "secret": SECRET,
    "token": TOKEN,
    "aes_key": AES_KEY,
    "mode": "safe",
    "callback_url": "http://127.0.0.1:9/wx/",
    "original_id": ORIGINAL_ID,
}


def post(client: Client, path: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes | str) else None
    if raw is not None:
        return client.post(path, raw, content_type="application/json")
    return client.post(path, body, content_type="application/json")


def test_it_registers_and_updates_an_account_by_appid(client: Client) -> None:
    created = post(client, ACCOUNTS, BODY)
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json; charset=utf-8"
    assert created.json() == {**BODY, "type": "subscription", "verified": True}
    updated = post(
        client, ACCOUNTS, {**BODY, "name": "新名字", "mode": "plaintext", "original_id": ""}
    )
    assert updated.status_code == 200
    account = Account.objects.get()
    assert (account.name, account.mode, account.original_id) == ("新名字", "plaintext", ORIGINAL_ID)
    listed = client.get(ACCOUNTS).json()["accounts"]
    assert [a["appid"] for a in listed] == [APPID]
    assert client.get(f"{ACCOUNTS}/{APPID}").json()["name"] == "新名字"


def test_it_generates_an_original_id(client: Client) -> None:
    post(client, ACCOUNTS, {**BODY, "original_id": ""})
    assert Account.objects.get().original_id.startswith("gh_")
    assert len(Account.objects.get().original_id) == 15


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{oops", "bad JSON"),
        (b"[1]", "the body must be a JSON object"),
        ({**BODY, "name": ""}, "name is required"),
        ({k: v for k, v in BODY.items() if k != "secret"}, "secret is required"),
        ({**BODY, "appid": "wx 1"}, "appid must be 1-32 letters, digits or _"),
        ({**BODY, "token": "t!"}, "token must be 3-32 letters or digits"),
        ({**BODY, "mode": "aes"}, "mode must be one of plaintext, compatible, safe"),
        ({**BODY, "aes_key": "short"}, "aes_key: EncodingAESKey must be 43 letters or digits"),
        ({**BODY, "callback_url": "ftp://x"}, "callback_url must be an http(s) URL"),
        ({**BODY, "original_id": "abc"}, "original_id must look like gh_xxxxxxxxxxxx"),
        ({**BODY, "name": 5}, "name must be a string"),
        ({**BODY, "verify": "yes"}, "verify must be true or false"),
    ],
)
def test_it_refuses_bad_registrations(client: Client, body: Any, error: str) -> None:
    post(client, ACCOUNTS, {**BODY, "name": "原名"})
    response = post(client, ACCOUNTS, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    account = Account.objects.get()
    assert (account.name, account.mode) == ("原名", "safe")  # nothing changed


def test_plaintext_accounts_need_no_key(client: Client) -> None:
    response = post(
        client, ACCOUNTS, {**BODY, "appid": "wxplain", "mode": "plaintext", "aes_key": ""}
    )
    assert response.status_code == 201


def test_it_creates_followers(client: Client, sandbox_account: Account) -> None:
    response = post(client, f"{ACCOUNTS}/{APPID}/followers", {})
    assert response.status_code == 201
    data = response.json()
    assert len(data["openid"]) == 28 and data["openid"].startswith("o")
    assert data["subscribed"] is False
    named = post(
        client, f"{ACCOUNTS}/{APPID}/followers", {"openid": "oNamed123", "nickname": "张三"}
    ).json()
    assert (named["openid"], named["nickname"]) == ("oNamed123", "张三")
    duplicate = post(client, f"{ACCOUNTS}/{APPID}/followers", {"openid": "oNamed123"})
    assert duplicate.status_code == 409
    listed = client.get(f"{ACCOUNTS}/{APPID}/followers").json()["followers"]
    assert [f["nickname"] for f in listed] == [data["openid"][-6:], "张三"]


def test_create_and_follow_at_once(client: Client, sandbox_account: Account) -> None:
    data = post(client, f"{ACCOUNTS}/{APPID}/followers", {"follow": True}).json()
    assert data["subscribed"] is True
    assert data["delivery"] == {
        "status": None,
        "attempts": 0,
        "elapsed_ms": 0,
        "reply": None,
        "error": "no callback URL configured",
    }
    assert Entry.objects.get().msg_type == "subscribe"


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/sandbox/api/accounts/wxnope/followers", {}, 404, "unknown appid wxnope"),
        (
            f"{ACCOUNTS}/{APPID}/followers",
            {"openid": "bad id!"},
            400,
            "openid must be 6-64 letters, digits, - or _",
        ),
        (
            f"{ACCOUNTS}/{APPID}/followers",
            {"nickname": 3},
            400,
            "openid and nickname must be strings, follow a boolean",
        ),
        (f"{ACCOUNTS}/{APPID}/followers/oNobody/follow", {}, 404, "unknown openid oNobody"),
        (
            "/sandbox/api/accounts/wxnope/followers/oNobody/messages",
            {"type": "text", "content": "x"},
            404,
            "unknown appid wxnope",
        ),
    ],
)
def test_it_refuses_bad_follower_requests(
    client: Client, sandbox_account: Account, path: str, body: Any, status: int, error: str
) -> None:
    response = post(client, path, body)
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert not Follower.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"type": "fax"},
            "type must be one of click, image, link, location, location_select, scancode_push, "
            "scancode_waitmsg, shortvideo, text, video, view, view_miniprogram, voice",
        ),
        ({"type": "text"}, "content is required for type text"),
        ({"type": "text", "content": ""}, "content is required for type text"),
        ({"type": "image"}, "pic_url is required for type image"),
        ({"type": "location", "x": "north", "y": 1}, "x must be a number for type location"),
        ({"type": "click", "key": "k" * 129}, "key is longer than 128 bytes"),
        (b"not json", "bad JSON"),
    ],
)
def test_it_refuses_bad_messages(client: Client, follower: Follower, body: Any, error: str) -> None:
    before = Entry.objects.count()
    response = post(client, f"{ACCOUNTS}/{APPID}/followers/{follower.openid}/messages", body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert Entry.objects.count() == before


def test_followers_who_left_cannot_send(client: Client, follower: Follower) -> None:
    base = f"{ACCOUNTS}/{APPID}/followers/{follower.openid}"
    assert client.post(f"{base}/unfollow").status_code == 200
    assert client.post(f"{base}/unfollow").status_code == 409
    response = post(client, f"{base}/messages", {"type": "text", "content": "x"})
    assert response.status_code == 409
    assert response.json() == {"error": "the follower does not follow this account"}
    assert post(client, f"{base}/follow", {}).status_code == 200
    assert post(client, f"{base}/follow", {}).status_code == 409


def test_it_returns_the_conversation_after_an_id(client: Client, follower: Follower) -> None:
    base = f"{ACCOUNTS}/{APPID}/followers/{follower.openid}"
    post(client, f"{base}/messages", {"type": "text", "content": "你好"})
    everything = client.get(f"{base}/conversation").json()
    assert [(e["kind"], e["msg_type"]) for e in everything["entries"]] == [
        ("inbound", "subscribe"),
        ("inbound", "text"),
    ]
    text = everything["entries"][1]
    assert text["payload"] == {"msg_type": "text", "content": "你好"}
    assert text["delivery"]["error"] == "no callback URL configured"
    first_id = everything["entries"][0]["id"]
    later = client.get(f"{base}/conversation", {"after": first_id}).json()
    assert [e["id"] for e in later["entries"]] == [text["id"]]
    assert later["last_id"] == text["id"]
    assert client.get(f"{base}/conversation", {"after": "x"}).status_code == 400
    assert client.get(f"{base}/conversation", {"after": text["id"]}).json() == {
        "entries": [],
        "last_id": text["id"],
    }


def test_it_shows_the_menu(client: Client, sandbox_account: Account) -> None:
    assert client.get(f"{ACCOUNTS}/{APPID}/menu").json() == {"menu": None, "menuid": ""}
    sandbox_account.menu = {"button": [{"type": "click", "name": "办事", "key": "K"}]}
    sandbox_account.save()
    assert client.get(f"{ACCOUNTS}/{APPID}/menu").json() == {
        "menu": {"button": [{"type": "click", "name": "办事", "key": "K", "sub_button": []}]},
        "menuid": "",
    }
    assert client.get("/sandbox/api/accounts/wxnope/menu").status_code == 404


def test_wrong_methods_are_refused(client: Client, follower: Follower) -> None:
    response = client.get(f"{ACCOUNTS}/{APPID}/followers/{follower.openid}/messages")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_the_register_command(capsys: Any) -> None:
    args = [
        "sandbox",
        "register",
        "--name",
        "示例",
        "--appid",
        APPID,
        "--secret",
        SECRET,
        "--token",
        TOKEN,
        "--aes-key",
        AES_KEY,
        "--mode",
        "compatible",
        "--callback-url",
        "http://127.0.0.1:8000/wx/x/",
        "--original-id",
        ORIGINAL_ID,
    ]
    call_command(*args)
    call_command(*args[:-2])
    account = Account.objects.get()
    assert (account.mode, account.original_id, account.callback_url) == (
        "compatible",
        ORIGINAL_ID,
        "http://127.0.0.1:8000/wx/x/",
    )
    assert capsys.readouterr().out.splitlines() == [
        f"registered {APPID} ({ORIGINAL_ID}) mode=compatible",
        f"updated {APPID} ({ORIGINAL_ID}) mode=compatible",
    ]
    with pytest.raises(CommandError, match="token must be 3-32 letters or digits"):
        call_command(
            "sandbox",
            "register",
            "--name",
            "x",
            "--appid",
            "wxother",
            "--secret",
            "s",
            "--token",
            "!",
        )
    assert Account.objects.count() == 1


def test_the_phone_page_renders(client: Client, sandbox_account: Account) -> None:
    response = client.get("/sandbox/")
    assert response.status_code == 200
    html = response.content.decode()
    for marker in (
        'id="account"',
        'id="follower"',
        'id="new-follower"',
        'id="follow"',
        'id="unfollow"',
        'id="text"',
        'id="send"',
        'id="messages"',
        'id="menu"',
        "sandbox/phone.js",
        "发送",
    ):
        assert marker in html
    strings = json.loads(
        html.split('id="sandbox-strings" type="application/json">')[1].split("</script>")[0]
    )
    assert strings["unavailable"] == "该公众号暂时无法提供服务，请稍后再试"
