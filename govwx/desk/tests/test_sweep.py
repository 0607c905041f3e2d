"""Warnings and breaches of time limits, found by the sweep, once; extension and
supervision."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.accounts.models import Account, Membership
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def open_case(account: Account, when: datetime, text: str = "咨询", openid: str = "o1") -> Case:
    with time_machine.travel(when, tick=False):
        now = datetime.now(UTC)
        msg = InboundMessage.objects.create(
            account=account,
            openid=openid,
            dedup_key=f"m:{openid}:{when}",
            msg_type="text",
            content=text,
            sent_at=now,
            received_at=now,
            handled_by="desk",
        )
        return services.intake(msg.pk)


def events(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("name", flat=True))


def test_warning_then_breaches_each_once(account: Account) -> None:
    # Monday 3 November 2025, 10:00: answer within 3 working days, i.e. by the end of Thursday
    case = open_case(account, datetime(2025, 11, 3, 10, tzinfo=SH))
    assert case.resolve_due.astimezone(SH).date() == date(2025, 11, 6)
    assert services.sweep(datetime(2025, 11, 4, 12, tzinfo=SH)) == {
        "warning": 0,
        "response_breached": 0,
        "breached": 0,
    }
    # Wednesday noon: no first response within 1 working day
    assert services.sweep(datetime(2025, 11, 5, 12, tzinfo=SH))["response_breached"] == 1
    # Thursday noon: less than 24 hours left
    assert services.sweep(datetime(2025, 11, 6, 12, tzinfo=SH))["warning"] == 1
    assert services.sweep(datetime(2025, 11, 6, 13, tzinfo=SH))["warning"] == 0  # once
    # Friday: breached; the sweep again (a restart) finds nothing new
    assert services.sweep(datetime(2025, 11, 7, 9, tzinfo=SH))["breached"] == 1
    assert services.sweep(datetime(2025, 11, 7, 10, tzinfo=SH)) == {
        "warning": 0,
        "response_breached": 0,
        "breached": 0,
    }
    assert events(case) == [
        "case.opened",
        "case.response_breached",
        "case.warning",
        "case.breached",
    ]


def test_resolved_cases_are_left_alone(account: Account, operator: Any) -> None:
    case = open_case(account, datetime(2025, 11, 3, 10, tzinfo=SH))
    Case.objects.filter(pk=case.pk).update(status="resolved")
    assert services.sweep(datetime(2025, 12, 1, tzinfo=SH)) == {
        "warning": 0,
        "response_breached": 0,
        "breached": 0,
    }


def test_one_capped_extension_with_a_reason(account: Account, operator: Any) -> None:
    case = open_case(account, datetime(2025, 11, 3, 10, tzinfo=SH))
    for days, reason in ((0, "需要核实"), (4, "需要核实"), (2, " ")):
        with pytest.raises(ValidationError):
            services.extend_case(case, days, reason, revision=case.revision, actor=operator)
    case = services.extend_case(case, 3, "需要现场核实", revision=case.revision, actor=operator)
    assert case.resolve_due.astimezone(SH).date() == date(2025, 11, 11)  # Thu + 3 working days
    with pytest.raises(ValidationError):
        services.extend_case(case, 1, "再延", revision=case.revision, actor=operator)
    assert services.sweep(datetime(2025, 11, 7, 9, tzinfo=SH))["breached"] == 0


def test_supervise_and_urge(account: Account, operator: Any, django_user_model: Any) -> None:
    boss = django_user_model.objects.create_user("supervisor")
    add_member(account, boss, Membership.Role.SUPERVISOR)
    case = open_case(account, datetime(2025, 11, 3, 10, tzinfo=SH))
    with pytest.raises(PermissionDenied):
        services.supervise_case(case, "请加快", actor=operator)
    case = services.supervise_case(case, "请加快办理", actor=boss)
    assert case.supervised_at is not None
    with pytest.raises(ValidationError):
        services.urge_case(case, "尽快", actor=boss)  # no department yet
    assert events(case) == ["case.opened", "case.supervised"]
