"""Roles set in the Django admin: validated and audited as `add_member` does."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Department, Membership, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client: Client, account: Account, django_user_model: Any) -> dict[str, Any]:
    root = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(root)
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    elsewhere = Organisation.objects.create(name="另一个市", level="city")
    return {
        "person": django_user_model.objects.create_user("hrss"),
        "dept": Department.objects.create(organisation=org, name="市人社局"),
        "foreign": Department.objects.create(organisation=elsewhere, name="外市人社局"),
    }


def post(client: Client, account: Account, person: Any, role: str, dept: Any = None) -> Any:
    return client.post(
        "/admin/accounts/membership/add/",
        {
            "user": person.pk,
            "account": account.pk,
            "role": role,
            "department": dept.pk if dept else "",
        },
    )


def test_a_liaison_needs_a_department_of_the_accounts_organisation(
    client: Client, account: Account, setup: dict[str, Any]
) -> None:
    r = post(client, account, setup["person"], "liaison")
    assert r.status_code == 200
    assert "部门联络员必须指定部门 / a liaison needs a department" in r.content.decode()
    r = post(client, account, setup["person"], "liaison", setup["foreign"])
    assert r.status_code == 200
    assert "部门不属于该公众号的主办组织" in r.content.decode()
    assert not Membership.objects.filter(user=setup["person"]).exists()
    assert not AuditEvent.objects.filter(name="membership.saved").exists()
    r = post(client, account, setup["person"], "liaison", setup["dept"])
    assert r.status_code == 302
    m = Membership.objects.get(user=setup["person"])
    assert (m.role, m.department) == ("liaison", setup["dept"])


def test_other_roles_act_for_no_department_and_changes_are_audited(
    client: Client, account: Account, setup: dict[str, Any]
) -> None:
    assert post(client, account, setup["person"], "editor", setup["dept"]).status_code == 302
    m = Membership.objects.get(user=setup["person"])
    assert (m.role, m.department) == ("editor", None)
    event = AuditEvent.objects.get(name="membership.saved")
    assert event.account == account and event.data == {
        "user": setup["person"].pk,
        "role": "editor",
        "department": None,
        "via": "admin",
    }
    r = client.post(f"/admin/accounts/membership/{m.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302 and not Membership.objects.filter(pk=m.pk).exists()
    assert AuditEvent.objects.get(name="membership.removed").data["role"] == "editor"


def test_the_accounts_inline_checks_roles_too(
    client: Client, account: Account, setup: dict[str, Any]
) -> None:
    page = client.get(f"/admin/accounts/account/{account.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": setup["person"].pk,
            "memberships-0-role": "liaison",
            "memberships-0-department": setup["foreign"].pk,
        }
    )
    url = f"/admin/accounts/account/{account.pk}/change/"
    r = client.post(url, data)
    assert r.status_code == 200 and "部门不属于该公众号的主办组织" in r.content.decode()
    assert not Membership.objects.filter(user=setup["person"]).exists()
    data["memberships-0-department"] = setup["dept"].pk
    assert client.post(url, data).status_code == 302
    assert Membership.objects.get(user=setup["person"]).department == setup["dept"]
    assert AuditEvent.objects.filter(name="membership.saved", account=account).count() == 1
