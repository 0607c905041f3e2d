"""A case is named and typed by what the citizen writes about, not by the word they typed
to reach a person; routing runs again on each message while no department holds the
case; a matching rule assigns the case at once (the default) or only suggests."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent, DeskSettings, RoutingRule, Status
from govwx.desk.services import take_in_pending
from govwx.inbox.tests.wxpeer import Peer, event_xml, text_xml
from govwx.replies.models import Keyword
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule, import_ruleset

pytestmark = pytest.mark.django_db


@pytest.fixture
def depts(account: Account) -> dict[str, Department]:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    made = {
        n: Department.objects.create(organisation=org, name=n) for n in ("市城管局", "市人社局")
    }
    RoutingRule.objects.create(
        account=account, keyword="噪音", department=made["市城管局"], priority=10
    )
    RoutingRule.objects.create(
        account=account, keyword="社保", department=made["市人社局"], priority=20
    )
    return made


@pytest.fixture
def handoff(account: Account) -> None:
    """The demo's 人工服务 rule: it answers and hands the message to the desk."""
    create_rule(
        account,
        RuleInput(
            "人工服务",
            [KeywordInput(w, Keyword.Match.EXACT) for w in ("人工", "转人工", "人工客服")],
            [ReplyInput("text", {"content": "请直接留言描述您的问题"})],
            handoff=True,
        ),
    )


def names(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("name", flat=True))


def test_demo_case_2_the_handoff_word_then_the_complaint(
    client: Any, account: Account, depts: dict[str, Department], handoff: None
) -> None:
    peer = Peer(client)
    answer = peer.reply(peer.post(text_xml("人工", msg_id=1)))
    assert answer is not None and answer["Content"] == "请直接留言描述您的问题"
    assert take_in_pending() == (1, 0)
    case = Case.objects.get()
    assert (case.subject, case.untitled, case.case_type, case.department) == (
        "人工", True, "consultation", None,
    )  # fmt: skip
    consult_due = case.resolve_due
    peer.post(text_xml("我要投诉，楼下KTV每天半夜噪音扰民", msg_id=2))
    assert take_in_pending() == (1, 0)
    case.refresh_from_db()
    assert case.subject == "我要投诉，楼下KTV每天半夜噪音扰民" and not case.untitled
    assert (case.case_type, case.department, case.status) == (
        "complaint", depts["市城管局"], Status.ASSIGNED,
    )  # fmt: skip
    assert case.resolve_due > consult_due  # a complaint's 10 working days, not 3
    assert case.deadline_basis["resolution"][1:] == [10, "working_days"]
    assert names(case) == ["case.opened", "case.named", "case.assigned"]
    assigned = CaseEvent.objects.get(case=case, name="case.assigned")
    assert assigned.actor is None  # the system's act
    assert assigned.data == {
        "department": depts["市城管局"].pk, "case_type": "complaint",
        "rule": RoutingRule.objects.get(keyword="噪音").pk, "keyword": "噪音", "auto": True,
    }  # fmt: skip
    # a later message neither renames the case nor moves it
    peer.post(text_xml("另外社保卡也丢了", msg_id=3))
    take_in_pending()
    case.refresh_from_db()
    assert (case.subject, case.department) == (
        "我要投诉，楼下KTV每天半夜噪音扰民",
        depts["市城管局"],
    )
    assert names(case) == ["case.opened", "case.named", "case.assigned"]


def test_both_in_one_batch_open_the_case_named_and_routed(
    client: Any, account: Account, depts: dict[str, Department], handoff: None
) -> None:
    peer = Peer(client)
    peer.post(text_xml("转人工", msg_id=1))
    peer.post(text_xml("投诉：工地夜间施工噪音", msg_id=2))
    assert take_in_pending() == (2, 0)
    case = Case.objects.get()
    assert (case.subject, case.case_type, case.department, case.untitled) == (
        "投诉：工地夜间施工噪音", "complaint", depts["市城管局"], False,
    )  # fmt: skip
    assert case.deadline_basis["resolution"][1:] == [10, "working_days"]
    assert case.messages.count() == 2


def test_a_menu_click_and_a_picture_name_nothing(
    client: Any, account: Account, depts: dict[str, Department]
) -> None:
    import_ruleset(account, {"menu": {"MENU_COMPLAINT": "请留言"}, "menu_handoff": ["MENU_COMPLAINT"],
                             "rules": []})  # fmt: skip
    peer = Peer(client)
    peer.post(event_xml("CLICK", key="MENU_COMPLAINT"))
    take_in_pending()
    case = Case.objects.get()
    assert case.untitled and case.subject == "[菜单：MENU_COMPLAINT]"
    peer.post(text_xml("社保断缴了怎么补", msg_id=5))
    take_in_pending()
    case.refresh_from_db()
    assert (case.subject, case.case_type, case.department) == (
        "社保断缴了怎么补", "consultation", depts["市人社局"],
    )  # fmt: skip


def test_routing_runs_again_while_no_department_holds_the_case(
    client: Any, account: Account, depts: dict[str, Department]
) -> None:
    peer = Peer(client)
    peer.post(text_xml("你好，想反映个情况", msg_id=1))
    take_in_pending()
    case = Case.objects.get()
    assert (case.subject, case.case_type, case.department) == (
        "你好，想反映个情况",
        "complaint",
        None,
    )
    peer.post(text_xml("就是小区门口广场舞噪音太大", msg_id=2))
    take_in_pending()
    case.refresh_from_db()
    # named already: the title stays; routing found the department
    assert (case.subject, case.department, case.status) == (
        "你好，想反映个情况", depts["市城管局"], Status.ASSIGNED,
    )  # fmt: skip
    assert names(case) == ["case.opened", "case.assigned"]


