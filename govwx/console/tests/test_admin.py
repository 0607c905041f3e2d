from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account
from govwx.conftest import AES_KEY, TOKEN
from govwx.replies.models import Reply
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule

from .factories import follower, inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(user)
    return user


def test_every_list_page_opens(client: Client, root: Any, account: Account, operator: Any) -> None:
    create_rule(
        account,
        RuleInput(
            name="r",
            keywords=[KeywordInput("k")],
            replies=[ReplyInput(Reply.Kind.TEXT, {"content": "v"})],
        ),
    )
    inbound(account, content="hi")
    follower(account, "o-1")
    for model in (
        "accounts/organisation",
        "accounts/department",
        "accounts/account",
        "accounts/membership",
        "accounts/auditevent",
        "wechat/follower",
        "wechat/inboundmessage",
        "wechat/outboundmessage",
        "replies/rule",
        "replies/keyword",
        "replies/reply",
    ):
        r = client.get(f"/admin/{model}/")
        assert r.status_code == 200, model


def test_it_never_shows_secrets(client: Client, root: Any, account: Account) -> None:
    for url in ("/admin/accounts/account/", f"/admin/accounts/account/{account.pk}/change/"):
        body = client.get(url).content.decode()
        assert account.appid in body
        assert "s3cr3t-" not in body
        assert AES_KEY not in body
        assert f'value="{TOKEN}"' not in body


def test_a_blank_secret_keeps_the_stored_one(client: Client, root: Any, account: Account) -> None:
    r = client.post(
        f"/admin/accounts/account/{account.pk}/change/",
        {
            "name": "改名后",
            "appid": account.appid,
            "original_id": account.original_id,
            "app_secret": "",
            "token": "",
            "aes_key": "",
            "mode": account.mode,
            "kind": account.kind,
            "positioning": "",
            "organisation": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    account.refresh_from_db()
    assert account.name == "改名后"
    assert account.app_secret == "s3cr3t-" + account.appid
    assert account.token == TOKEN
    assert account.aes_key == AES_KEY


def test_the_admin_is_closed_to_operators(client: Client, operator: Any) -> None:
    client.force_login(operator)
    r = client.get("/admin/accounts/account/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
