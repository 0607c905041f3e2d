"""Cases: intake of stored messages, deadlines on the working-day calendar, routing
suggestions, and the moves between the office and departments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent, CaseMessage, RoutingRule, Status
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
_ids = iter(range(1, 10**6))


@pytest.fixture
def city(account: Account) -> Organisation:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    return org


@pytest.fixture
def depts(city: Organisation) -> dict[str, Department]:
    return {
        n: Department.objects.create(organisation=city, name=n) for n in ("市人社局", "市城管局")
    }


@pytest.fixture
def liaison(account: Account, depts: dict[str, Department], django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("hrss")
    add_member(account, user, Membership.Role.LIAISON, department=depts["市人社局"])
    return user


@pytest.fixture
def other_liaison(account: Account, depts: dict[str, Department], django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("cgj")
    add_member(account, user, Membership.Role.LIAISON, department=depts["市城管局"])
    return user


def inbound(account: Account, text: str, openid: str = "oCitizen1", **kw: Any) -> InboundMessage:
    now = datetime.now(UTC)
    n = next(_ids)
    return InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{n}",
        msg_type=kw.get("msg_type", "text"),
        msg_id=n,
        content=text,
        sent_at=now,
        received_at=now,
        handled_by="none",
    )


def test_a_follower_has_one_open_case_and_a_message_joins_it_once(account: Account) -> None:
    first = inbound(account, "我家楼下路灯坏了一个星期")
    case = services.intake(first.pk)
    assert services.intake(first.pk) == case  # a retry: nothing new
    second = inbound(account, "今天还是没修")
    assert services.intake(second.pk) == case
    other = services.intake(inbound(account, "社保卡怎么办", openid="oCitizen2").pk)
    assert other != case
    assert CaseMessage.objects.filter(case=case).count() == 2
    assert Case.objects.count() == 2
    assert case.subject == "我家楼下路灯坏了一个星期" and case.status == Status.NEW
    assert list(case.events.values_list("name", flat=True)) == ["case.opened"]


def test_the_database_refuses_a_second_open_case(account: Account) -> None:
    case = services.intake(inbound(account, "咨询").pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            account=account,
            openid=case.openid,
            case_type="consultation",
            subject="x",
            opened_at=case.opened_at,
            first_response_due=case.first_response_due,
            resolve_due=case.resolve_due,
        )
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
    assert services.intake(inbound(account, "新问题").pk) != case  # closed: a new case


def test_deadlines_on_the_eve_of_national_day(account: Account) -> None:
    with time_machine.travel(datetime(2025, 9, 30, 16, 0, tzinfo=SH), tick=False):
        case = services.intake(inbound(account, "请问公积金怎么提取").pk)
    assert case.case_type == "consultation"
    # acknowledge within 1 working day, answer within 3: 1–8 October are off and
    # Saturday 11 October is a make-up working day
    assert case.first_response_due.astimezone(SH).date() == date(2025, 10, 9)
    assert case.resolve_due.astimezone(SH).date() == date(2025, 10, 11)
    with time_machine.travel(datetime(2025, 9, 30, 20, 0, tzinfo=SH), tick=False):
        help_case = services.intake(inbound(account, "紧急求助：老人走失", openid="o2").pk)
    assert help_case.case_type == "help"
    # 4 hours from 20:00 is midnight into 1 October, a holiday: the same time on the 9th
    assert help_case.first_response_due.astimezone(SH) == datetime(2025, 10, 9, 0, 0, tzinfo=SH)


def test_routing_rules_suggest_type_and_department(
    account: Account, depts: dict[str, Department]
) -> None:
    RoutingRule.objects.create(account=account, keyword="社保", department=depts["市人社局"])
    RoutingRule.objects.create(
        account=account, keyword="路灯", case_type="complaint", department=depts["市城管局"]
    )
    case = services.intake(inbound(account, "社保断缴了怎么办").pk)
    assert (case.case_type, case.suggested_department) == ("consultation", depts["市人社局"])
    case = services.intake(inbound(account, "路灯坏了", openid="o3").pk)
    assert (case.case_type, case.suggested_department) == ("complaint", depts["市城管局"])
    case = services.intake(inbound(account, "我要举报违章建筑", openid="o4").pk)
    assert (case.case_type, case.suggested_department) == ("report", None)


def test_assign_accept_and_return(
    account: Account, operator: Any, liaison: Any, depts: dict[str, Department]
) -> None:
    case = services.intake(inbound(account, "社保转移").pk)
    case = services.assign_case(
        case, depts["市人社局"], revision=case.revision, actor=operator, case_type="consultation"
    )
    assert (case.status, case.department, case.type_confirmed) == (
        Status.ASSIGNED,
        depts["市人社局"],
        True,
    )
    case = services.accept_case(case, revision=case.revision, actor=liaison)
    assert case.status == Status.IN_PROGRESS
    with pytest.raises(ValidationError):
        services.return_case(case, "  ", revision=case.revision, actor=liaison)
    case = services.return_case(case, "属于医保局职责", revision=case.revision, actor=liaison)
    assert (case.status, case.department) == (Status.NEW, None)
    assert list(CaseEvent.objects.filter(case=case).values_list("name", flat=True)) == [
        "case.opened",
        "case.assigned",
        "case.accepted",
        "case.returned",
    ]
    assert CaseEvent.objects.get(case=case, name="case.returned").data["reason"] == "属于医保局职责"


def test_two_people_acting_at_once_cannot_both_win(
    account: Account, operator: Any, account_admin: Any, depts: dict[str, Department]
) -> None:
    case = services.intake(inbound(account, "咨询").pk)
    seen = case.revision
    services.assign_case(case, depts["市人社局"], revision=seen, actor=operator)
    with pytest.raises(services.Conflict):
        services.assign_case(case, depts["市城管局"], revision=seen, actor=account_admin)
    case.refresh_from_db()
    assert case.department == depts["市人社局"]
    assert CaseEvent.objects.filter(case=case, name="case.assigned").count() == 1


def test_who_may_do_what(
    account: Account,
    operator: Any,
    liaison: Any,
    other_liaison: Any,
    outsider: Any,
    depts: dict[str, Department],
) -> None:
    case = services.intake(inbound(account, "咨询").pk)
    with pytest.raises(PermissionDenied):
        services.assign_case(case, depts["市人社局"], revision=case.revision, actor=liaison)
    case = services.assign_case(case, depts["市人社局"], revision=case.revision, actor=operator)
    with pytest.raises(PermissionDenied):
        services.accept_case(case, revision=case.revision, actor=other_liaison)
    # a liaison asking for another department's case: 404, and nothing changes
    assert services.get_case_for_user(liaison, case.pk) == case
    for stranger in (other_liaison, outsider):
        with pytest.raises(Http404):
            services.get_case_for_user(stranger, case.pk)
    assert list(services.cases_for_user(other_liaison, account)) == []
    assert list(services.cases_for_user(liaison, account)) == [case]
    case.refresh_from_db()
    assert case.status == Status.ASSIGNED


def test_a_liaison_needs_a_department_of_the_accounts_organisation(
    account: Account, depts: dict[str, Department], django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user("x")
    with pytest.raises(ValidationError):
        add_member(account, user, Membership.Role.LIAISON)
    elsewhere = Organisation.objects.create(name="另一个市", level="city")
    with pytest.raises(ValidationError):
        add_member(
            account,
            user,
            Membership.Role.LIAISON,
            department=Department.objects.create(organisation=elsewhere, name="局"),
        )
    assert not Membership.objects.filter(user=user).exists()


def test_reassignment_request_and_assisting_departments(
    account: Account,
    operator: Any,
    liaison: Any,
    other_liaison: Any,
    depts: dict[str, Department],
) -> None:
    case = services.intake(inbound(account, "井盖丢了").pk)
    case = services.assign_case(case, depts["市人社局"], revision=case.revision, actor=operator)
    case = services.accept_case(case, revision=case.revision, actor=liaison)
    with pytest.raises(ValidationError):
        services.request_reassign(case, "", revision=case.revision, actor=liaison)
    with pytest.raises(PermissionDenied):
        services.request_reassign(case, "不归我们", revision=case.revision, actor=other_liaison)
    case = services.request_reassign(case, "属于城管职责", revision=case.revision, actor=liaison)
    assert case.reassign_requested_at is not None and case.department == depts["市人社局"]
    # the office decides: the case moves, the request is settled
    case = services.assign_case(case, depts["市城管局"], revision=case.revision, actor=operator)
    assert (case.department, case.reassign_requested_at) == (depts["市城管局"], None)
    # 协办: the first department helps and sees the case again
    with pytest.raises(ValidationError):
        services.add_assisting(case, depts["市城管局"], actor=operator)
    services.add_assisting(case, depts["市人社局"], actor=operator)
    assert services.get_case_for_user(liaison, case.pk) == case
    with pytest.raises(PermissionDenied):  # a helper cannot accept or answer for the lead
        services.accept_case(case, revision=case.revision, actor=liaison)


def test_transfers_keep_the_clock_unless_the_policy_restarts_it(
    account: Account, operator: Any, depts: dict[str, Department]
) -> None:
    from govwx.desk.models import TimeLimit

    start = datetime(2025, 11, 3, 10, tzinfo=SH)  # Monday
    with time_machine.travel(start, tick=False):
        case = services.intake(inbound(account, "咨询").pk)
        case = services.assign_case(case, depts["市人社局"], revision=case.revision, actor=operator)
    first_due = case.resolve_due
    with time_machine.travel(datetime(2025, 11, 5, 10, tzinfo=SH), tick=False):
        case = services.assign_case(case, depts["市城管局"], revision=case.revision, actor=operator)
    assert case.resolve_due == first_due  # the norm: the clock keeps running
    TimeLimit.objects.create(
        account=account,
        case_type="consultation",
        first_response=1,
        first_response_unit="working_days",
        resolution=3,
        resolution_unit="working_days",
        restart_on_transfer=True,
    )
    with time_machine.travel(datetime(2025, 11, 5, 10, tzinfo=SH), tick=False):
        case = services.assign_case(case, depts["市人社局"], revision=case.revision, actor=operator)
    assert case.resolve_due.astimezone(SH).date() == date(2025, 11, 10)  # Wed + 3 working days
