"""Those who oversee an account (带班领导, admin: `alerts.account`) see its alerts on the
alerts page, read-only: only the people an alert went to confirm it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.team.models import Alert
from govwx.team.services import raise_alert

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 3, 9, tzinfo=SH)


@pytest.fixture
def people(account: Account, other_account: Account, django_user_model: Any) -> dict[str, Any]:
    make = django_user_model.objects.create_user
    found = {
        "duty": make("duty"),
        "leader": make("leader", first_name="带班领导"),
        "editor": make("bj"),
        "root": django_user_model.objects.create_superuser("root", password=None),
    }
    add_member(account, found["duty"], Membership.Role.OPERATOR)
    add_member(account, found["leader"], Membership.Role.SUPERVISOR)
    add_member(account, found["editor"], Membership.Role.EDITOR)
    return found


def alerts_page(user: Any) -> str:
    client = Client()
    client.force_login(user)
    r = client.get("/team/alerts/")
    assert r.status_code == 200
    return r.content.decode()


def test_the_leader_sees_the_accounts_alerts_and_cannot_confirm_them(
    account: Account, other_account: Account, people: dict[str, Any]
) -> None:
    alert = raise_alert(account, Alert.Kind.NEW_CASE, "case:1", "新诉求 #1：路灯不亮", at=AT,
                        to=[people["duty"]])  # fmt: skip
    elsewhere = raise_alert(other_account, Alert.Kind.NEW_CASE, "case:2", "别的号的诉求", at=AT)
    assert alert is not None and elsewhere is not None
    for who in ("leader", "root"):
        page = alerts_page(people[who])
        assert f'data-alert="{alert.pk}"' in page and "新诉求 #1：路灯不亮" in page
        assert f'id="ack-{alert.pk}"' not in page and "待值班人员确认" in page
        assert 'id="alerts-scope"' in page
    # another account's alert is not the leader's (the superuser got it: nobody else there)
    assert "别的号的诉求" not in alerts_page(people["leader"])
    # the person it went to confirms it; the page then says who
    duty = alerts_page(people["duty"])
    assert f'id="ack-{alert.pk}"' in duty and 'id="alerts-scope"' not in duty
    client = Client()
    client.force_login(people["leader"])
    assert client.post(f"/team/alerts/{alert.pk}/ack/").status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    client.force_login(people["duty"])
    client.post(f"/team/alerts/{alert.pk}/ack/")
    assert "已确认 · duty" in alerts_page(people["leader"])


def test_others_see_only_their_own_alerts(account: Account, people: dict[str, Any]) -> None:
    raise_alert(account, Alert.Kind.NEW_CASE, "case:1", "新诉求 #1：路灯不亮", at=AT,
                to=[people["duty"]])  # fmt: skip
    page = alerts_page(people["editor"])
    assert "新诉求 #1" not in page and "没有提醒" in page
