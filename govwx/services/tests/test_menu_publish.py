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
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent, Organisation
from govwx.services import menu
from govwx.services.menu import (
    MenuBusy,
    MenuInvalid,
    MenuPublishFailed,
    current_version,
    publish_menu,
    republish_menu,
    restore_menu_version,
    save_menu_draft,
)
from govwx.services.models import Category, MenuVersion, Service
from govwx.wechat.client import WeChatClient, clear_local_tokens

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """A forwarding proxy that notes the API path of every request."""

    def __init__(self, target: str) -> None:
        self.paths: list[str] = []
        # `hold`: the API path whose request waits for `release` (with `held` set as it
        # arrives); `drop`: how many more requests to that path are forwarded but never
        # answered, as when WeChat acts and the connection then breaks.
        self.hold = ""
        self.held = threading.Event()
        self.release = threading.Event()
        self.drop: dict[str, int] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = self.path.split("?")[0].split("/cgi-bin/", 1)[-1]
                recorder.paths.append(path)
                if path == recorder.hold:
                    recorder.held.set()
                    recorder.release.wait(timeout=20)
                request = urllib.request.Request(
                    target + self.path,
                    data=body,
                    method=self.command,
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    raw = response.read()
                if recorder.drop.get(path, 0) > 0:
                    recorder.drop[path] -= 1
                    self.close_connection = True
                    return
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


def published_for_the_retired(
    site: str, account: Account, operator: Any, tree: dict[str, Any]
) -> tuple[MenuVersion, int, str]:
    """Version 1 published: `tree`, and a conditional menu for a retired follower
    (returned with the tag and the follower's openid)."""
    tag_id, openid = a_retired_follower(site, account)
    first = publish_menu(
        save_menu_draft(account, tree, [retired_menu(tag_id)], actor=operator), actor=operator
    )
    return first, tag_id, openid


def retired_pay_menu(tag_id: int) -> dict[str, Any]:
    """The retired follower's conditional menu changed."""
    return {**retired_menu(tag_id), "button": [{"name": "待遇", "kind": "click", "key": "PAY"}]}


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
    first, tag_id, openid = published_for_the_retired(site, city_account, operator, TREE)
    recorder.take()
    menu = retired_pay_menu(tag_id)
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
    first, tag_id, openid = published_for_the_retired(site, city_account, operator, TREE)
    before, before_retired = seen_by(site, city_account), seen_by(site, city_account, openid)
    recorder.take()
    other = {"button": [{"name": "新菜单", "kind": "click", "key": "NEW"}]}
    # Tag 999 is not the account's: the sandbox refuses it after the default menu changed.
    draft = save_menu_draft(city_account, other, [retired_menu(999)], actor=operator)
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert recorder.take() == ["menu/create", "menu/addconditional", "menu/create"]
    error = (
        "微信返回错误 45159：invalid tag id / WeChat errcode 45159: invalid tag id\n"
        "已恢复原菜单 / the previous menu was put back"
    )
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
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert str(info.value).endswith(
        "\n已删除新菜单，与之前一样没有菜单 / the new menu was deleted: no menu, as before"
    )
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
        "微信返回错误 40125：invalid appsecret / WeChat errcode 40125: invalid appsecret\n"
        "原菜单保持不变 / the previous menu is unchanged"
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


# ------------------------------------------------------------------ one publish at a time

ONE = {"button": [{"name": "办事", "kind": "click", "key": "K"}]}


def publishing_in_background(
    recorder: Recorder, version: MenuVersion, actor: Any, hold: str = "menu/create"
) -> tuple[threading.Thread, list[Any]]:
    """Start publishing `version` in a thread and return once it makes the API call
    `hold` (held there until `recorder.release`)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(publish_menu(version, actor=actor))
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)
        finally:
            connection.close()

    recorder.hold = hold
    thread = threading.Thread(target=run)
    thread.start()
    assert recorder.held.wait(timeout=20)
    return thread, outcome


def test_a_second_publish_while_one_is_under_way_is_refused_without_a_call(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    first = save_menu_draft(city_account, ONE, [], actor=operator)
    thread, outcome = publishing_in_background(recorder, first, operator)
    try:
        # A version publishing is no longer the draft: the builder's next save is new.
        second = save_menu_draft(city_account, ONE, [], actor=operator)
        assert second.number == 2
        assert MenuVersion.objects.get(pk=first.pk).status == MenuVersion.Status.PUBLISHING
        calls = recorder.take()
        # The same version again: a double click.
        with pytest.raises(MenuBusy) as info:
            publish_menu(MenuVersion.objects.get(pk=first.pk), actor=operator)
        assert info.value.message == (
            "版本 1 正在发布，请勿重复提交 / version 1 is already being published"
        )
        # Another version of the account meanwhile.
        with pytest.raises(MenuBusy) as info:
            publish_menu(second, actor=operator)
        assert info.value.message == (
            "另一个版本（版本 1）正在发布，请稍后再试 / "
            "another version (version 1) is being published: try again shortly"
        )
        assert recorder.take() == []
        assert MenuVersion.objects.get(pk=second.pk).status == MenuVersion.Status.DRAFT
    finally:
        recorder.release.set()
        thread.join(timeout=20)
    assert calls == ["stable_token", "menu/get", "menu/create"]
    assert [type(o) for o in outcome] == [MenuVersion]
    assert MenuVersion.objects.get(pk=first.pk).status == MenuVersion.Status.PUBLISHED
    assert list(
        AuditEvent.objects.filter(name="menu.published").values_list("data", flat=True)
    ) == [{"version": 1, "menuids": []}]
    # Once it is done the other version publishes.
    assert publish_menu(second, actor=operator).status == MenuVersion.Status.PUBLISHED


def test_no_answer_to_the_menu_puts_the_previous_one_back_and_says_so(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    first = publish_menu(save_menu_draft(city_account, ONE, [], actor=operator), actor=operator)
    before = seen_by(site, city_account)
    recorder.take()
    draft = save_menu_draft(
        city_account,
        {"button": [{"name": "新菜单", "kind": "click", "key": "NEW"}]},
        [],
        actor=operator,
    )
    recorder.drop["menu/create"] = 1  # WeChat sets the new menu, the answer is lost
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert recorder.take() == ["menu/create", "menu/create"]
    assert str(info.value).startswith("无法连接微信接口 / WeChat unreachable: ")
    assert str(info.value).endswith(
        "\n微信没有应答；已重新发布原菜单 / "
        "WeChat did not answer; the previous menu was published again"
    )
    assert seen_by(site, city_account) == before
    assert current_version(city_account) == first
    assert MenuVersion.objects.get(pk=draft.pk).status == MenuVersion.Status.FAILED


def test_no_answer_twice_says_the_menu_followers_see_is_unknown(
    site: str, recorder: Recorder, city_account: Account, operator: Any, signed_in: Client
) -> None:
    publish_menu(save_menu_draft(city_account, ONE, [], actor=operator), actor=operator)
    recorder.take()
    draft = save_menu_draft(
        city_account,
        {"button": [{"name": "新菜单", "kind": "click", "key": "NEW"}]},
        [],
        actor=operator,
    )
    recorder.drop["menu/create"] = 2
    r = signed_in.post(f"/services/menu/versions/{draft.pk}/publish/", follow=True)
    assert recorder.take() == ["menu/create", "menu/create"]
    (message,) = [str(m) for m in r.context["messages"]]
    assert message.startswith("发布失败：无法连接微信接口 / WeChat unreachable: ")
    assert "原菜单保持不变" not in message
    assert "\n微信没有应答，也未能重新发布原菜单，粉丝看到的菜单不确定：无法连接微信接口" in message
    assert message.endswith(
        "WeChat did not answer and the previous menu could not be published again: "
        "check the menu followers see"
    )


@pytest.fixture
def signed_in(client: Client, operator: Any) -> Client:
    client.force_login(operator)
    return client


def conditional_menuids(city_account: Account) -> list[str]:
    """The conditional menus WeChat (the sandbox) has now, asked over the API."""
    data = WeChatClient(city_account).get_menu()
    return sorted(str(m["menuid"]) for m in data.get("conditionalmenu", []))


def test_an_interrupted_publish_is_finished_leaving_exactly_the_new_conditional_menus(
    site: str, recorder: Recorder, city_account: Account, operator: Any, signed_in: Client
) -> None:
    retired, _ = a_retired_follower(site, city_account)
    young = int(
        driver(site, "POST", f"/accounts/{city_account.appid}/tags", {"name": "青年"})["id"]
    )
    first = publish_menu(
        save_menu_draft(city_account, ONE, [retired_menu(retired)], actor=operator),
        actor=operator,
    )
    menus = [
        retired_menu(retired),
        {
            "tag_id": young,
            "tag_name": "青年",
            "button": [{"name": "就业", "kind": "click", "key": "JOB"}],
        },
    ]
    second = save_menu_draft(city_account, ONE, menus, actor=operator)
    # The publish of version 2 as far as its first conditional menu, then the process
    # died: the version is publishing, with the menuid WeChat gave it recorded.
    compiled = menu.compile_menu(city_account, second.tree, second.conditional)
    menu._claim(second, compiled, operator)
    client = WeChatClient(city_account)
    client.create_menu(compiled["menu"])
    orphan = client.add_conditional_menu(compiled["conditional"][0])
    menu._keep_menuids(second, [orphan])
    assert conditional_menuids(city_account) == sorted([*first.menuids, orphan])
    recorder.take()

    # Too soon: it may still be running.
    with pytest.raises(MenuBusy) as info:
        republish_menu(second, actor=operator)
    assert info.value.message == "版本 2 没有中断的发布 / version 2 has no interrupted publish"
    assert recorder.take() == []
    with pytest.raises(MenuBusy) as info:
        publish_menu(save_menu_draft(city_account, ONE, [], actor=operator), actor=operator)
    assert info.value.message.startswith("另一个版本（版本 2）正在发布")

    MenuVersion.objects.filter(pk=second.pk).update(
        publish_started_at=timezone.now() - timedelta(minutes=3)
    )
    html = signed_in.get("/services/menu/versions/").content.decode()
    assert f'action="/services/menu/versions/{second.pk}/republish/"' in html
    r = signed_in.post(f"/services/menu/versions/{second.pk}/republish/", follow=True)
    assert [str(m) for m in r.context["messages"]] == ["版本 2 已重新发布。"]
    assert recorder.take() == [
        "menu/delconditional",  # the interrupted publish's menu
        "menu/get",  # and any it added without recording
        "menu/create",
        "menu/addconditional",
        "menu/addconditional",
        "menu/delconditional",  # version 1's
    ]
    second.refresh_from_db()
    assert second.status == MenuVersion.Status.PUBLISHED
    assert len(second.menuids) == 2 and orphan not in second.menuids
    assert conditional_menuids(city_account) == sorted(second.menuids)
    assert current_version(city_account) == second
    event = AuditEvent.objects.get(name="menu.republished")
    assert (event.actor, event.data) == (operator, {"version": 2, "menuids": [orphan]})


def test_each_conditional_menuid_is_stored_as_wechat_gives_it(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    first, retired, openid = published_for_the_retired(site, city_account, operator, ONE)
    draft = save_menu_draft(
        city_account,
        ONE,
        [retired_pay_menu(retired)],
        actor=operator,
    )
    # Held as it deletes version 1's conditional menu: version 2's is on WeChat already.
    thread, outcome = publishing_in_background(recorder, draft, operator, "menu/delconditional")
    try:
        added = seen_by(site, city_account, openid)["menuid"]
        assert added not in first.menuids
        now = MenuVersion.objects.get(pk=draft.pk)
        assert (now.status, now.menuids) == (MenuVersion.Status.PUBLISHING, [added])
    finally:
        recorder.release.set()
        thread.join(timeout=20)
    assert [o.menuids for o in outcome] == [[added]]


def test_the_follower_tags_are_read_from_wechat_after_a_post(
    site: str, recorder: Recorder, city_account: Account, signed_in: Client
) -> None:
    tag = driver(site, "POST", f"/accounts/{city_account.appid}/tags", {"name": "退休人员"})
    r = signed_in.post("/services/menu/tags/refresh/", HTTP_ACCEPT="application/json")
    assert r.status_code == 202
    assert recorder.take() == ["stable_token", "tags/get"]
    state = signed_in.get("/services/menu/tags/").json()
    assert state["tags"] == [{"id": tag["id"], "name": "退休人员", "count": 0}]
    assert state["error"] == ""
    assert state["read_at"] >= r.json()["requested_at"]


def test_a_conditional_menu_added_without_an_answer_is_found_and_deleted(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    first, retired, openid = published_for_the_retired(site, city_account, operator, ONE)
    before, before_retired = seen_by(site, city_account), seen_by(site, city_account, openid)
    recorder.take()
    changed = retired_pay_menu(retired)
    draft = save_menu_draft(city_account, ONE, [changed], actor=operator)
    recorder.drop["menu/addconditional"] = 1  # WeChat adds it, the menuid never arrives
    with pytest.raises(MenuPublishFailed) as info:
        publish_menu(draft, actor=operator)
    assert recorder.take() == [
        "menu/create",
        "menu/addconditional",
        "menu/get",  # which conditional menus WeChat has now
        "menu/delconditional",  # the one added without an answer
        "menu/create",
    ]
    assert str(info.value).endswith("WeChat did not answer; the previous menu was published again")
    assert conditional_menuids(city_account) == sorted(first.menuids)
    assert seen_by(site, city_account) == before
    assert seen_by(site, city_account, openid) == before_retired
    assert current_version(city_account) == first


def test_an_interrupted_publish_leaves_no_conditional_menu_it_did_not_record(
    site: str, recorder: Recorder, city_account: Account, operator: Any
) -> None:
    first, retired, openid = published_for_the_retired(site, city_account, operator, ONE)
    changed = retired_pay_menu(retired)
    second = save_menu_draft(city_account, ONE, [changed], actor=operator)
    # The process died after WeChat added the conditional menu, before its menuid was
    # stored: the version records none.
    compiled = menu.compile_menu(city_account, second.tree, second.conditional)
    menu._claim(second, compiled, operator)
    client = WeChatClient(city_account)
    client.create_menu(compiled["menu"])
    unrecorded = client.add_conditional_menu(compiled["conditional"][0])
    MenuVersion.objects.filter(pk=second.pk).update(
        publish_started_at=timezone.now() - timedelta(minutes=3)
    )
    recorder.take()

    republished = republish_menu(second, actor=operator)
    assert recorder.take() == [
        "menu/get",
        "menu/delconditional",  # the unrecorded one
        "menu/create",
        "menu/addconditional",
        "menu/delconditional",  # version 1's
    ]
    assert republished.status == MenuVersion.Status.PUBLISHED
    assert republished.error == ""
    assert unrecorded not in republished.menuids
    assert conditional_menuids(city_account) == sorted(republished.menuids)
    assert seen_by(site, city_account, openid)["menuid"] == republished.menuids[0]
    assert not set(first.menuids) & set(conditional_menuids(city_account))


def test_an_interrupted_publish_no_longer_valid_puts_the_published_menu_back(
    site: str,
    recorder: Recorder,
    city_account: Account,
    operator: Any,
    shebao: Service,
    signed_in: Client,
) -> None:
    first = publish_menu(save_menu_draft(city_account, ONE, [], actor=operator), actor=operator)
    before = seen_by(site, city_account)
    second = save_menu_draft(city_account, TREE, [], actor=operator)
    compiled = menu.compile_menu(city_account, second.tree, second.conditional)
    menu._claim(second, compiled, operator)
    WeChatClient(city_account).create_menu(compiled["menu"])  # then the process died
    assert seen_by(site, city_account) != before
    MenuVersion.objects.filter(pk=second.pk).update(
        publish_started_at=timezone.now() - timedelta(minutes=3)
    )
    # Meanwhile the service its menu opens left the catalogue.
    Service.objects.filter(pk=shebao.pk).update(withdrawn=True)
    recorder.take()

    r = signed_in.post(f"/services/menu/versions/{second.pk}/republish/", follow=True)
    (message,) = [str(m) for m in r.context["messages"]]
    assert "「SB001」不在本公众号的服务目录中" in message
    assert message.endswith("\n已恢复原菜单 / the previous menu was put back")
    assert recorder.take() == ["menu/get", "menu/create"]
    second.refresh_from_db()
    assert second.status == MenuVersion.Status.FAILED
    assert second.error == message
    assert seen_by(site, city_account) == before
    assert current_version(city_account) == first
