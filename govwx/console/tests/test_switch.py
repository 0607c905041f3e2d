from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.accounts.access import SESSION_KEY
from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member

pytestmark = pytest.mark.django_db


def test_it_switches_between_the_users_accounts(
    client: Client, operator: Any, account: Account, other_account: Account
) -> None:
    add_member(other_account, operator, Membership.Role.ADMIN)
    client.force_login(operator)
    assert client.get("/").context["account"] == account
    body = client.get("/").content.decode()
    assert "另一个县发布" in body  # offered in the switcher
    r = client.post("/account/switch/", {"account": other_account.pk, "next": "/messages/"})
    assert r.status_code == 302
    assert r["Location"] == "/messages/"
    assert client.session[SESSION_KEY] == other_account.pk
    assert client.get("/").context["account"] == other_account


def test_it_refuses_to_switch_an_outsider_into_another_account(
    client: Client, outsider: Any, account: Account, other_account: Account
) -> None:
    client.force_login(outsider)
    client.get("/")
    r = client.post("/account/switch/", {"account": account.pk})
    assert r.status_code == 403
    assert SESSION_KEY not in client.session
    assert client.get("/").context["account"] == other_account
    # and the switcher does not offer it
    assert "示例市发布" not in client.get("/").content.decode()


def test_it_answers_404_for_an_unknown_account(client: Client, operator: Any) -> None:
    client.force_login(operator)
    assert client.post("/account/switch/", {"account": 999999}).status_code == 404
    assert client.post("/account/switch/", {"account": "x"}).status_code == 404


def test_it_does_not_redirect_off_site(client: Client, operator: Any, account: Account) -> None:
    client.force_login(operator)
    r = client.post("/account/switch/", {"account": account.pk, "next": "https://evil.example/"})
    assert r["Location"] == "/"


def test_it_needs_a_login_and_a_post(client: Client, operator: Any, account: Account) -> None:
    r = client.post("/account/switch/", {"account": account.pk})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    client.force_login(operator)
    assert client.get("/account/switch/").status_code == 405


def test_a_superuser_sees_every_account(
    client: Client, account: Account, other_account: Account, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root)
    body = client.get("/").content.decode()
    assert "示例市发布" in body and "另一个县发布" in body
    assert 'href="/admin/"' in body
    client.post("/account/switch/", {"account": other_account.pk})
    assert client.get("/").context["account"] == other_account
