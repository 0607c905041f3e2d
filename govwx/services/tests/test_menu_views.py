"""The builder's pages: saving a draft, the rule shown for a refused menu, the versions,
the tags endpoint without a WeChat call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.services.models import MenuVersion

pytestmark = pytest.mark.django_db

TREE = {"button": [{"name": "留言", "kind": "click", "key": "LEAVE_MSG"}]}


@pytest.fixture
def signed_in(client: Client, operator: Any, city_account: Account) -> Client:
    client.force_login(operator)
    return client


def test_the_builder_saves_a_draft(signed_in: Client, city_account: Account) -> None:
    r = signed_in.post(
        "/services/menu/", {"tree": json.dumps(TREE), "conditional": "[]", "note": "初稿"}
    )
    assert r.status_code == 302
    version = MenuVersion.objects.get()
    assert (version.tree, version.conditional, version.note, version.status) == (
        TREE,
        [],
        "初稿",
        MenuVersion.Status.DRAFT,
    )
    page = signed_in.get("/services/menu/")
    assert page.status_code == 200
    assert "已保存草稿（版本 1），可以发布了。" in page.content.decode()
    assert f'action="/services/menu/versions/{version.pk}/publish/"' in page.content.decode()
    assert page.context["setup"]["tree"] == TREE


def test_a_refused_menu_shows_the_rule_and_stores_nothing(signed_in: Client) -> None:
    tree = {"button": [{"name": "政务服务大厅", "kind": "hub"}]}
    r = signed_in.post("/services/menu/", {"tree": json.dumps(tree), "conditional": "[]"})
    assert r.status_code == 400
    assert r.context["error"] == (
        "菜单名称「政务服务大厅」超过 16 字节（一级菜单，现为 18 字节） / "
        "name 「政务服务大厅」 over 16 bytes"
    )
    assert r.context["setup"]["tree"] == tree  # the builder keeps what was typed
    assert not MenuVersion.objects.exists()


def test_bad_json_is_refused(signed_in: Client) -> None:
    r = signed_in.post("/services/menu/", {"tree": "{", "conditional": "[]"})
    assert r.status_code == 400
    assert r.context["error"] == "菜单数据不是有效的 JSON / the menu is not valid JSON"
    assert not MenuVersion.objects.exists()


def test_the_tags_endpoint_answers_from_the_cache_without_calling_wechat(
    signed_in: Client, cache_table: None
) -> None:
    assert signed_in.get("/services/menu/tags/").json() == {
        "tags": [],
        "read_at": "",
        "error": "",
    }
    # The old way to read WeChat on a GET is gone: the query string changes nothing.
    assert signed_in.get("/services/menu/tags/?refresh=1").json()["read_at"] == ""


def test_reading_the_tags_from_wechat_is_a_post_queued_after_commit(
    signed_in: Client, cache_table: None, django_capture_on_commit_callbacks: Any
) -> None:
    assert signed_in.get("/services/menu/tags/refresh/").status_code == 405
    # Not run here: the callback would ask WeChat (tests/test_menu_publish.py reads the
    # tags from the sandbox).
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = signed_in.post("/services/menu/tags/refresh/", HTTP_ACCEPT="application/json")
    assert r.status_code == 202
    assert r.json()["tags_url"] == "/services/menu/tags/"
    assert len(r.json()["requested_at"]) == len("2026-01-01T00:00:00.000000Z")
    assert len(queued) == 1
    assert AuditEvent.objects.filter(name="menu.tags_refresh_requested").count() == 1
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = signed_in.post("/services/menu/tags/refresh/")
    assert (r.status_code, r["Location"], len(queued)) == (302, "/services/menu/", 1)


def test_an_editor_of_another_kind_may_not_ask_wechat_for_tags(
    client: Client,
    city_account: Account,
    django_user_model: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    reviewer = django_user_model.objects.create_user("menu-reviewer")
    add_member(city_account, reviewer, Membership.Role.REVIEWER)
    client.force_login(reviewer)
    assert client.get("/services/menu/tags/").status_code == 200  # menu.view
    with django_capture_on_commit_callbacks(execute=False) as queued:
        r = client.post("/services/menu/tags/refresh/")
    assert (r.status_code, len(queued)) == (403, 0)


def save(client: Client, tree: Any, draft: Any, revision: Any, note: str = "") -> Any:
    return client.post(
        "/services/menu/",
        {
            "tree": json.dumps(tree),
            "conditional": "[]",
            "note": note,
            "draft": draft,
            "revision": revision,
        },
    )


def test_a_draft_saved_by_someone_else_meanwhile_is_not_overwritten(
    signed_in: Client, city_account: Account, account_admin: Any
) -> None:
    page = signed_in.get("/services/menu/")
    assert page.context["loaded"] == {"draft": "", "revision": 0}
    assert 'name="draft" id="draft-field" value=""' in page.content.decode()
    assert save(signed_in, TREE, "", "0", "初稿").status_code == 302
    version = MenuVersion.objects.get()
    assert (version.number, version.revision) == (1, 0)
    page = signed_in.get("/services/menu/")
    assert page.context["loaded"] == {"draft": 1, "revision": 0}

    # Another editor loads the same draft and saves first.
    other = Client()
    other.force_login(account_admin)
    theirs = {"button": [{"name": "他人", "kind": "click", "key": "THEIRS"}]}
    assert save(other, theirs, "1", "0", "他人的修改").status_code == 302

    mine = {"button": [{"name": "我的", "kind": "click", "key": "MINE"}]}
    r = save(signed_in, mine, "1", "0", "我的修改")
    assert r.status_code == 409
    assert r.context["error"] == (
        "菜单草稿已被他人修改，请刷新后再改 / the draft changed meanwhile: reload it"
    )
    assert r.context["setup"]["tree"] == mine  # kept on the page, to copy from
    assert r.context["loaded"] == {"draft": "1", "revision": "0"}  # a resend conflicts too
    version.refresh_from_db()
    assert (version.tree, version.note, version.revision) == (theirs, "他人的修改", 1)
    assert MenuVersion.objects.count() == 1


def test_a_draft_made_by_someone_else_after_the_page_loaded_is_not_overwritten(
    signed_in: Client, city_account: Account
) -> None:
    MenuVersion.objects.create(account=city_account, number=1, tree=TREE, revision=3)
    r = save(signed_in, TREE, "", "0")  # the page was loaded before the draft existed
    assert r.status_code == 409
    assert MenuVersion.objects.get().revision == 3


def test_a_published_draft_is_followed_by_a_new_draft_not_a_conflict(
    signed_in: Client, city_account: Account
) -> None:
    MenuVersion.objects.create(
        account=city_account, number=1, tree=TREE, status=MenuVersion.Status.PUBLISHED
    )
    assert save(signed_in, TREE, "1", "4").status_code == 302
    assert list(MenuVersion.objects.values_list("number", "status", "revision")) == [
        (2, "draft", 0),
        (1, "published", 0),
    ]


def test_a_bracket_in_a_url_is_refused_not_a_server_error(signed_in: Client) -> None:
    tree = {"button": [{"name": "网页", "kind": "url", "url": "http://[abc/x"}]}
    r = save(signed_in, tree, "", "0")
    assert r.status_code == 400
    assert r.context["error"] == (
        "「网页」的链接：网址格式不正确：http://[abc/x / malformed URL: 'http://[abc/x'"
    )
    assert not MenuVersion.objects.exists()


def test_an_interrupted_publish_is_shown_with_a_republish_button(
    signed_in: Client, city_account: Account
) -> None:
    started = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    MenuVersion.objects.create(
        account=city_account,
        number=1,
        tree=TREE,
        status=MenuVersion.Status.PUBLISHING,
        publish_started_at=started,
        menuids=["208000001"],
    )
    with time_machine.travel(started + timedelta(seconds=119), tick=False):
        html = signed_in.get("/services/menu/versions/").content.decode()
    assert "发布中…" in html
    assert "发布中断" not in html and "/republish/" not in html
    with time_machine.travel(started + timedelta(seconds=120), tick=False):
        html = signed_in.get("/services/menu/versions/").content.decode()
    assert '<span class="tag tag-warn interrupted">发布中断</span>' in html
    version = MenuVersion.objects.get()
    assert f'action="/services/menu/versions/{version.pk}/republish/"' in html
    assert "menuid 208000001" in html


def test_the_versions_page_lists_status_and_wechats_error(
    signed_in: Client, city_account: Account
) -> None:
    MenuVersion.objects.create(
        account=city_account,
        number=1,
        tree=TREE,
        status=MenuVersion.Status.FAILED,
        error="微信返回错误 45159：invalid tag id / WeChat errcode 45159: invalid tag id",
    )
    r = signed_in.get("/services/menu/versions/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-version="1" data-status="failed"' in html
    assert "微信返回错误 45159：invalid tag id" in html


def test_publishing_an_invalid_version_names_the_rule(
    signed_in: Client, city_account: Account
) -> None:
    tree = {"button": [{"name": "办事", "kind": "service", "service": "GONE"}]}
    version = MenuVersion.objects.create(account=city_account, number=1, tree=tree)
    r = signed_in.post(f"/services/menu/versions/{version.pk}/publish/", follow=True)
    assert [str(m) for m in r.context["messages"]] == [
        "「办事」的服务事项「GONE」不在本公众号的服务目录中 / "
        "「办事」: service 'GONE' is not in this account's catalogue"
    ]
    version.refresh_from_db()
    assert (version.status, version.compiled) == (MenuVersion.Status.DRAFT, {})


def test_another_accounts_version_is_not_found(signed_in: Client, other_account: Account) -> None:
    version = MenuVersion.objects.create(account=other_account, number=1, tree=TREE)
    assert signed_in.post(f"/services/menu/versions/{version.pk}/publish/").status_code == 404
    assert signed_in.post(f"/services/menu/versions/{version.pk}/restore/").status_code == 404


def test_the_builder_says_what_answers_each_click_key(
    signed_in: Client, city_account: Account
) -> None:
    from govwx.replies.models import Reply
    from govwx.replies.services import ReplyInput, set_menu_handoff, set_trigger_replies
    from govwx.services.menu import click_answers

    set_trigger_replies(
        city_account,
        Reply.Trigger.CLICK,
        [
            ReplyInput(
                "text", {"content": "12345 政务服务便民热线 24 小时受理咨询、求助、投诉、建议。"}
            )
        ],
        click_key="MENU_HOTLINE",
    )
    set_trigger_replies(
        city_account,
        Reply.Trigger.CLICK,
        [ReplyInput("text", {"content": "请描述您要投诉的问题"})],
        click_key="MENU_COMPLAINT",
    )
    set_menu_handoff(city_account, ["MENU_COMPLAINT", "MENU_HELP"])
    assert click_answers(city_account) == {
        "MENU_HOTLINE": "12345 政务服务便民热线 24 小时受理咨询、求助、投…",
        "MENU_COMPLAINT": "请描述您要投诉的问题 · 转人工",
        "MENU_HELP": "转人工",
    }
    page = signed_in.get("/services/menu/")
    assert page.context["setup"]["click_answers"] == click_answers(city_account)
    assert '<option value="MENU_HELP" label="转人工"></option>' in page.content.decode()


def test_a_crafted_kind_or_revision_is_refused_not_a_500(signed_in: Client) -> None:
    bad = {"button": [{"name": "x", "kind": ["hub"]}]}
    r = signed_in.post("/services/menu/", {"tree": json.dumps(bad), "conditional": "[]"})
    assert r.status_code == 400 and "不受支持" in r.context["error"]
    r = signed_in.post("/services/menu/", {"tree": json.dumps(TREE), "conditional": "[]"})
    assert r.status_code == 302
    r = signed_in.post(
        "/services/menu/",
        {"tree": json.dumps(TREE), "conditional": "[]", "draft": "1", "revision": "abc"},
    )
    assert r.status_code == 409
    assert MenuVersion.objects.get().revision == 0
