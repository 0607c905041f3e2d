"""The builder's pages: saving a draft, the rule shown for a refused menu, the versions,
the tags endpoint without a WeChat call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account
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
    assert signed_in.get("/services/menu/tags/").json() == {"tags": [], "error": ""}


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
