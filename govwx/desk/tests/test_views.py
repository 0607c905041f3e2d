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


# ------------------------------------------------------------------ alerts, topics, 暂定


def a_case(
    account: Account,
    text: str,
    openid: str,
    *,
    at: datetime | None = None,
    department: Department | None = None,
    alert: Any = None,
    provisional_year: int | None = None,
) -> Case:
    """A case with its citizen's message, written with the ORM (as the desk's intake
    leaves it)."""
    from datetime import timedelta

    from govwx.desk.models import CaseMessage

    at = at or datetime.now(UTC)
    case = Case.objects.create(
        account=account,
        openid=openid,
        case_type="complaint",
        subject=text[:40],
        opened_at=at,
        first_response_due=at + timedelta(days=1),
        resolve_due=at + timedelta(days=5),
        department=department,
        announced_in=alert,
        provisional_year=provisional_year,
    )
    msg = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{openid}",
        msg_type="text",
        content=text,
        sent_at=at,
        received_at=at,
        handled_by="desk",
    )
    CaseMessage.objects.create(case=case, direction="in", inbound=msg, text=text, created_at=at)
    return case


def listed(client: Client, **params: str) -> list[int]:
    r = client.get("/desk/cases/", params)
    assert r.status_code == 200
    return [row["case"].pk for row in r.context["rows"]]


def test_the_cases_an_alert_announced(
    client: Client,
    operator: Any,
    account: Account,
    other_account: Account,
    depts: dict[str, Department],
    django_user_model: Any,
    django_assert_num_queries: Any,
) -> None:
    from govwx.team.models import Alert

    now = datetime.now(UTC)
    alert = Alert.objects.create(
        account=account, kind="new_case", subject="cases:1-3", text="5 分钟内新诉求 3 件",
        created_at=now,
    )  # fmt: skip
    theirs = Alert.objects.create(
        account=other_account, kind="new_case", subject="case:9", text="新诉求", created_at=now
    )
    hr, cg = depts["市人社局"], depts["市城管局"]
    c1 = a_case(account, "社保断缴", "o1", alert=alert, department=hr)
    c2 = a_case(account, "噪音扰民", "o2", alert=alert, department=cg)
    c3 = a_case(account, "路灯不亮", "o3", alert=alert)
    a_case(account, "另一件", "o4")
    a_case(other_account, "别的号的诉求", "o5", alert=theirs)
    client.force_login(operator)
    assert listed(client, alert=str(alert.pk)) == [c3.pk, c2.pk, c1.pk]
    body = client.get("/desk/cases/", {"alert": alert.pk}).content.decode()
    assert f"提醒 #{alert.pk} 涉及的 3 件诉求" in body and "5 分钟内新诉求 3 件" in body
    # with the other filters
    assert listed(client, alert=str(alert.pk), department=str(hr.pk)) == [c1.pk]
    # another account's alert: none of its cases, and nothing of it shown
    assert listed(client, alert=str(theirs.pk)) == []
    body = client.get("/desk/cases/", {"alert": theirs.pk}).content.decode()
    assert f"提醒 #{theirs.pk} 涉及的 0 件诉求" in body and "别的号的诉求" not in body
    # the page's (with the departments of the account's organisation), plus the alert
    # and the count of its cases
    with django_assert_num_queries(12):
        client.get("/desk/cases/", {"alert": alert.pk})
    # a liaison: the alert's cases of their department only
    liaison = django_user_model.objects.create_user("hrss")
    add_member(account, liaison, Membership.Role.LIAISON, department=hr)
    client.force_login(liaison)
    assert listed(client, alert=str(alert.pk)) == [c1.pk]
    body = client.get("/desk/cases/", {"alert": alert.pk}).content.decode()
    assert f"提醒 #{alert.pk} 涉及的 1 件诉求" in body


