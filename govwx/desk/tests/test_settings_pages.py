"""The desk's settings pages: 分办规则 (rules, order, mode, the test box), 办理时限 (with
the preview on the calendar) and 快捷回复 (variables, used from the case page). Admins
write, supervisors read, other accounts see nothing of them; bad input changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from govwx.accounts.models import Account, AuditEvent, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import CannedReply, Case, DeskSettings, RoutingRule, TimeLimit
from govwx.wechat.models import Follower, InboundMessage

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ROUTING = reverse("desk_settings:routing")
LIMITS = reverse("desk_settings:time_limits")
REPLIES = reverse("desk_settings:replies")


@pytest.fixture
def depts(account: Account) -> dict[str, Department]:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    return {
        n: Department.objects.create(organisation=org, name=n) for n in ("市城管局", "市人社局")
    }


@pytest.fixture
def foreign_dept(db: Any) -> Department:
    org = Organisation.objects.create(name="另一个县人民政府", level="county")
    return Department.objects.create(organisation=org, name="县城管局")


@pytest.fixture
def supervisor(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user("leader")
    add_member(account, user, Membership.Role.SUPERVISOR)
    return user


@pytest.fixture
def admin_client(client: Client, account_admin: Any) -> Client:
    client.force_login(account_admin)
    return client


def audits(prefix: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(name__startswith=prefix)
        .order_by("pk")
        .values_list("name", flat=True)
    )


def page(response: Any) -> str:
    return response.content.decode()


_n = iter(range(1, 10**6))


def inbound(account: Account, text: str, openid: str = "oCitizen1") -> InboundMessage:
    now = datetime.now(UTC)
    n = next(_n)
    return InboundMessage.objects.create(
        account=account, openid=openid, dedup_key=f"s:{n}", msg_type="text", msg_id=n,
        content=text, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip


# ------------------------------------------------------------------ routing


def test_it_adds_a_rule_and_the_test_box_answers_as_intake_does(
    admin_client: Client, account: Account, account_admin: Any, depts: dict[str, Department]
) -> None:
    r = admin_client.post(
        ROUTING,
        {"action": "add", "keyword": "噪音", "case_type": "complaint",
         "department": depts["市城管局"].pk},
    )  # fmt: skip
    assert r.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.keyword, rule.case_type, rule.department) == (
        "噪音",
        "complaint",
        depts["市城管局"],
    )
    event = AuditEvent.objects.get(name="desk.routing_rule_added")
    assert (event.actor, event.account, event.data["keyword"]) == (account_admin, account, "噪音")
    follow = admin_client.get(ROUTING)
    assert "已添加分办规则「噪音」" in page(follow)

    body = page(admin_client.get(ROUTING, {"text": "楼下工地半夜施工噪音太大"}))
    assert 'data-outcome="rule"' in body and f'data-rule="{rule.pk}"' in body
    assert '<strong id="try-type">投诉</strong>' in body
    assert '<strong id="try-department">市城管局</strong>' in body
    assert '<strong id="try-rule">噪音</strong>' in body and "将自动转办" in body
    # the same message, taken in, makes the same case
    case = services.intake(inbound(account, "楼下工地半夜施工噪音太大").pk)
    assert (case.case_type, case.department, case.status) == (
        "complaint",
        depts["市城管局"],
        "assigned",
    )


def test_the_test_box_says_why_nothing_routed(
    admin_client: Client, account: Account, depts: dict[str, Department]
) -> None:
    body = page(admin_client.get(ROUTING, {"text": "我要举报违章建筑"}))
    assert 'data-outcome="empty"' in body and "还没有分办规则" in body
    assert '<strong id="try-type">举报</strong>' in body and "消息中有“举报”" in body
    RoutingRule.objects.create(account=account, keyword="噪音", department=depts["市城管局"])
    body = page(admin_client.get(ROUTING, {"text": "社保卡丢了怎么办"}))
    assert 'data-outcome="norule"' in body and "消息中没有任何规则的关键词" in body
    assert "默认为咨询" in body and 'id="try-department"' not in body
    body = page(admin_client.get(ROUTING, {"text": "转人工！"}))
    assert 'data-outcome="bare"' in body and "不为诉求命名" in body


def test_rules_are_tried_in_their_order_and_reordered(
    admin_client: Client, account: Account, depts: dict[str, Department]
) -> None:
    for word, dept in (("噪音", "市城管局"), ("工地", "市人社局")):
        admin_client.post(ROUTING, {"action": "add", "keyword": word, "department": depts[dept].pk})
    noise, site = RoutingRule.objects.order_by("priority")
    body = page(admin_client.get(ROUTING, {"text": "工地噪音"}))
    assert f'data-rule="{noise.pk}"' in body
    assert admin_client.post(ROUTING, {"action": "up", "rule": site.pk}).status_code == 302
    assert list(RoutingRule.objects.order_by("priority").values_list("keyword", flat=True)) == [
        "工地", "噪音",
    ]  # fmt: skip
    body = page(admin_client.get(ROUTING, {"text": "工地噪音"}))
    assert (
        f'data-rule="{site.pk}"' in body and '<strong id="try-department">市人社局</strong>' in body
    )
    admin_client.post(ROUTING, {"action": "up", "rule": site.pk})  # already first: no change
    admin_client.post(ROUTING, {"action": "down", "rule": site.pk})
    assert RoutingRule.objects.order_by("priority").first() == noise
    assert audits("desk.routing_rule_moved") == ["desk.routing_rule_moved"] * 2


def test_a_rule_is_edited_and_deleted_audited(
    admin_client: Client, account: Account, depts: dict[str, Department]
) -> None:
    rule = RoutingRule.objects.create(account=account, keyword="路灯", department=depts["市城管局"])
    assert 'value="路灯"' in page(admin_client.get(ROUTING, {"edit": rule.pk}))
    r = admin_client.post(
        ROUTING,
        {"action": "edit", "rule": rule.pk, "keyword": "路灯不亮", "case_type": "",
         "department": depts["市人社局"].pk},
    )  # fmt: skip
    assert r.status_code == 302
    rule.refresh_from_db()
    assert (rule.keyword, rule.department) == ("路灯不亮", depts["市人社局"])
    admin_client.post(ROUTING, {"action": "delete", "rule": rule.pk})
    assert not RoutingRule.objects.exists()
    assert audits("desk.routing_rule") == ["desk.routing_rule_changed", "desk.routing_rule_deleted"]


@pytest.mark.parametrize(
    ("keyword", "dept", "message"),
    [
        ("", "城管", "关键词不能为空"),
        ("   ", "城管", "关键词不能为空"),
        ("噪音", "foreign", "该部门不属于本公众号的主办单位，或已撤销"),
        ("噪音", "", "请选择部门"),
        ("路灯", "城管", "已有关键词「路灯」的规则"),
        ("噪音", "retired", "该部门不属于本公众号的主办单位，或已撤销"),
    ],
)
def test_a_bad_rule_is_refused_and_nothing_changes(
    admin_client: Client,
    account: Account,
    depts: dict[str, Department],
    foreign_dept: Department,
    keyword: str,
    dept: str,
    message: str,
) -> None:
    RoutingRule.objects.create(account=account, keyword="路灯", department=depts["市城管局"])
    before = list(RoutingRule.objects.values_list("pk", "keyword", "department_id", "priority"))
    retired = Department.objects.create(
        organisation=depts["市城管局"].organisation, name="市环保局", retired_at=datetime.now(UTC)
    )
    choice = {
        "城管": depts["市城管局"].pk, "foreign": foreign_dept.pk, "retired": retired.pk, "": "",
    }[dept]  # fmt: skip
    r = admin_client.post(ROUTING, {"action": "add", "keyword": keyword, "department": choice})
    assert r.status_code == 400
    assert message in page(r) and "没有保存" in page(r)
    assert (
        list(RoutingRule.objects.values_list("pk", "keyword", "department_id", "priority"))
        == before
    )
    assert audits("desk.") == []


def test_the_routing_mode_is_chosen_and_automatic_by_default(
    admin_client: Client, account: Account, depts: dict[str, Department]
) -> None:
    body = page(admin_client.get(ROUTING))
    assert 'id="mode-auto" checked' in body
    admin_client.post(ROUTING, {"action": "mode", "routing_mode": "suggest"})
    assert DeskSettings.objects.get(account=account).routing_mode == "suggest"
    RoutingRule.objects.create(account=account, keyword="噪音", department=depts["市城管局"])
    assert "仅建议，由值班员确认转办" in page(admin_client.get(ROUTING, {"text": "噪音"}))
    case = services.intake(inbound(account, "噪音扰民").pk)
    assert (case.department, case.suggested_department, case.status) == (
        None, depts["市城管局"], "new",
    )  # fmt: skip
    r = admin_client.post(ROUTING, {"action": "mode", "routing_mode": "sometimes"})
    assert r.status_code == 400 and "未知的分办方式" in page(r)
    assert DeskSettings.objects.get(account=account).routing_mode == "suggest"
    assert audits("desk.routing_mode") == ["desk.routing_mode_set"]


def test_a_supervisor_reads_and_cannot_write(
    client: Client, account: Account, supervisor: Any, depts: dict[str, Department]
) -> None:
    rule = RoutingRule.objects.create(account=account, keyword="噪音", department=depts["市城管局"])
    client.force_login(supervisor)
    for url in (ROUTING, LIMITS, REPLIES):
        body = page(client.get(url))
        assert 'name="action"' not in body, url
    assert "噪音" in page(client.get(ROUTING))
    assert "市城管局" in page(client.get(ROUTING, {"text": "噪音"}))  # the test box is a read
    posts = [
        (ROUTING, {"action": "add", "keyword": "井盖", "department": depts["市城管局"].pk}),
        (ROUTING, {"action": "delete", "rule": rule.pk}),
        (ROUTING, {"action": "mode", "routing_mode": "suggest"}),
        (LIMITS, {"case_type": "complaint", "first_response": "2", "first_response_unit": "working_days",
                  "resolution": "5", "resolution_unit": "working_days", "action": "save"}),
        (REPLIES, {"action": "add", "title": "问候", "text": "您好"}),
    ]  # fmt: skip
    for url, data in posts:
        assert client.post(url, data).status_code == 403, data
    assert list(RoutingRule.objects.values_list("keyword", flat=True)) == ["噪音"]
    assert not TimeLimit.objects.exists() and not CannedReply.objects.exists()
    assert not DeskSettings.objects.exists() and audits("desk.") == []


def test_an_operator_and_an_outsider_see_none_of_it(
    client: Client,
    account: Account,
    operator: Any,
    outsider: Any,
    other_account: Account,
    depts: dict[str, Department],
) -> None:
    rule = RoutingRule.objects.create(account=account, keyword="噪音", department=depts["市城管局"])
    reply = CannedReply.objects.create(account=account, title="问候", text="您好")
    client.force_login(operator)
    for url in (ROUTING, LIMITS, REPLIES):
        assert client.get(url).status_code == 403
    add_member(other_account, outsider, Membership.Role.ADMIN)  # an admin elsewhere
    client.force_login(outsider)
    body = page(client.get(ROUTING))
    assert 'class="kw">噪音' not in body  # their own account's page
    assert "问候" not in page(client.get(REPLIES))
    assert client.get(ROUTING, {"edit": rule.pk}).status_code == 404
    assert client.post(ROUTING, {"action": "delete", "rule": rule.pk}).status_code == 404
    assert client.post(REPLIES, {"action": "delete", "reply": reply.pk}).status_code == 404
    assert RoutingRule.objects.filter(pk=rule.pk).exists()
    assert CannedReply.objects.filter(pk=reply.pk).exists()


def test_anonymous_goes_to_the_login(client: Client) -> None:
    for url in (ROUTING, LIMITS, REPLIES):
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r["Location"]


# ------------------------------------------------------------------ time limits

LIMIT_POST = {
    "case_type": "complaint",
    "first_response": "2",
    "first_response_unit": "working_days",
    "resolution": "5",
    "resolution_unit": "working_days",
    "action": "save",
}


def test_a_time_limit_is_saved_audited_and_previewed_on_the_calendar(
    admin_client: Client, account: Account, account_admin: Any
) -> None:
    # Tuesday 30 September 2025, the eve of National Day: 1–8 October are off and
    # Saturday 11 October is a make-up working day
    with time_machine.travel(datetime(2025, 9, 30, 9, 0, tzinfo=SH), tick=False):
        body = page(admin_client.get(LIMITS))
        assert "今天 16:00 收到的投诉" in body
        # the default, 10 working days: 9–11 (Saturday, make-up), 13–17, 20, 21 October,
        # to the end of the day
        assert 'id="preview-complaint"' in body and "10月21日 23:59" in body
        r = admin_client.post(LIMITS, {**LIMIT_POST, "restart_on_transfer": "on"})
        assert r.status_code == 302
        body = page(admin_client.get(LIMITS))
    row = TimeLimit.objects.get(account=account, case_type="complaint")
    assert (row.first_response, row.resolution, row.restart_on_transfer) == (2, 5, True)
    assert "已保存「投诉」的办理时限" in body
    # 5 working days: 9, 10, 11 (Saturday, make-up), 13, 14 October
    assert "10月14日 23:59" in body and "10月21日 23:59" not in body
    event = AuditEvent.objects.get(name="desk.time_limit_set")
    assert event.actor == account_admin and event.data["after"]["resolution"] == [5, "working_days"]
    assert event.data["before"]["resolution"] == [10, "working_days"]
    assert 'href="/calendar/"' in body


def test_the_preview_button_shows_without_saving(admin_client: Client, account: Account) -> None:
    with time_machine.travel(datetime(2025, 9, 30, 9, 0, tzinfo=SH), tick=False):
        body = page(admin_client.post(LIMITS, {**LIMIT_POST, "action": "preview"}))
    assert "预览，未保存" in body and "10月14日 23:59" in body
    assert not TimeLimit.objects.exists() and audits("desk.") == []


def test_a_year_not_confirmed_is_flagged_in_the_preview(
    admin_client: Client, account_admin: Any
) -> None:
    from govwx.workcalendar.models import CalendarYear

    last = CalendarYear.objects.order_by("-year").values_list("year", flat=True).first()
    assert last is not None
    with time_machine.travel(datetime(last, 12, 28, 9, 0, tzinfo=SH), tick=False):
        admin_client.force_login(account_admin)  # a session of that day
        body = page(admin_client.get(LIMITS))
    assert f'data-provisional-year="{last + 1}"' in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"resolution": "0"}, "办结时限至少为 1 工作日"),
        ({"first_response": "0", "first_response_unit": "hours"}, "首次响应时限至少为 1 小时"),
        ({"resolution": "251"}, "办结时限不能超过一年（最多 250 工作日）"),
        (
            {"resolution": "8761", "resolution_unit": "hours"},
            "办结时限不能超过一年（最多 8760 小时）",
        ),
        ({"resolution": "十"}, "办结时限请填写整数"),
        ({"resolution_unit": "weeks"}, "办结时限的单位只能是工作日或小时"),
        ({"case_type": "gossip"}, "未知的诉求类型"),
    ],
)
def test_a_bad_time_limit_is_refused_and_nothing_changes(
    admin_client: Client, account: Account, changes: dict[str, str], message: str
) -> None:
    TimeLimit.objects.create(
        account=account, case_type="complaint", first_response=1, first_response_unit="working_days",
        resolution=10, resolution_unit="working_days",
    )  # fmt: skip
    r = admin_client.post(LIMITS, {**LIMIT_POST, **changes})
    assert r.status_code == 400 and message in page(r)
    row = TimeLimit.objects.get()
    assert (row.first_response, row.resolution, row.resolution_unit) == (1, 10, "working_days")
    assert audits("desk.") == []


def test_the_service_refuses_zero_and_over_a_year(account: Account, account_admin: Any) -> None:
    from django.core.exceptions import ValidationError

    from govwx.desk.services import Limits
    from govwx.desk.settings_services import set_time_limit

    for limits in (
        Limits(0, "working_days", 3, "working_days"),
        Limits(1, "working_days", 300, "working_days"),
        Limits(9000, "hours", 3, "working_days"),
    ):
        with pytest.raises(ValidationError):
            set_time_limit(account, "consultation", limits, actor=account_admin)
    assert not TimeLimit.objects.exists()


# ------------------------------------------------------------------ canned replies


def test_a_canned_reply_with_variables_is_filled_in_on_the_case_page(
    admin_client: Client, account: Account, depts: dict[str, Department], operator: Any
) -> None:
    r = admin_client.post(
        REPLIES,
        {"action": "add", "title": "已转办", "case_type": "complaint",
         "text": "{昵称}您好，您的诉求（编号 {诉求编号}）已转{部门}办理。"},
    )  # fmt: skip
    assert r.status_code == 302
    admin_client.post(REPLIES, {"action": "add", "title": "通用", "text": "感谢{昵称}的留言"})
    admin_client.post(
        REPLIES, {"action": "add", "title": "咨询专用", "case_type": "consultation", "text": "x"}
    )
    assert audits("desk.canned") == ["desk.canned_reply_added"] * 3
    RoutingRule.objects.create(
        account=account, keyword="噪音", case_type="complaint", department=depts["市城管局"]
    )
    case = services.intake(inbound(account, "投诉噪音扰民", openid="oZhang").pk)
    Follower.objects.create(
        account=account, openid="oZhang", nickname="张先生",
        first_seen_at=case.opened_at, last_interaction_at=case.opened_at,
    )  # fmt: skip
    admin_client.logout()
    admin_client.force_login(operator)
    body = page(admin_client.get(reverse("desk:case", args=[case.pk])))
    found = re.search(r'<script id="canned-data" type="application/json">(.*?)</script>', body)
    assert found is not None
    assert json.loads(found.group(1)) == [
        {"title": "已转办", "text": f"张先生您好，您的诉求（编号 {case.pk}）已转市城管局办理。"},
        {"title": "通用", "text": "感谢张先生的留言"},
    ]  # not the one for consultations


def test_without_a_name_or_department_the_words_still_read(account: Account) -> None:
    from govwx.desk.settings_services import canned_for_case

    CannedReply.objects.create(
        account=account, title="t", text="{昵称}您好，{部门}将答复 #{诉求编号}"
    )
    case = services.intake(inbound(account, "请问办事时间", openid="oAnon").pk)
    assert canned_for_case(case) == [
        {"title": "t", "text": f"市民朋友您好，相关部门将答复 #{case.pk}"}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"title": "问候", "text": "{姓名}您好"},
            "未知的变量 {姓名}：可用的变量只有 {昵称}、{诉求编号}、{部门}",
        ),
        ({"title": "问候", "text": "{昵称您好"}, "花括号只用于变量"),
        ({"title": "", "text": "您好"}, "标题不能为空"),
        ({"title": "问候", "text": "  "}, "内容不能为空"),
        ({"title": "问候", "text": "您好", "case_type": "gossip"}, "未知的诉求类型"),
    ],
)
def test_a_bad_canned_reply_is_refused_and_nothing_changes(
    admin_client: Client, account: Account, data: dict[str, str], message: str
) -> None:
    r = admin_client.post(REPLIES, {"action": "add", **data})
    assert r.status_code == 400 and message in page(r)
    assert not CannedReply.objects.exists() and audits("desk.") == []


def test_a_canned_reply_is_edited_and_deleted(admin_client: Client, account: Account) -> None:
    reply = CannedReply.objects.create(account=account, title="问候", text="您好")
    assert "修改快捷回复「问候」" in page(admin_client.get(REPLIES, {"edit": reply.pk}))
    admin_client.post(
        REPLIES,
        {"action": "edit", "reply": reply.pk, "title": "问候语", "text": "{昵称}您好",
         "case_type": "help"},
    )  # fmt: skip
    reply.refresh_from_db()
    assert (reply.title, reply.text, reply.case_type) == ("问候语", "{昵称}您好", "help")
    r = admin_client.post(
        REPLIES, {"action": "edit", "reply": reply.pk, "title": "x", "text": "{x}"}
    )
    assert r.status_code == 400
    reply.refresh_from_db()
    assert reply.title == "问候语"
    admin_client.post(REPLIES, {"action": "delete", "reply": reply.pk})
    assert not CannedReply.objects.exists()
    assert audits("desk.canned") == ["desk.canned_reply_changed", "desk.canned_reply_deleted"]


def test_the_pages_cost_the_same_queries_for_few_rows_or_many(
    admin_client: Client, account: Account, depts: dict[str, Department]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counts() -> list[int]:
        found = []
        for url in (ROUTING, LIMITS, REPLIES):
            with CaptureQueriesContext(connection) as q:
                assert admin_client.get(url).status_code == 200
            found.append(len(q))
        return found

    RoutingRule.objects.create(account=account, keyword="a", department=depts["市城管局"])
    CannedReply.objects.create(account=account, title="a", text="a")
    counts()  # what a process loads once (the calendar), and the session
    few = counts()
    for i in range(8):
        RoutingRule.objects.create(account=account, keyword=f"k{i}", department=depts["市人社局"])
        CannedReply.objects.create(account=account, title=f"t{i}", text="x", case_type="help")
    assert counts() == few
    assert Case.objects.count() == 0
