"""领取: a person takes a case to handle it themselves; the case page names them, says
what each action did, and shows people by their names, not their logins."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from govwx.accounts.models import Account, AuditEvent
from govwx.console.tests.staff import NOW, make_staff, open_case
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent, Status

pytestmark = pytest.mark.django_db
_openids = itertools.count(1)


@pytest.fixture
def staff(account: Account, django_user_model: Any) -> Any:
    with time_machine.travel(NOW, tick=True):
        users, depts = make_staff(account, django_user_model)
        users["operator"].first_name = "李明"
        users["operator"].save()
        yield account, users, depts


def new_case(account: Account) -> Case:
    return open_case(account, f"o-take-{next(_openids)}", "投诉小区噪音")


def test_an_operator_takes_a_new_case(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        assert services.handler_of(case) is None
        services.take_case(case, revision=case.revision, actor=users["operator"])
    assert case.status == Status.IN_PROGRESS and case.revision == 2
    assert services.handler_of(case) == users["operator"]
    event = CaseEvent.objects.get(case=case, name="case.taken")
    assert event.actor == users["operator"] and event.data == {}
    audit = AuditEvent.objects.get(name="case.taken")
    assert (audit.account, audit.actor, audit.data) == (
        account,
        users["operator"],
        {"case": case.pk, "took_over": None},
    )


def test_taking_it_twice_is_refused_and_changes_nothing(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        services.take_case(case, revision=case.revision, actor=users["operator"])
        with pytest.raises(ValidationError) as info:
            services.take_case(case, revision=case.revision, actor=users["operator"])
    assert info.value.messages == ["您已领取此诉求 / you have already taken this case"]
    assert CaseEvent.objects.filter(case=case, name="case.taken").count() == 1
    case.refresh_from_db()
    assert case.revision == 2


def test_a_stale_page_is_a_conflict(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        seen = case.revision
        services.take_case(case, revision=seen, actor=users["operator"])
        with pytest.raises(services.Conflict):
            services.take_case(case, revision=seen, actor=users["supervisor"])
    assert services.handler_of(case) == users["operator"]


def test_another_person_takes_it_over_and_a_transfer_ends_it(staff: Any) -> None:
    account, users, depts = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        services.take_case(case, revision=case.revision, actor=users["operator"])
        services.take_case(case, revision=case.revision, actor=users["admin"])
        assert services.handler_of(case) == users["admin"]
        last = CaseEvent.objects.filter(case=case, name="case.taken").order_by("-id").first()
        assert last is not None and last.data == {"from": users["operator"].pk}
        services.assign_case(case, depts["人社"], revision=case.revision, actor=users["admin"])
        assert services.handler_of(case) is None
        # the lead department's liaison takes it: in progress, theirs
        services.take_case(case, revision=case.revision, actor=users["liaison"])
    assert case.status == Status.IN_PROGRESS
    assert services.handler_of(case) == users["liaison"]


def test_a_liaison_takes_only_their_departments_cases(staff: Any) -> None:
    account, users, depts = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        services.assign_case(case, depts["城管"], revision=case.revision, actor=users["admin"])
        with pytest.raises(PermissionDenied) as info:
            services.take_case(case, revision=case.revision, actor=users["liaison"])
    assert str(info.value) == "只有主办部门可以领取 / only the lead department takes it"
    assert case.status == Status.ASSIGNED and services.handler_of(case) is None


def test_a_closed_case_is_not_taken(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED, closed_at=timezone.now())
        case.refresh_from_db()
        with pytest.raises(ValidationError) as info:
            services.take_case(case, revision=case.revision, actor=users["operator"])
    assert info.value.messages == ["当前状态不能领取 / cannot take a case that is 已关闭"]
    assert not CaseEvent.objects.filter(case=case, name="case.taken").exists()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_case_page_takes_and_names_the_handler(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        client = Client()
        client.force_login(users["operator"])
        page = client.get(f"/desk/cases/{case.pk}/").content.decode()
        assert 'id="do-take"' in page and 'id="case-handler">—<' in page
        r = client.post(
            f"/desk/cases/{case.pk}/act/", {"action": "take", "revision": str(case.revision)}
        )
        assert [str(m) for m in get_messages(r.wsgi_request)] == ["已领取，由您办理"]
        page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert 'id="case-handler">李明<' in page
    assert 'id="do-take"' not in page  # already theirs
    assert "领取 · 李明" in text_of(page)  # the history, by name


# action -> (who, the case's status, the form, what the page then says)
CONFIRMATIONS: dict[str, tuple[str, str, dict[str, str], str]] = {
    "take": ("operator", Status.NEW, {}, "已领取，由您办理"),
    "assign": ("operator", Status.NEW, {"department": "城管"}, "已转办至 城管"),
    "assist": ("operator", Status.IN_PROGRESS, {"department": "教育"}, "已增加协办部门 教育"),
    "accept": ("liaison", Status.ASSIGNED, {}, "已接收"),
    "return": ("liaison", Status.ASSIGNED, {"reason": "不属于本部门"}, "已退回，诉求回到待分派"),
    "reassign": ("liaison", Status.IN_PROGRESS, {"reason": "属城管职责"}, "已申请改派"),
    "reply": ("operator", Status.IN_PROGRESS, {"text": "已安排处理"}, "已答复群众"),
    "ask": ("operator", Status.IN_PROGRESS, {"text": "请补充地址"}, "已请群众补充"),
    "note": ("operator", Status.IN_PROGRESS, {"text": "已电话联系"}, "已记为内部备注"),
    "resolve": ("operator", Status.IN_PROGRESS, {}, "已办结"),
    "close": ("operator", Status.RESOLVED, {}, "已关闭"),
    "supervise": ("supervisor", Status.IN_PROGRESS, {"note": "限期办结"}, "已督办"),
    "urge": ("operator", Status.IN_PROGRESS, {"note": "请尽快"}, "已催办"),
}


@pytest.mark.parametrize("action", list(CONFIRMATIONS))
def test_each_action_says_what_it_did(action: str, staff: Any, settings: Any) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9"  # a reply is queued, never sent
    account, users, depts = staff
    who, status, form, said = CONFIRMATIONS[action]
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        dept = None if status == Status.NEW else depts["人社"]
        Case.objects.filter(pk=case.pk).update(status=status, department=dept)
        case.refresh_from_db()
        data = {"action": action, "revision": str(case.revision), **form}
        if "department" in data:
            data["department"] = str(depts[data["department"]].pk)
        client = Client()
        client.force_login(users[who])
        r = client.post(f"/desk/cases/{case.pk}/act/", data)
    assert r.status_code == 302
    assert [str(m) for m in get_messages(r.wsgi_request)] == [said]


def test_extending_says_the_new_time_limit(staff: Any) -> None:
    account, users, depts = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        Case.objects.filter(pk=case.pk).update(status=Status.IN_PROGRESS, department=depts["人社"])
        client = Client()
        client.force_login(users["operator"])
        r = client.post(
            f"/desk/cases/{case.pk}/act/",
            {"action": "extend", "revision": "1", "working_days": "2", "reason": "需现场核实"},
        )
    case.refresh_from_db()
    due = timezone.localtime(case.resolve_due).strftime("%Y-%m-%d %H:%M")
    assert case.extensions == 1
    assert [str(m) for m in get_messages(r.wsgi_request)] == [f"已延期，办结时限改为 {due}"]


def test_a_refused_action_says_why_not_done(staff: Any) -> None:
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        client = Client()
        client.force_login(users["operator"])
        r = client.post(f"/desk/cases/{case.pk}/act/", {"action": "resolve", "revision": "1"})
    shown = [str(m) for m in get_messages(r.wsgi_request)]
    assert shown == ["当前状态不能办结 / cannot resolve a case that is new"]


def test_replies_and_history_show_the_persons_name_not_the_login(staff: Any, settings: Any) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9"
    account, users, _ = staff
    with time_machine.travel(NOW, tick=True):
        case = new_case(account)
        services.take_case(case, revision=case.revision, actor=users["operator"])
        services.reply_to_case(
            case, "已安排城管到现场", revision=case.revision, actor=users["operator"]
        )
        services.add_note(case, "已电话联系", actor=users["supervisor"])  # no name: the login
        client = Client()
        client.force_login(users["admin"])
        page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert page.count('<span class="author">李明</span>') == 1
    assert '<span class="author">r-supervisor</span>' in page
    assert "r-operator" not in page
    assert "答复 · 李明" in text_of(page)
