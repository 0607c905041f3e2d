"""Test data for the settings pages: an account placed in a city, its admin, a
supervisor, and an outsider who is the admin of another account of another city."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from openpyxl import Workbook

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.conftest import make_account


@dataclass
class Org:
    account: Account
    city: Organisation
    admin: Any
    supervisor: Any
    other: Account
    outsider: Any


def make_org(account: Account, django_user_model: Any) -> Org:
    city = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=city)
    account.refresh_from_db()
    admin = django_user_model.objects.create_user(
        "acctadmin", password="pw-admin-1", email="admin@example.gov.cn"
    )
    add_member(account, admin, Membership.Role.ADMIN)
    supervisor = django_user_model.objects.create_user("leader", password="pw-leader-1")
    add_member(account, supervisor, Membership.Role.SUPERVISOR)
    elsewhere = Organisation.objects.create(name="另一个市人民政府", level="city")
    other = make_account("wx00000000000000ff", name="另一个市发布")
    Account.objects.filter(pk=other.pk).update(organisation=elsewhere)
    other.refresh_from_db()
    outsider = django_user_model.objects.create_user("outsider", password="pw-outsider-1")
    add_member(other, outsider, Membership.Role.ADMIN)
    return Org(account, city, admin, supervisor, other, outsider)


def dept(org: Org, name: str, parent: Department | None = None, **kw: Any) -> Department:
    return Department.objects.create(organisation=org.city, name=name, parent=parent, **kw)


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def fingerprint() -> tuple[Any, ...]:
    """Every govwx table's rows and every department's fields: what a refusal must leave."""
    counts = tuple(
        m._default_manager.count() for m in apps.get_models() if m.__module__.startswith("govwx.")
    )
    depts = tuple(
        Department.objects.order_by("pk").values_list(
            "pk", "name", "short_name", "parent_id", "working_hours", "retired_at"
        )
    )
    roles = tuple(Membership.objects.order_by("pk").values_list("pk", "role", "department_id"))
    return counts, depts, roles
