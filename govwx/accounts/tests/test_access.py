"""The console's current account, for every role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from govwx.accounts.access import SESSION_KEY
from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.console.tests.staff import open_case
from govwx.desk.models import Case, Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", Membership.Role.values)
def test_every_role_has_a_current_account(
    role: str, client: Client, account: Account, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("someone")
    dept = None
    if role == Membership.Role.LIAISON:
        org = Organisation.objects.create(name="示例市人民政府", level="city")
        Account.objects.filter(pk=account.pk).update(organisation=org)
        account.refresh_from_db()
        dept = Department.objects.create(organisation=org, name="市人社局")
    add_member(account, user, role, department=dept)
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 200 and r.context["account"] == account


def test_a_liaison_lands_on_the_account_where_they_have_a_role(
    client: Client, account: Account, other_account: Account, django_user_model: Any
) -> None:
    org = Organisation.objects.create(name="另一个县", level="county")
    Account.objects.filter(pk=other_account.pk).update(organisation=org)
    other_account.refresh_from_db()
    liaison = django_user_model.objects.create_user("hrss")
    add_member(
        other_account,
        liaison,
        Membership.Role.LIAISON,
        department=Department.objects.create(organisation=org, name="县人社局"),
    )
    client.force_login(liaison)
    session = client.session
    session[SESSION_KEY] = account.pk  # a forged or stale choice: not theirs
    session.save()
    r = client.get("/desk/cases/")
    assert r.status_code == 200 and r.context["account"] == other_account


def test_a_removed_role_falls_back_to_another_account(
    client: Client, operator: Any, account: Account, other_account: Account
) -> None:
    add_member(other_account, operator, Membership.Role.EDITOR)
    client.force_login(operator)
    client.post("/account/switch/", {"account": other_account.pk})
    assert client.get("/").context["account"] == other_account
    Membership.objects.filter(user=operator, account=other_account).delete()
    assert client.get("/").context["account"] == account


def test_a_case_link_opens_on_the_cases_account_with_the_role_held_there(
    client: Client, account: Account, other_account: Account, django_user_model: Any
) -> None:
    """An editor on the current account, an operator on the case's: the case page opens
    (on the case's account, now the current one); with no role there: refused."""
    person = django_user_model.objects.create_user("both")
    add_member(account, person, Membership.Role.EDITOR)
    add_member(other_account, person, Membership.Role.OPERATOR)
    case = open_case(other_account, "o-elsewhere")
    client.force_login(person)
    client.post("/account/switch/", {"account": account.pk})
    assert client.get("/desk/cases/").status_code == 403  # an editor has no cases
    r = client.get(f"/desk/cases/{case.pk}/")
    assert r.status_code == 200 and r.context["case"] == case
    assert client.session[SESSION_KEY] == other_account.pk
    assert client.get("/desk/cases/").status_code == 200
    Membership.objects.filter(user=person, account=other_account).delete()
    client.post("/account/switch/", {"account": account.pk})
    assert client.get(f"/desk/cases/{case.pk}/").status_code == 403
    Membership.objects.filter(user=person, account=account).update(role="operator")
    assert client.get(f"/desk/cases/{case.pk}/").status_code == 404  # not theirs
    assert Case.objects.get(pk=case.pk).status == Status.NEW