def test_the_cases_that_mention_a_word_since_a_moment(
    client: Client,
    operator: Any,
    account: Account,
    other_account: Account,
    depts: dict[str, Department],
    django_user_model: Any,
) -> None:
    from datetime import timedelta

    from govwx.desk.models import CaseMessage

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    hr = depts["市人社局"]
    old = a_case(account, "上周幸福小区停水", "o1", at=now - timedelta(hours=2))
    new = a_case(account, "幸福小区又停水了", "o2", at=now - timedelta(minutes=5), department=hr)
    a_case(account, "停电了", "o3", at=now)
    a_case(other_account, "停水", "o4", at=now)
    # a reply or a note that mentions the word does not count: only what citizens wrote
    noted = a_case(account, "咨询社保", "o5", at=now)
    CaseMessage.objects.create(case=noted, direction="note", text="可能与停水有关", created_at=now)
    # an older case whose citizen wrote about it again lately
    again = a_case(account, "咨询供水", "o6", at=now - timedelta(days=3))
    msg = InboundMessage.objects.create(
        account=account, openid="o6", dedup_key="m:o6:2", msg_type="text", content="还是停水",
        sent_at=now, received_at=now - timedelta(minutes=1), handled_by="desk",
    )  # fmt: skip
    CaseMessage.objects.create(
        case=again, direction="in", inbound=msg, text="还是停水", created_at=msg.received_at
    )
    client.force_login(operator)
    assert listed(client, topic="停水") == [new.pk, old.pk, again.pk]
    since = (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%MZ")
    assert listed(client, topic="停水", since=since) == [new.pk, again.pk]
    # a moment without a zone is the console's (Shanghai), as a person types it
    local = (now + timedelta(hours=8) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    assert listed(client, topic="停水", since=local) == [new.pk, again.pk]
    assert listed(client, topic="停水", since="not a date") == [new.pk, old.pk, again.pk]
    assert listed(client, topic="停水", since=since, status="resolved") == []
    body = client.get("/desk/cases/", {"topic": "停水", "since": since}).content.decode()
    shown = (now + timedelta(hours=8) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    assert f"{shown} 以来提到“停水”的诉求" in body
    assert 'name="topic" value="停水"' in body and f'name="since" value="{since}"' in body
    # the export has the same filter
    csv_body = b"".join(
        client.get("/desk/cases/export.csv", {"topic": "停水", "since": since}).streaming_content
    ).decode("utf-8-sig")
    assert [line.split(",")[0] for line in csv_body.strip().splitlines()[1:]] == [
        str(new.pk),
        str(again.pk),
    ]
    # a liaison: their department's only
    liaison = django_user_model.objects.create_user("hrss")
    add_member(account, liaison, Membership.Role.LIAISON, department=hr)
    client.force_login(liaison)
    assert listed(client, topic="停水") == [new.pk]


def test_the_pages_keep_the_filters(client: Client, operator: Any, account: Account) -> None:
    from govwx.desk import views

    for i in range(views.PAGE_SIZE + 1):
        a_case(account, f"停水{i}", f"o{i}")
    client.force_login(operator)
    body = client.get("/desk/cases/", {"topic": "停水"}).content.decode()
    assert "?topic=%E5%81%9C%E6%B0%B4&amp;page=2" in body
    assert len(listed(client, topic="停水", page="2")) == 1


def test_provisional_deadlines_are_marked_on_the_list_the_page_and_the_export(
    client: Client, operator: Any, account: Account
) -> None:
    sure = a_case(account, "咨询社保", "o1")
    unsure = a_case(account, "春节后办理", "o2", provisional_year=2027)
    client.force_login(operator)
    why = "2027 年节假日安排尚未确认，截止时间为暂定"
    body = client.get("/desk/cases/").content.decode()
    assert body.count('data-provisional-year="2027"') == 1 and f'title="{why}"' in body
    row = body.split(f'href="/desk/cases/{unsure.pk}/"')[2].split("</tr>")[0]
    assert ">暂定<" in row
    row = body.split(f'href="/desk/cases/{sure.pk}/"')[2].split("</tr>")[0]
    assert "暂定" not in row
    page = client.get(f"/desk/cases/{unsure.pk}/").content.decode()
    assert f'title="{why}"' in page and ">暂定<" in page
    assert "暂定" not in client.get(f"/desk/cases/{sure.pk}/").content.decode()
    lines = (
        b"".join(client.get("/desk/cases/export.csv").streaming_content)
        .decode("utf-8-sig")
        .strip()
        .splitlines()
    )
    assert lines[0].endswith(",评价,截止时间性质,附件")
    nature = {line.split(",")[0]: line.split(",")[-2] for line in lines[1:]}
    assert nature == {str(unsure.pk): "暂定（2027 年节假日安排未确认）", str(sure.pk): "确定"}


def test_the_provisional_mark_in_english(client: Client, operator: Any, account: Account) -> None:
    a_case(account, "春节后办理", "o1", provisional_year=2027)
    client.force_login(operator)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/desk/cases/").content.decode()
    assert ">Provisional<" in body and "暂定" not in body
    assert "The holiday arrangement of 2027 is not confirmed yet" in body
    lines = b"".join(client.get("/desk/cases/export.csv").streaming_content).decode("utf-8-sig")
    assert "Deadline status" in lines.splitlines()[0]
    assert "Provisional (the holiday arrangement of 2027 is not confirmed)" in lines
