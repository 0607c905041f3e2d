"""Test data for the role tests: a person of every role on an account, and cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services as desk
from govwx.desk.models import Case
from govwx.wechat.models import InboundMessage

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 3, 10, tzinfo=SH)  # a Tuesday, in a confirmed calendar year


def open_case(account: Account, openid: str, text: str = "社保断缴怎么补") -> Case:
    msg = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{openid}",
        msg_type="text",
        content=text,
        sent_at=NOW,
        received_at=NOW,
        handled_by="desk",
    )
    return desk.intake(msg.pk)


def make_staff(account: Account, django_user_model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    depts = {
        n: Department.objects.create(organisation=org, name=n) for n in ("人社", "城管", "教育")
    }
    users: dict[str, Any] = {}
    for role in Membership.Role.values:
        users[role] = django_user_model.objects.create_user(f"r-{role}")
        dept = depts["人社"] if role == Membership.Role.LIAISON else None
        add_member(account, users[role], role, department=dept)
    users["superuser"] = django_user_model.objects.create_superuser("r-root", password=None)
    return users, depts
