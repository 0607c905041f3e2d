"""Login throttling: the eleventh password is refused after ten wrong ones, per user name
and per address; the person is told in words; the account's admin sees the lockouts of
the account's members (设置 › 登录锁定) and lifts them, on the record."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member

pytestmark = pytest.mark.django_db
LOCKED = "登录失败次数过多"


def login(client: Client, username: str, password: str, ip: str = "203.0.113.7") -> Any:
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def supervisor(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("lead", password="pw-lead-1")
    add_member(account, user, Membership.Role.SUPERVISOR)
    return user


def test_ten_wrong_passwords_then_the_right_one_is_refused_until_the_admin_lifts_it(
    client: Client, operator: Any, account_admin: Any, account: Account
) -> None:
    for _ in range(9):
        r = login(client, "operator", "wrong")
        assert r.status_code == 200 and "用户名或密码不正确" in r.content.decode()
    r = login(client, "operator", "wrong")  # the tenth
    assert r.status_code == 429 and LOCKED in r.content.decode()
    r = login(client, "operator", "pw-operator-1")  # the eleventh, the right password
    page = r.content.decode()
    assert r.status_code == 429 and not logged_in(client)
    assert "已被暂停登录 30 分钟" in page and "设置 › 登录锁定" in page
    assert 'value="operator"' in page  # the login page, with what the person typed

    admin = Client()
    admin.force_login(account_admin)
    page = admin.get("/settings/lockouts/").content.decode()
    assert 'data-username="operator"' in page and "已锁定，至" in page
    assert "203.0.113.7" in page and 'id="lift-operator"' in page
    r = admin.post("/settings/lockouts/lift/", {"username": "operator"}, follow=True)
    assert "已解除 operator 的登录锁定（清除 11 次失败记录）" in r.content.decode()
    assert not AccessAttempt.objects.exists()
    event = AuditEvent.objects.get(name="login.lockout_lifted")
    assert (event.account, event.actor, event.data) == (
        account,
        account_admin,
        {"username": "operator", "failures": 11},
    )

    r = login(client, "operator", "pw-operator-1")
    assert r.status_code == 302 and logged_in(client)


def test_one_address_is_locked_at_its_own_limit_whatever_user_names_it_tries(
    client: Client, operator: Any, account_admin: Any
) -> None:
    # colleagues behind one address: ten mistakes among them lock none of the others
    for i in range(10):
        login(client, f"colleague{i}", "wrong", ip="198.51.100.9")
    r = login(client, "operator", "pw-operator-1", ip="198.51.100.9")
    assert r.status_code == 302 and logged_in(client)
    client.logout()
    # fifty, with a successful login between them (which forgets its own name's only)
    for i in range(39):
        login(client, f"guess{i}", "wrong", ip="198.51.100.9")
    assert login(client, "acctadmin", "pw-admin-1", ip="198.51.100.9").status_code == 302
    client.logout()
    r = login(client, "guess-last", "wrong", ip="198.51.100.9")  # the fiftieth
    assert r.status_code == 429
    r = login(client, "operator", "pw-operator-1", ip="198.51.100.9")
    assert r.status_code == 429 and not logged_in(client)
    # the admin sees why: the member's address, not her name
    admin = Client()
    admin.force_login(account_admin)
    page = admin.get("/settings/lockouts/").content.decode()
    assert 'data-username="operator"' in page and "所在地址已暂停登录" in page
    assert '<code>198.51.100.9</code> <span class="tag tag-warn address-locked">' in page
    # the same person from another address is not locked
    r = login(client, "operator", "pw-operator-1", ip="198.51.100.10")
    assert r.status_code == 302 and logged_in(client)


def test_a_right_password_before_the_limit_forgets_the_failures(
    client: Client, operator: Any
) -> None:
    for _ in range(9):
        login(client, "operator", "wrong")
    assert login(client, "operator", "pw-operator-1").status_code == 302
    assert not AccessAttempt.objects.filter(username="operator").exists()


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(
    client: Client, operator: Any, settings: Any
) -> None:
    settings.GOVWX_PROXY_COUNT = 1
    for i in range(10):  # ten clients behind one proxy (127.0.0.1): none locks the others
        client.post(
            "/login/",
            {"username": "operator", "password": "wrong"}
            if i == 0
            else {"username": f"x{i}", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.9.9.9, 192.0.2.{i}",  # what a client wrote comes first
        )
    assert sorted(AccessAttempt.objects.values_list("ip_address", flat=True)) == sorted(
        f"192.0.2.{i}" for i in range(10)
    )
    r = client.post(
        "/login/",
        {"username": "operator", "password": "pw-operator-1"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.50",
    )
    assert r.status_code == 302


def test_the_page_shows_only_the_accounts_own_members(
    client: Client,
    operator: Any,
    outsider: Any,
    account_admin: Any,
    supervisor: Any,
) -> None:
    for _ in range(3):
        login(client, "outsider", "wrong")
    login(client, "operator", "wrong")
    client.force_login(account_admin)
    page = client.get("/settings/lockouts/").content.decode()
    assert 'data-username="operator"' in page and "未锁定（已失败 1 次）" in page
    assert "outsider" not in page
    # the admin of one account cannot lift another account's member: nothing changes
    r = client.post("/settings/lockouts/lift/", {"username": "outsider"}, follow=True)
    assert "该用户不是本公众号的成员" in r.content.decode()
    assert AccessAttempt.objects.filter(username="outsider").count() == 1
    assert not AuditEvent.objects.filter(name="login.lockout_lifted").exists()

    # a supervisor sees the page read-only and may not lift
    client.force_login(supervisor)
    page = client.get("/settings/lockouts/").content.decode()
    assert 'data-username="operator"' in page and "lift-operator" not in page
    assert "只有管理员可以解除锁定" in page
    r = client.post("/settings/lockouts/lift/", {"username": "operator"})
    assert r.status_code == 403
    assert AccessAttempt.objects.filter(username="operator").exists()

    # the other account's admin sees its own member, not this account's
    client.force_login(outsider)
    assert client.get("/settings/lockouts/").status_code == 403  # an operator there


def test_anonymous_goes_to_login(client: Client) -> None:
    r = client.get("/settings/lockouts/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
