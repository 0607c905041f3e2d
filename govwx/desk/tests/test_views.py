"""The desk's console pages: inbox, case page and its actions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.console import mask
from govwx.desk.models import Case, CaseEvent, Status
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def depts(account: Account) -> dict[str, Department]:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    return {
        n: Department.objects.create(organisation=org, name=n) for n in ("市人社局", "市城管局")
    }


def make_case(account: Account, text: str, openid: str) -> Case:
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


def state(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.department_id,
        case.revision,
        CaseEvent.objects.filter(case=case).count(),
    )


def test_the_inbox_lists_masks_and_filters(
    client: Client, operator: Any, account: Account, django_assert_num_queries: Any
) -> None:
    make_case(account, "我的电话13812345678，身份证110101199003071234", "o1")
    make_case(account, "投诉噪音", "o2")
    client.force_login(operator)
    r = client.get("/desk/cases/")
    body = r.content.decode()
    assert r.status_code == 200 and "138****5678" in body and "13812345678" not in body
    assert "110101********1234" in body
    assert [row["case"].subject for row in r.context["rows"]][0] == "投诉噪音"
    assert len(client.get("/desk/cases/", {"type": "complaint"}).context["rows"]) == 1
    assert len(client.get("/desk/cases/", {"status": "resolved"}).context["rows"]) == 0
    # session, user, the user's accounts, the current account, the role (the page's
    # permission), the role (cases_for_user), count, page, the bell
    with django_assert_num_queries(9):
        client.get("/desk/cases/")
    for i in range(5):
        make_case(account, f"更多{i}", f"o-more-{i}")
    with django_assert_num_queries(9):  # the same with more rows: no query per row
        client.get("/desk/cases/")


def test_anonymous_and_outsiders_see_nothing(
    client: Client, outsider: Any, account: Account
) -> None:
    case = make_case(account, "咨询", "o1")
    before = state(case)
    r = client.get(f"/desk/cases/{case.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    client.force_login(outsider)
    assert client.get(f"/desk/cases/{case.pk}/").status_code == 404
    r = client.post(f"/desk/cases/{case.pk}/act/", {"action": "resolve", "revision": case.revision})
    assert r.status_code == 404
    assert case.pk not in [row["case"].pk for row in client.get("/desk/cases/").context["rows"]]
    assert state(case) == before


def test_transfer_then_the_liaison_replies(
    client: Client,
    operator: Any,
    account: Account,
    depts: dict[str, Department],
    django_user_model: Any,
    settings: Any,
) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9"  # the send is tried and held or failed
    liaison = django_user_model.objects.create_user("hrss")
    add_member(account, liaison, Membership.Role.LIAISON, department=depts["市人社局"])
    other = django_user_model.objects.create_user("cgj")
    add_member(account, other, Membership.Role.LIAISON, department=depts["市城管局"])
    case = make_case(account, "社保断缴怎么补", "o1")
    client.force_login(operator)
    page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "社保断缴怎么补" in page and "剩余" in page
    client.post(
        f"/desk/cases/{case.pk}/act/",
        {
            "action": "assign",
            "revision": case.revision,
            "department": depts["市人社局"].pk,
            "case_type": "consultation",
        },
    )
    case.refresh_from_db()
    assert (case.status, case.department) == (Status.ASSIGNED, depts["市人社局"])
    # the other department's liaison: 404, nothing changes
    client.force_login(other)
    before = state(case)
    assert client.get(f"/desk/cases/{case.pk}/").status_code == 404
    assert (
        client.post(
            f"/desk/cases/{case.pk}/act/", {"action": "accept", "revision": case.revision}
        ).status_code
        == 404
    )
    assert state(case) == before
    client.force_login(liaison)
    client.post(f"/desk/cases/{case.pk}/act/", {"action": "accept", "revision": case.revision})
    case.refresh_from_db()
    client.post(
        f"/desk/cases/{case.pk}/act/",
        {"action": "reply", "revision": case.revision, "text": "可到社保网点补缴。"},
    )
    case.refresh_from_db()
    assert case.status == Status.ANSWERED
    page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert "可到社保网点补缴" in page and "data-delivery=" in page


def test_a_stale_form_is_a_clear_conflict(
    client: Client,
    operator: Any,
    account_admin: Any,
    account: Account,
    depts: dict[str, Department],
) -> None:
    case = make_case(account, "咨询", "o1")
    seen = case.revision
    client.force_login(operator)
    client.post(
        f"/desk/cases/{case.pk}/act/",
        {"action": "assign", "revision": seen, "department": depts["市人社局"].pk},
    )
    client.force_login(account_admin)
    before = state(case)
    r = client.post(
        f"/desk/cases/{case.pk}/act/",
        {"action": "assign", "revision": seen, "department": depts["市城管局"].pk},
        follow=True,
    )
    assert "已被他人更新" in r.content.decode()
    assert state(case) == before


def test_masking() -> None:
    assert mask("联系13900001111或身份证44030419850101123X") == (
        "联系139****1111或身份证440304********123X"
    )
    assert mask("订单号 12345678901234") == "订单号 12345678901234"


def test_the_summary_counts_the_four_rates(
    client: Client, operator: Any, account: Account, depts: dict[str, Department]
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from govwx.desk.models import Rating

    a, b = depts["市人社局"], depts["市城管局"]
    now = timezone.now()
    c1, c2, c3, c4 = (make_case(account, f"诉求{i}", f"o{i}") for i in range(4))
    Case.objects.filter(pk=c1.pk).update(
        department=a,
        status="resolved",
        first_responded_at=now,
        resolved_at=c1.resolve_due - timedelta(hours=1),
    )
    Case.objects.filter(pk=c2.pk).update(
        department=a,
        status="closed",
        first_responded_at=now,
        resolved_at=c2.resolve_due + timedelta(hours=1),
    )
    Case.objects.filter(pk=c3.pk).update(department=b)
    Case.objects.filter(pk=c4.pk).update(opened_at=now - timedelta(days=90))
    Rating.objects.create(case=c1, score="satisfied", created_at=now)
    Rating.objects.create(case=c2, score="dissatisfied", created_at=now)
    client.force_login(operator)
    r = client.get("/desk/summary/")
    total = r.context["total"]
    assert (
        total.cases,
        total.response_rate,
        total.on_time_rate,
        total.resolution_rate,
        total.satisfaction_rate,
    ) == (3, 66.7, 50.0, 66.7, 50.0)
    rows = {row.name: row for row in r.context["rows"]}
    assert (
        rows["市人社局"].cases,
        rows["市人社局"].response_rate,
        rows["市人社局"].resolution_rate,
    ) == (2, 100.0, 100.0)
    assert (
        rows["市城管局"].cases,
        rows["市城管局"].on_time_rate,
        rows["市城管局"].satisfaction_rate,
    ) == (1, None, None)
    body = r.content.decode()
    assert 'id="rate-response">66.7%' in body and "echarts-6.1.0.min.js" in body
    earlier = client.get(
        "/desk/summary/",
        {"from": (now - timedelta(days=100)).date(), "to": (now - timedelta(days=80)).date()},
    )
    assert earlier.context["total"].cases == 1
    assert client.get("/desk/summary/", {"from": "garbage"}).status_code == 200


def test_extend_and_urge_from_the_case_page(
    client: Client, operator: Any, account: Account, depts: dict[str, Department]
) -> None:
    case = make_case(account, "咨询", "o1")
    client.force_login(operator)
    assert 'id="do-extend"' in client.get(f"/desk/cases/{case.pk}/").content.decode()
    due = case.resolve_due
    client.post(
        f"/desk/cases/{case.pk}/act/",
        {"action": "extend", "revision": case.revision, "working_days": "2", "reason": "需要核实"},
    )
    case.refresh_from_db()
    assert case.extensions == 1 and case.resolve_due > due
    r = client.post(
        f"/desk/cases/{case.pk}/act/",
        {"action": "urge", "revision": case.revision, "note": "请加快"},
        follow=True,
    )
    assert "尚未转办" in r.content.decode()  # not assigned yet: a clear message


def test_the_export_masks_and_respects_who_sees_what(
    client: Client, operator: Any, outsider: Any, account: Account
) -> None:
    make_case(account, "回电13812345678", "o1")
    make_case(account, "投诉噪音", "o2")
    client.force_login(operator)
    r = client.get("/desk/cases/export.csv", {"type": "complaint"})
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("编号,标题,类型") and len(lines) == 2 and "投诉噪音" in lines[1]
    body = b"".join(client.get("/desk/cases/export.csv").streaming_content).decode("utf-8-sig")
    assert "138****5678" in body and "13812345678" not in body
    client.force_login(outsider)
    r = client.get("/desk/cases/export.csv")
    # the outsider's export is of their own account: none of these cases
    assert "噪音" not in b"".join(r.streaming_content).decode("utf-8-sig")


def test_canned_replies_are_offered_on_the_case_page(
    client: Client, operator: Any, account: Account, other_account: Account
) -> None:
    from govwx.desk.models import CannedReply

    CannedReply.objects.create(account=account, title="办理时间", text="工作日 9:00—17:00 办理。")
    CannedReply.objects.create(account=other_account, title="别的号", text="不应出现")
    case = make_case(account, "咨询", "o1")
    client.force_login(operator)
    body = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert 'id="canned"' in body and "办理时间" in body and "别的号" not in body
