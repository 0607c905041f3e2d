"""The account's own settings page (settings → 公众号) and a new account in the console:
the admin edits, the supervisor reads, the AppSecret is write-only and stored
encrypted, bad input is refused in words with nothing changed, and only the
installation's superuser creates an account, becoming its admin and landing on it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership, Organisation
from govwx.accounts.services import add_member

pytestmark = pytest.mark.django_db

NEW_KEY = "B" * 43
GOOD = {
    "name": "示例市发布（新）",
    "kind": "service",
    "positioning": "示例市政府信息发布",
    "appid": "wx00000000000000aa",
    "app_secret": "",
    "original_id": "gh_000000000aaa",
    "token": "NewToken2026",
    "aes_key": NEW_KEY,
    "mode": "safe",
}


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stored_secret(account: Account) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT app_secret FROM accounts_account WHERE id = %s", [account.pk])
        return str(cur.fetchone()[0])


def test_the_admin_sees_the_server_configuration(account: Account, account_admin: Any) -> None:
    r = as_user(account_admin).get("/settings/account/")
    assert r.status_code == 200
    html = r.content.decode()
    assert f"/wx/{account.appid}/callback</code>" in html
    assert f'id="server-token">{account.token}<' in html
    assert f'id="server-aes-key">{account.aes_key}<' in html
    assert "安全模式" in html
    assert account.app_secret not in html  # write-only: never in the page
    tabs = html[html.index('<nav class="subnav"') :]
    assert tabs.index('href="/settings/account/"') < tabs.index('href="/settings/departments/"')


def test_the_admin_changes_the_settings_and_the_secret_is_kept(
    account: Account, account_admin: Any
) -> None:
    secret = account.app_secret
    r = as_user(account_admin).post("/settings/account/", GOOD)
    assert r.status_code == 302 and r["Location"] == "/settings/account/"
    account.refresh_from_db()
    assert (account.name, account.appid, account.token, account.aes_key, account.kind) == (
        "示例市发布（新）", "wx00000000000000aa", "NewToken2026", NEW_KEY, "service"
    )  # fmt: skip
    assert account.app_secret == secret  # blank: kept
    event = AuditEvent.objects.get(name="account.updated")
    assert event.actor == account_admin and event.account == account
    assert "app_secret" not in event.data["fields"] and "token" in event.data["fields"]
    assert "NewToken2026" not in str(event.data)  # names of fields, never the secrets


def test_a_new_secret_replaces_the_old_one_encrypted(account: Account, account_admin: Any) -> None:
    r = as_user(account_admin).post(
        "/settings/account/", {**GOOD, "appid": account.appid, "app_secret": "brand-new-secret-9"}
    )
    assert r.status_code == 302
    account.refresh_from_db()
    assert account.app_secret == "brand-new-secret-9"
    assert "brand-new-secret-9" not in stored_secret(account)
    assert "app_secret" in AuditEvent.objects.get(name="account.updated").data["fields"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("appid", "wx123", "AppID 格式不正确：应为 wx 加 16 位十六进制字符"),
        ("token", "ab", "Token 必须是 3–32 位字母或数字"),
        ("token", "有空格 token", "Token 必须是 3–32 位字母或数字"),
        ("aes_key", "short", "EncodingAESKey 必须是 43 位字母或数字"),
        ("aes_key", "", "安全模式和兼容模式必须填写 EncodingAESKey"),
        ("original_id", "abc", "原始ID 应为 gh_ 加 12 位十六进制字符"),
        ("name", " ", "请填写公众号名称"),
    ],
)
def test_bad_input_is_refused_in_words_and_changes_nothing(
    account: Account, account_admin: Any, field: str, value: str, message: str
) -> None:
    before = Account.objects.values().get(pk=account.pk)
    r = as_user(account_admin).post("/settings/account/", {**GOOD, field: value})
    assert r.status_code == 200
    assert message in r.content.decode()
    assert Account.objects.values().get(pk=account.pk) == before
    assert not AuditEvent.objects.filter(name="account.updated").exists()


def test_an_appid_already_registered_is_refused(
    account: Account, other_account: Account, account_admin: Any
) -> None:
    before = Account.objects.values().get(pk=account.pk)
    r = as_user(account_admin).post("/settings/account/", {**GOOD, "appid": other_account.appid})
    assert r.status_code == 200
    assert f"AppID {other_account.appid} 已被另一个公众号登记" in r.content.decode()
    assert Account.objects.values().get(pk=account.pk) == before


def test_the_supervisor_reads_without_the_secrets_and_cannot_change(
    account: Account, django_user_model: Any
) -> None:
    leader = django_user_model.objects.create_user("leader")
    add_member(account, leader, Membership.Role.SUPERVISOR)
    client = as_user(leader)
    html = client.get("/settings/account/").content.decode()
    assert f"/wx/{account.appid}/callback" in html and 'id="read-only"' in html
    assert account.token not in html and account.aes_key not in html
    assert 'id="account-form"' not in html
    before = Account.objects.values().get(pk=account.pk)
    assert client.post("/settings/account/", GOOD).status_code == 403
    assert Account.objects.values().get(pk=account.pk) == before


def test_the_service_refuses_a_supervisor(account: Account, django_user_model: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from govwx.accounts.services import AccountInput, update_account

    leader = django_user_model.objects.create_user("leader")
    add_member(account, leader, Membership.Role.SUPERVISOR)
    data = AccountInput(name="改名", appid=account.appid, app_secret="", token="abc123")
    before = Account.objects.values().get(pk=account.pk)
    with pytest.raises(PermissionDenied):
        update_account(account, data, actor=leader)
    assert Account.objects.values().get(pk=account.pk) == before


def test_an_operator_may_not_open_it(account: Account, operator: Any) -> None:
    assert as_user(operator).get("/settings/account/").status_code == 403


def test_a_member_of_another_account_sees_only_their_own(
    account: Account, other_account: Account, django_user_model: Any
) -> None:
    account.token = "OnlyTheFirstOne1"
    account.save()
    other_admin = django_user_model.objects.create_user("otheradmin")
    add_member(other_account, other_admin, Membership.Role.ADMIN)
    client = as_user(other_admin)
    # even with the session pointing at an account that is not theirs
    session = client.session
    session["console_account_id"] = account.pk
    session.save()
    html = client.get("/settings/account/").content.decode()
    assert other_account.appid in html and other_account.name in html
    assert account.appid not in html and account.token not in html
    before = Account.objects.values().get(pk=account.pk)
    client.post("/settings/account/", {**GOOD, "appid": other_account.appid})
    assert Account.objects.values().get(pk=account.pk) == before


# ---------------------------------------------------------------- a new account

NEW = {
    **GOOD,
    "app_secret": "first-secret-1",
    "organisation": "",
    "organisation_name": "示例县人民政府",
    "organisation_level": "county",
}


def test_a_superuser_without_accounts_is_offered_to_create_one(django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", password="pw-root-1")
    r = as_user(root).get("/")
    assert "console/no_account.html" in [t.name for t in r.templates]
    assert 'href="/settings/account/new/"' in r.content.decode()


def test_a_superuser_creates_an_account_becomes_its_admin_and_lands_on_it(
    account: Account, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", password="pw-root-1")
    client = as_user(root)
    assert client.get("/settings/account/new/").status_code == 200
    r = client.post("/settings/account/new/", NEW)
    assert r.status_code == 302 and r["Location"] == "/settings/account/"
    new = Account.objects.get(appid=NEW["appid"])
    assert new.organisation is not None and new.organisation.name == "示例县人民政府"
    assert new.app_secret == "first-secret-1" and "first-secret-1" not in stored_secret(new)
    assert Membership.objects.get(user=root, account=new).role == "admin"
    page = client.get("/settings/account/").content.decode()
    assert f"/wx/{new.appid}/callback" in page  # the current account is the new one
    names = set(AuditEvent.objects.values_list("name", flat=True))
    assert {"organisation.created", "account.created", "membership.saved"} <= names


def test_a_new_account_may_join_an_existing_organisation(django_user_model: Any) -> None:
    city = Organisation.objects.create(name="示例市人民政府", level="city")
    root = django_user_model.objects.create_superuser("root")
    r = as_user(root).post("/settings/account/new/", {**NEW, "organisation": city.pk})
    assert r.status_code == 302
    assert Account.objects.get(appid=NEW["appid"]).organisation == city
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"appid": "wx-not-an-appid"}, "AppID 格式不正确"),
        ({"token": "x"}, "Token 必须是 3–32 位字母或数字"),
        ({"aes_key": "A" * 42}, "EncodingAESKey 必须是 43 位字母或数字"),
        ({"app_secret": ""}, "请填写 AppSecret"),
        ({"organisation_name": ""}, "请填写主办组织的名称"),
    ],
)
def test_a_new_account_with_bad_input_is_refused(
    django_user_model: Any, changes: dict[str, str], message: str
) -> None:
    root = django_user_model.objects.create_superuser("root")
    r = as_user(root).post("/settings/account/new/", {**NEW, **changes})
    assert r.status_code == 200 and message in r.content.decode()
    assert not Account.objects.exists() and not Organisation.objects.exists()
    assert not Membership.objects.exists()


def test_a_new_account_with_an_appid_already_registered_is_refused(
    account: Account, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root")
    r = as_user(root).post("/settings/account/new/", {**NEW, "appid": account.appid})
    assert f"AppID {account.appid} 已被另一个公众号登记" in r.content.decode()
    assert Account.objects.count() == 1 and not Organisation.objects.exists()


def test_only_a_superuser_creates_an_account(
    account: Account, account_admin: Any, django_user_model: Any
) -> None:
    nobody = django_user_model.objects.create_user("nobody")
    for user in (account_admin, nobody):
        client = as_user(user)
        r = client.get("/settings/account/new/")
        assert r.status_code == 403
        assert "只有平台管理员（超级用户）可以新建公众号" in r.content.decode()
        assert client.post("/settings/account/new/", NEW).status_code == 403
    assert Account.objects.count() == 1 and not Organisation.objects.exists()
    assert (
        'id="new-account"' not in as_user(account_admin).get("/settings/account/").content.decode()
    )
    assert Client().get("/settings/account/new/").status_code == 302  # the login page
