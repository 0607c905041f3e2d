"""Alerts go to whoever is on duty, and up the chain while nobody acknowledges them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.desk import services as desk
from govwx.team import services
from govwx.team.models import Alert, Rota, ShiftPattern
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def crew(account: Account, django_user_model: Any) -> dict[str, Any]:
    make = django_user_model.objects.create_user
    people = {"night": make("night-op"), "leader": make("leader"), "boss": make("boss")}
    add_member(account, people["boss"], Membership.Role.SUPERVISOR)
    add_member(account, people["night"], Membership.Role.OPERATOR)
    add_member(account, people["leader"], Membership.Role.OPERATOR)
    rota = Rota.objects.create(name="值班")
    rota.accounts.add(account)
    ShiftPattern.objects.create(rota=rota, name="全天", start=time(0), hours=24)
    ShiftPattern.objects.create(rota=rota, name="带班", start=time(0), hours=24, layer="leader")
    services.generate(
        rota, date(2026, 11, 2), 3, {"operator": [people["night"]], "leader": [people["leader"]]}
    )
    return people


def new_case_at(account: Account, when: datetime) -> Any:
    with time_machine.travel(when, tick=False):
        now = datetime.now(UTC)
        msg = InboundMessage.objects.create(
            account=account,
            openid="o3am",
            dedup_key="m:3am",
            msg_type="text",
            content="凌晨三点，小区水管爆了",
            sent_at=now,
            received_at=now,
            handled_by="desk",
        )
        return desk.intake(msg.pk)


def test_a_case_at_three_in_the_night_escalates_until_acknowledged(
    account: Account, crew: dict[str, Any]
) -> None:
    at = datetime(2026, 11, 3, 3, 0, tzinfo=SH)
    case = new_case_at(account, at)
    alert = Alert.objects.get(kind="new_case")
    assert alert.subject == f"case:{case.pk}"
    assert list(alert.recipients.all()) == [crew["night"]]
    assert services.escalate(at + timedelta(minutes=14)) == 0
    assert services.escalate(at + timedelta(minutes=15)) == 1  # to the leader on duty
    alert.refresh_from_db()
    assert alert.level == Alert.Level.LEADER
    assert set(alert.recipients.all()) == {crew["night"], crew["leader"]}
    assert services.escalate(at + timedelta(minutes=30)) == 0  # 30 more minutes for a leader
    assert services.escalate(at + timedelta(minutes=45)) == 1  # to the supervisors
    alert.refresh_from_db()
    assert crew["boss"] in alert.recipients.all() and alert.level == Alert.Level.SUPERVISOR
    services.acknowledge(alert, crew["leader"])
    assert services.escalate(at + timedelta(hours=5)) == 0
    assert list(services.alerts_for(crew["boss"])) == []


def test_an_acknowledged_alert_stops_and_strangers_cannot_acknowledge(
    account: Account, crew: dict[str, Any], operator: Any
) -> None:
    at = datetime(2026, 11, 3, 10, 0, tzinfo=SH)
    new_case_at(account, at)
    alert = Alert.objects.get()
    with pytest.raises(ValidationError):
        services.acknowledge(alert, operator)  # not on duty, not addressed
    services.acknowledge(alert, crew["night"])
    assert services.escalate(at + timedelta(hours=1)) == 0
    # raising the same alert again does nothing
    assert services.raise_alert(account, "new_case", alert.subject, "again") is None


def test_with_nobody_on_duty_the_alert_falls_through(
    account: Account, django_user_model: Any
) -> None:
    boss = django_user_model.objects.create_user("boss2")
    add_member(account, boss, Membership.Role.SUPERVISOR)
    new_case_at(account, datetime(2026, 11, 3, 3, tzinfo=SH))
    assert list(Alert.objects.get().recipients.all()) == [boss]


def test_the_bell_counts_and_the_page_acknowledges(
    client: Client, account: Account, crew: dict[str, Any]
) -> None:
    new_case_at(account, datetime(2026, 11, 3, 3, tzinfo=SH))
    client.force_login(crew["night"])
    page = client.get("/team/alerts/").content.decode()
    assert 'id="bell-count">1<' in page and "凌晨三点" in page
    alert = Alert.objects.get()
    client.post(f"/team/alerts/{alert.pk}/ack/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == crew["night"]
    assert 'id="bell-count"' not in client.get("/team/alerts/").content.decode()
    client.force_login(crew["boss"])  # not a recipient: 404, nothing changes
    assert client.post(f"/team/alerts/{alert.pk}/ack/").status_code == 404


def test_the_page_shows_what_a_burst_is_about(
    client: Client, account: Account, crew: dict[str, Any]
) -> None:
    at = datetime(2026, 11, 3, 3, tzinfo=SH)
    services.raise_alert(
        account, "new_case", "cases:1-312", "5 分钟内新诉求 312 件",
        detail="主要涉及：停水（120）\n例：“幸福小区停水两天了”", link="/desk/cases/?alert={alert}",
        at=at,
    )  # fmt: skip
    with time_machine.travel(at, tick=False):
        client.force_login(crew["night"])
        page = client.get("/team/alerts/").content.decode()
    alert = Alert.objects.get()
    assert f'href="/desk/cases/?alert={alert.pk}"' in page
    assert "主要涉及：停水（120）<br>例：“幸福小区停水两天了”" in page


def test_the_sweep_alerts_once_per_account_not_per_case(
    account: Account, crew: dict[str, Any]
) -> None:
    for i in range(3):
        with time_machine.travel(datetime(2026, 11, 2, 1, tzinfo=SH), tick=False):
            now = datetime.now(UTC)
            msg = InboundMessage.objects.create(
                account=account,
                openid=f"o{i}",
                dedup_key=f"m:s{i}",
                msg_type="text",
                content="咨询",
                sent_at=now,
                received_at=now,
                handled_by="desk",
            )
            desk.intake(msg.pk)
    desk.sweep(datetime(2026, 11, 6, 9, tzinfo=SH))  # 3 working days ended on the 5th
    breach = Alert.objects.get(kind="breach")
    assert breach.text == "3 件诉求已超时" and breach.link == "/desk/cases/?due=breached"


def test_without_rota_or_supervisor_the_operators_get_it(account: Account, operator: Any) -> None:
    new_case_at(account, datetime(2026, 11, 3, 3, tzinfo=SH))
    assert list(Alert.objects.get().recipients.all()) == [operator]


def test_an_account_with_nobody_alerts_the_superusers(
    account: Account, django_user_model: Any
) -> None:
    root = django_user_model.objects.create_superuser("root", "root@example.gov.cn", "pw-root-1")
    django_user_model.objects.create_superuser("gone", "gone@example.gov.cn", "pw", is_active=False)
    django_user_model.objects.create_user("stranger", password="pw-stranger-1")
    new_case_at(account, datetime(2026, 11, 3, 3, tzinfo=SH))
    assert list(Alert.objects.get().recipients.all()) == [root]
