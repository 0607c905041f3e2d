"""Resolving or closing a case settles the alerts about it: its new-case alert, and the
sweep's 即将超时 / 已超时 alerts, each once nothing it announced is left to do."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from govwx.accounts.models import Account, AuditEvent
from govwx.console.tests.staff import SH, make_staff
from govwx.desk import services
from govwx.desk.models import Case, Rating, Status
from govwx.team.models import Alert
from govwx.team.services import raise_alert
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db
MONDAY = datetime(2026, 11, 2, 9, tzinfo=SH)


@pytest.fixture
def staff(account: Account, django_user_model: Any) -> Any:
    users, depts = make_staff(account, django_user_model)
    return account, users, depts


def case_at(account: Account, openid: str, when: datetime, text: str = "路灯不亮") -> Case:
    with time_machine.travel(when, tick=False):
        now = datetime.now(UTC)
        msg = InboundMessage.objects.create(
            account=account,
            openid=openid,
            dedup_key=f"m:{openid}",
            msg_type="text",
            content=text,
            sent_at=now,
            received_at=now,
            handled_by="desk",
        )
        return services.intake(msg.pk)


def resolve(case: Case, actor: Any) -> Case:
    case.refresh_from_db()
    if case.status == Status.NEW:
        services.take_case(case, revision=case.revision, actor=actor)
    return services.resolve_case(case, revision=case.revision, actor=actor)


def test_resolving_a_case_settles_its_new_case_alert(staff: Any) -> None:
    account, users, _ = staff
    case = case_at(account, "o1", MONDAY)
    services.announce_new_cases(MONDAY)
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE)
    assert alert.subject == f"case:{case.pk}" and alert.acknowledged_at is None
    other = raise_alert(account, Alert.Kind.GAP, "gap:1", "值班空档", at=MONDAY)
    with time_machine.travel(MONDAY.replace(hour=10), tick=False):
        resolve(case, users["operator"])
    alert.refresh_from_db()
    assert alert.acknowledged_at == datetime(2026, 11, 2, 10, tzinfo=SH)
    assert alert.acknowledged_by == users["operator"]
    assert AuditEvent.objects.get(name="alert.settled").data == {
        "alert": alert.pk,
        "kind": "new_case",
        "why": f"case:{case.pk}",
    }
    assert other is not None
    other.refresh_from_db()
    assert other.acknowledged_at is None  # not about the case


def test_a_bursts_alert_waits_for_every_case_it_announced(staff: Any) -> None:
    account, users, _ = staff
    case_at(account, "o0", MONDAY, "停水了")  # announced at once, alone
    services.announce_new_cases(MONDAY)
    first = case_at(account, "o1", MONDAY.replace(minute=2), "停水了")
    second = case_at(account, "o2", MONDAY.replace(minute=3), "停水两天")
    services.announce_new_cases(MONDAY.replace(minute=6))  # the window has passed
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE, subject__startswith="cases:")
    assert alert.text == "6 分钟内新诉求 2 件"
    resolve(first, users["operator"])
    alert.refresh_from_db()
    assert alert.acknowledged_at is None  # the second case is still open
    resolve(second, users["admin"])
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledged_by == users["admin"]


def test_the_sweeps_breach_alert_is_settled_with_its_last_case(staff: Any) -> None:
    account, users, _ = staff
    cases = [case_at(account, f"o{i}", MONDAY.replace(hour=1)) for i in range(2)]
    Case.objects.update(announce_pending=False)
    services.sweep(datetime(2026, 11, 6, 9, tzinfo=SH))  # 3 working days ended on the 5th
    breach = Alert.objects.get(kind=Alert.Kind.BREACH)
    assert breach.text == "2 件诉求已超时"
    resolve(cases[0], users["operator"])
    breach.refresh_from_db()
    assert breach.acknowledged_at is None
    resolve(cases[1], users["operator"])
    breach.refresh_from_db()
    assert breach.acknowledged_by == users["operator"]


def test_closing_settles_what_resolving_left_open(staff: Any) -> None:
    """A case resolved before its alert was raised (or before this rule): closing it
    settles the alert, and the page shows the bell without it."""
    account, users, _ = staff
    case = case_at(account, "o1", MONDAY)
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED, resolved_at=MONDAY)
    services.announce_new_cases(MONDAY)
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE)
    alert.recipients.add(users["operator"])
    client = Client()
    client.force_login(users["operator"])
    assert 'id="bell-count">1<' in client.get("/").content.decode()
    case.refresh_from_db()
    r = client.post(f"/desk/cases/{case.pk}/act/", {"action": "close", "revision": case.revision})
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == users["operator"]
    assert 'id="bell-count"' not in client.get("/").content.decode()


def test_a_satisfied_rating_that_closes_the_case_settles_too(staff: Any) -> None:
    account, _, _ = staff
    case = case_at(account, "o1", MONDAY)
    Case.objects.filter(pk=case.pk).update(status=Status.RESOLVED, resolved_at=MONDAY)
    services.announce_new_cases(MONDAY)
    case.refresh_from_db()
    services.rate_case(services.rating_url(case).rsplit("/", 2)[-2], Rating.Score.SATISFIED)
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    alert = Alert.objects.get(kind=Alert.Kind.NEW_CASE)
    assert alert.acknowledged_at is not None and alert.acknowledged_by is None


def test_a_refused_resolve_settles_nothing(staff: Any) -> None:
    account, users, _ = staff
    case = case_at(account, "o1", MONDAY)
    services.announce_new_cases(MONDAY)
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.resolve_case(case, revision=case.revision, actor=users["editor"])
    assert Alert.objects.get().acknowledged_at is None
    assert not AuditEvent.objects.filter(name="alert.settled").exists()
