"""Publishing and restoring menus against the sandbox platform over real HTTP.

Requests pass through a small recording proxy on 127.0.0.1 in front of the live sandbox,
so each test states exactly which API calls a publish made (none, for a refused menu).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache

from govwx.accounts.models import Account, AuditEvent, Organisation
from govwx.services.menu import (
    MenuInvalid,
    MenuPublishFailed,
    current_version,
    publish_menu,
    restore_menu_version,
    save_menu_draft,
)
from govwx.services.models import Category, MenuVersion, Service
from govwx.wechat.client import clear_local_tokens

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """A forwarding proxy that notes the API path of every request."""

    def __init__(self, target: str) -> None:
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                recorder.paths.append(self.path.split("?")[0].split("/cgi-bin/", 1)[-1])
                request = urllib.request.Request(
                    target + self.path,
                    data=body,
                    method=self.command,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    raw = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self) -> list[str]:
        paths, self.paths = self.paths, []
        return paths


def driver(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(
        base + "/sandbox/api" + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path}: {exc.code} {exc.read()!r}") from exc


def register(base: str, account: Account, secret: str | None = None) -> None:
    driver(
        base,
        "POST",
        "/accounts",
        {
            "name": account.name,
            "appid": account.appid,
            "secret": secret or account.app_secret,
            "token": account.token,
            "aes_key": account.aes_key,
            "mode": account.mode,
        },
    )


@pytest.fixture
def recorder(live_server: Any, settings: Any, cache_table: None) -> Iterator[Recorder]:
    proxy = Recorder(live_server.url + "/sandbox")
    settings.GOVWX_WECHAT_API_BASE = proxy.url
    settings.GOVWX_PUBLIC_URL = "https://wx.example.gov.cn"
    cache.clear()
    clear_local_tokens()
    yield proxy
    proxy.server.shutdown()
    cache.clear()
    clear_local_tokens()


@pytest.fixture
def site(recorder: Recorder, live_server: Any, city_account: Account) -> str:
    register(live_server.url, city_account)
    return str(live_server.url)


@pytest.fixture
def shebao(city: Organisation) -> Service:
    return Service.objects.create(
        organisation=city, code="SB001", name="社保卡补办", category=Category.SOCIAL_SECURITY
    )


TREE = {
    "button": [
        {"name": "大厅", "kind": "hub"},
        {
            "name": "办事",
            "sub_button": [
                {"name": "社保卡", "kind": "service", "service": "SB001"},
                {"name": "留言", "kind": "click", "key": "LEAVE_MSG"},
            ],
        },
    ]
}


def retired_menu(tag_id: int) -> dict[str, Any]:
    return {
        "tag_id": tag_id,
        "tag_name": "退休人员",
        "button": [{"name": "养老金", "kind": "click", "key": "PENSION"}],
    }


def seen_by(site: str, account: Account, openid: str = "") -> Any:
    query = f"?openid={openid}" if openid else ""
    return driver(site, "GET", f"/accounts/{account.appid}/menu{query}")


def a_retired_follower(site: str, account: Account) -> tuple[int, str]:
    tag = driver(site, "POST", f"/accounts/{account.appid}/tags", {"name": "退休人员"})
    follower = driver(site, "POST", f"/accounts/{account.appid}/followers", {})
    path = f"/accounts/{account.appid}/followers/{follower['openid']}/tags"
    driver(site, "POST", path, {"tag_id": tag["id"]})
    return int(tag["id"]), str(follower["openid"])


def test_it_publishes_the_menu_and_its_conditional_menus(
    site: str, recorder: Recorder, city_account: Account, operator: Any, shebao: Service
) -> None:
    tag_id, openid = a_retired_follower(site, city_account)
    draft = save_menu_draft(city_account, TREE, [retired_menu(tag_id)], actor=operator)
    version = publish_menu(draft, actor=operator)
    assert recorder.take() == ["stable_token", "menu/get", "menu/create", "menu/addconditional"]
    version.refresh_from_db()
    assert version.status == MenuVersion.Status.PUBLISHED
    assert version.published_by == operator
    assert version.error == ""
    assert current_version(city_account) == version
    hub = f"https://wx.example.gov.cn/h/{city_account.appid}/"
    assert seen_by(site, city_account) == {
        "menu": {
            "button": [
                {"type": "view", "name": "大厅", "url": hub, "sub_button": []},
                {
                    "name": "办事",
                    "sub_button": [
                        {
                            "type": "view",
                            "name": "社保卡",
                            "url": f"{hub}s/SB001/",
                            "sub_button": [],
                        },
                        {"type": "click", "name": "留言", "key": "LEAVE_MSG", "sub_button": []},
                    ],
                },
            ]
        },
        "menuid": "",
    }
    retired = seen_by(site, city_account, openid)
    assert version.menuids == [retired["menuid"]]
    assert retired["menu"]["button"] == [
        {"type": "click", "name": "养老金", "key": "PENSION", "sub_button": []}
    ]
    assert version.compiled["conditional"][0]["matchrule"] == {"tag_id": str(tag_id)}
    event = AuditEvent.objects.get(name="menu.published")
    assert (event.actor, event.data) == (operator, {"version": 1, "menuids": version.menuids})


def test_the_next_publish_deletes_the_previous_conditional_menus(
    site: str, recorder: Recorder, city_account: Account, operator: Any, shebao: Service
) -> None:
    tag_id, openid = a_retired_follower(site, city_account)
    first = publish_menu(
        save_menu_draft(city_account, TREE, [retired_menu(tag_id)], actor=operator),
        actor=operator,
    )
    recorder.take()
    menu = {**retired_menu(tag_id), "button": [{"name": "待遇", "kind": "click", "key": "PAY"}]}
    second = publish_menu(
        save_menu_draft(city_account, TREE, [menu], actor=operator), actor=operator
    )
    assert recorder.take() == ["menu/create", "menu/addconditional", "menu/delconditional"]
    assert (second.number, first.number) == (2, 1)
    assert seen_by(site, city_account, openid)["menuid"] == second.menuids[0]
    assert second.menuids != first.menuids
    assert current_version(city_account) == second


def test_a_refused_menu_makes_no_call_and_changes_nothing(
    site: str, recorder: Recorder, city_account: Account, operator: Any, shebao: Service
) -> None:
    draft = save_menu_draft(city_account, TREE, [], actor=operator)
    Service.objects.filter(pk=shebao.pk).update(withdrawn=True)  # gone from the catalogue
    with pytest.raises(MenuInvalid) as info:
        publish_menu(draft, actor=operator)
    assert info.value.message == (
        "「办事」 › 「社保卡」的服务事项「SB001」不在本公众号的服务目录中 / "
        "「办事」 › 「社保卡」: service 'SB001' is not in this account's catalogue"
    )
    assert recorder.take() == []
    draft.refresh_from_db()
    assert (draft.status, draft.compiled, draft.error) == (MenuVersion.Status.DRAFT, {}, "")
    assert seen_by(site, city_account) == {"menu": None, "menuid": ""}
    assert not AuditEvent.objects.filter(name__startswith="menu.publish").exists()


def test_a_wechat_refusal_puts_the_previous_menu_back(
    site: str, recorder: Recorder, city_account: Account, operator: Any, shebao: Service
) -> None:
    tag_id, openid = a_retired_follower(site, city_account)
    first = publish_menu(
        save_menu_draft(city_account, TREE, [retired_menu(tag_id)], actor=operator),
        actor=operator,
    )
    before, before_retired = seen_by(site, city_account), seen_by(site, city_account, openid)
    recorder.take()
    other = {"button": [{"name": "新菜单", "kind": "click", "key": "NEW"}]}
    # Tag 999 is not the account's: the sandbox refuses it after the default menu changed.
    draft = save_menu_draft(city_account, other, [retired_menu(999)], actor=operator)
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert recorder.take() == ["menu/create", "menu/addconditional", "menu/create"]
    error = "微信返回错误 45159：invalid tag id / WeChat errcode 45159: invalid tag id"
    assert str(info.value) == error
    draft.refresh_from_db()
    assert (draft.status, draft.error, draft.menuids) == (MenuVersion.Status.FAILED, error, [])
    assert draft.compiled["menu"] == {
        "button": [{"type": "click", "name": "新菜单", "key": "NEW"}]
    }  # stored before it was sent
    assert current_version(city_account) == first
    assert seen_by(site, city_account) == before
    assert seen_by(site, city_account, openid) == before_retired
    event = AuditEvent.objects.get(name="menu.publish_failed")
    assert event.data == {"version": 2, "errcode": 45159, "errmsg": "invalid tag id"}

    # A failed version may be published again once the tag exists; here, restored instead.
    restored = restore_menu_version(first, actor=operator)
    assert (restored.number, restored.restored_from, restored.note) == (3, first, "恢复自版本 1")
    assert restored.status == MenuVersion.Status.PUBLISHED
    assert current_version(city_account) == restored
    assert seen_by(site, city_account, openid)["menuid"] == restored.menuids[0]
    assert list(AuditEvent.objects.filter(name="menu.restored").values_list("data", flat=True)) == [
        {"version": 3, "restored_from": 1}
    ]


def test_a_first_publish_that_fails_leaves_no_menu(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    draft = save_menu_draft(
        city_account,
        {"button": [{"name": "办事", "kind": "click", "key": "K"}]},
        [retired_menu(999)],
        actor=operator,
    )
    with pytest.raises(MenuPublishFailed):
        publish_menu(draft, actor=operator)
    assert recorder.take() == [
        "stable_token",
        "menu/get",
        "menu/create",
        "menu/addconditional",
        "menu/delete",
    ]
    assert seen_by(site, city_account) == {"menu": None, "menuid": ""}
    assert current_version(city_account) is None


def test_a_wrong_secret_fails_before_anything_changes(
    recorder: Recorder, live_server: Any, city_account: Account, operator: Any
) -> None:
    register(live_server.url, city_account, secret="the-secret-wechat-has")
    draft = save_menu_draft(
        city_account,
        {"button": [{"name": "办事", "kind": "click", "key": "K"}]},
        [],
        actor=operator,
    )
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert recorder.take() == ["stable_token"]
    assert str(info.value) == (
        "微信返回错误 40125：invalid appsecret / WeChat errcode 40125: invalid appsecret"
    )
    assert MenuVersion.objects.get().status == MenuVersion.Status.FAILED


def test_a_published_version_is_not_published_twice(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    version = publish_menu(
        save_menu_draft(
            city_account,
            {"button": [{"name": "办事", "kind": "click", "key": "K"}]},
            [],
            actor=operator,
        ),
        actor=operator,
    )
    recorder.take()
    with pytest.raises(MenuInvalid) as info:
        publish_menu(version, actor=operator)
    assert info.value.message == (
        "版本 1 已经发布；要再次使用它请恢复该版本 / version 1 is already published: restore it instead"
    )
    assert recorder.take() == []