def test_a_department_that_returned_the_case_is_not_given_it_again_by_the_same_words(
    client: Any, account: Account, depts: dict[str, Department], django_user_model: Any
) -> None:
    liaison = django_user_model.objects.create_user("cgj")
    add_member(account, liaison, Membership.Role.LIAISON, department=depts["市城管局"])
    peer = Peer(client)
    peer.post(text_xml("噪音扰民", msg_id=1))
    take_in_pending()
    case = Case.objects.get()
    services.return_case(case, "不属于本局职责", revision=case.revision, actor=liaison)
    peer.post(text_xml("噪音还是很大", msg_id=2))
    take_in_pending()
    case.refresh_from_db()
    assert (case.department, case.status) == (None, Status.NEW)
    peer.post(text_xml("另外社保也有问题", msg_id=3))
    take_in_pending()
    case.refresh_from_db()
    assert case.department == depts["市人社局"]


def test_a_type_the_office_confirmed_is_kept(
    client: Any, account: Account, depts: dict[str, Department], operator: Any, handoff: None
) -> None:
    peer = Peer(client)
    peer.post(text_xml("人工", msg_id=1))
    take_in_pending()
    case = Case.objects.get()
    services.assign_case(
        case, depts["市人社局"], revision=case.revision, actor=operator, case_type="help"
    )
    peer.post(text_xml("我要投诉噪音", msg_id=2))
    take_in_pending()
    case.refresh_from_db()
    # named by the citizen, but the type the office confirmed and its department stay
    assert (case.subject, case.case_type, case.department) == (
        "我要投诉噪音", "help", depts["市人社局"],
    )  # fmt: skip


def test_suggest_mode_only_suggests_and_follows_the_citizen(
    client: Any, account: Account, depts: dict[str, Department], handoff: None
) -> None:
    DeskSettings.objects.create(account=account, routing_mode="suggest")
    peer = Peer(client)
    peer.post(text_xml("人工客服", msg_id=1))
    take_in_pending()
    peer.post(text_xml("楼上装修噪音", msg_id=2))
    take_in_pending()
    case = Case.objects.get()
    assert (case.subject, case.department, case.suggested_department, case.status) == (
        "楼上装修噪音", None, depts["市城管局"], Status.NEW,
    )  # fmt: skip
    assert names(case) == ["case.opened", "case.named", "case.routed"]


def test_the_batch_costs_the_same_statements_for_few_followers_or_many(
    client: Any, account: Account, depts: dict[str, Department], handoff: None
) -> None:
    """New cases opened and routed, and open untitled cases named and routed: the
    statements of a batch do not grow with its messages, only with the cases it changes."""

    def batch(prefix: str, n: int, first: int) -> int:
        peer = Peer(client)
        for i in range(n):
            peer.post(text_xml("人工", openid=f"{prefix}{i}", msg_id=first + i))
            peer.post(text_xml(f"投诉噪音{i}", openid=f"{prefix}{i}", msg_id=first + 100 + i))
        with CaptureQueriesContext(connection) as q:
            assert take_in_pending() == (2 * n, 0)
        return len(q.captured_queries)

    batch("oW", 1, 500)  # what a process reads once (the calendar), the first alert
    few, many = batch("oA", 2, 1000), batch("oB", 12, 2000)
    assert few == many
    assert Case.objects.filter(department=depts["市城管局"], case_type="complaint").count() == 15

    def named_later(prefix: str, n: int, first: int) -> int:
        peer = Peer(client)
        for i in range(n):
            peer.post(text_xml("人工", openid=f"{prefix}{i}", msg_id=first + i))
        take_in_pending()
        for i in range(n):
            peer.post(text_xml(f"投诉噪音{i}", openid=f"{prefix}{i}", msg_id=first + 100 + i))
        with CaptureQueriesContext(connection) as q:
            assert take_in_pending() == (n, 0)
        return len(q.captured_queries)

    assert named_later("oC", 2, 3000) == named_later("oD", 12, 4000)
    named = Case.objects.filter(openid__startswith="oD", untitled=False, case_type="complaint")
    assert named.filter(department=depts["市城管局"], status=Status.ASSIGNED).count() == 12


def test_the_demo_itself_names_types_and_routes_case_2(db: Any) -> None:
    """As tried in the demo: 「人工」 (its 人工服务 rule), then the complaint about noise."""
    from datetime import UTC, datetime

    from govwx.console.management.commands import demo
    from govwx.wechat.models import InboundMessage

    account = demo.seed()

    def send(n: int, text: str) -> None:
        now = datetime.now(UTC)
        InboundMessage.objects.create(
            account=account, openid="oDemoCitizen", dedup_key=f"demo:{n}", msg_type="text",
            msg_id=n, content=text, sent_at=now, received_at=now, handled_by="desk",
        )  # fmt: skip
        take_in_pending()

    send(1, "人工")
    send(2, "我要投诉，小区旁边工地晚上施工噪音太大，吵得睡不着")
    case = Case.objects.get(account=account)
    assert case.subject == "我要投诉，小区旁边工地晚上施工噪音太大，吵得睡不着"
    assert (case.case_type, case.department.name if case.department else None, case.status) == (
        "complaint", "市城市管理局", Status.ASSIGNED,
    )  # fmt: skip
