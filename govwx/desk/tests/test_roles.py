"""Each role against each case action, per the permission table.

A case led by 人社 with 城管 assisting, in the state the action needs; each person posts
the action from the case page. Allowed: the action's permission, and for a department
liaison the case led by their department. Refused: 403 at the door (no case
permission at all), 404 (a liaison of a department the case does not concern), or the
page's error message — and in every refusal the case is left as it was.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from govwx.accounts.models import Account, Membership
from govwx.accounts.permissions import DEPARTMENT_SCOPED, role_has
from govwx.accounts.services import add_member
from govwx.console.tests.staff import NOW, make_staff, open_case
from govwx.desk.models import Case, CaseEvent, CaseMessage, Status

pytestmark = pytest.mark.django_db

# action -> (the permission it needs, the status the case must be in, the form, the event)
ACTIONS: dict[str, tuple[str, str, dict[str, str], str]] = {
    "assign": ("cases.route", Status.ASSIGNED, {"department": "教育"}, "case.assigned"),
    "assist": ("cases.route", Status.IN_PROGRESS, {"department": "教育"}, "case.assisting_added"),
    "close": ("cases.route", Status.RESOLVED, {}, "case.closed"),
    "extend": (
        "cases.route",
        Status.IN_PROGRESS,
        {"working_days": "1", "reason": "需现场核实"},
        "case.extended",
    ),
    "urge": ("cases.route", Status.IN_PROGRESS, {"note": "请尽快办理"}, "case.urged"),
    "accept": ("cases.accept", Status.ASSIGNED, {}, "case.accepted"),
    "return": ("cases.accept", Status.ASSIGNED, {"reason": "不属于本部门职责"}, "case.returned"),
    "reassign": (
        "cases.accept",
        Status.IN_PROGRESS,
        {"reason": "属于城管职责"},
        "case.reassign_requested",
    ),
    "take": ("cases.handle", Status.ASSIGNED, {}, "case.taken"),
    "reply": ("cases.handle", Status.IN_PROGRESS, {"text": "已为您办理"}, "case.replied"),
    "ask": ("cases.handle", Status.IN_PROGRESS, {"text": "请补充地址"}, "case.asked"),
    "note": ("cases.handle", Status.IN_PROGRESS, {"text": "已电话联系"}, "case.noted"),
    "resolve": ("cases.handle", Status.IN_PROGRESS, {}, "case.resolved"),
    "supervise": ("cases.supervise", Status.IN_PROGRESS, {"note": "限期办结"}, "case.supervised"),
}
# The people: each role (the liaison acts for 人社, which leads the case), the liaisons of
# the assisting department and of a department with nothing to do with the case, and a
# superuser.
PEOPLE = [*Membership.Role.values, "liaison-assisting", "liaison-elsewhere", "superuser"]
_openids = itertools.count(1)


@pytest.fixture
def staff(account: Account, django_user_model: Any) -> Any:
    with time_machine.travel(NOW, tick=True):
        users, depts = make_staff(account, django_user_model)
        for who, dept in (("liaison-assisting", "城管"), ("liaison-elsewhere", "教育")):
            users[who] = django_user_model.objects.create_user(f"r-{who}")
            add_member(account, users[who], Membership.Role.LIAISON, department=depts[dept])
        yield account, users, depts


def case_in(account: Account, depts: dict[str, Any], status: str) -> Case:
    case = open_case(account, f"o-act-{next(_openids)}", "投诉小区噪音")
    Case.objects.filter(pk=case.pk).update(
        status=status, department=depts["人社"], resolved_at=timezone.now()
    )
    case.assisting.add(depts["城管"])
    case.refresh_from_db()
    return case


def expected(person: str, perm: str) -> str:
    """'done', 'forbidden' (403), 'hidden' (404) or 'refused' (the page's message)."""
    role = {"superuser": "admin"}.get(person, person.split("-")[0])
    if not role_has(role, "cases.handle"):  # the door of the case's actions
        return "forbidden"
    if person == "liaison-elsewhere":
        return "hidden"
    if not role_has(role, perm):
        return "refused"
    if role in DEPARTMENT_SCOPED and person != "liaison":  # only the lead department acts
        return "refused"
    return "done"


def state(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.department_id,
        case.revision,
        case.supervised_at,
        case.extensions,
        sorted(case.assisting.values_list("pk", flat=True)),
        CaseEvent.objects.filter(case=case).count(),
        CaseMessage.objects.filter(case=case).count(),
    )


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_role_and_a_case_action(action: str, staff: Any, settings: Any) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9"  # a reply is queued, never sent
    account, users, depts = staff
    perm, status, form, event = ACTIONS[action]
    outcomes = {}
    with time_machine.travel(NOW, tick=True):
        for person in PEOPLE:
            case = case_in(account, depts, status)
            data = {"action": action, "revision": str(case.revision), **form}
            if "department" in data:
                data["department"] = str(depts[data["department"]].pk)
            before = state(case)
            client = Client()
            client.force_login(users[person])
            r = client.post(f"/desk/cases/{case.pk}/act/", data)
            if r.status_code in (403, 404):
                outcome = {403: "forbidden", 404: "hidden"}[r.status_code]
            else:
                assert r.status_code == 302, (action, person, r.status_code)
                done = CaseEvent.objects.filter(case=case, name=event).exists()
                outcome = "done" if done else "refused"
                if not done:
                    shown = [str(m) for m in get_messages(r.wsgi_request)]
                    assert any("没有权限" in m or "只有" in m or "无权" in m for m in shown), (
                        action,
                        person,
                        shown,
                    )
            if outcome != "done":
                assert state(case) == before, f"{action} by {person}: refused, yet changed"
            outcomes[person] = outcome
    assert outcomes == {p: expected(p, perm) for p in PEOPLE}


def test_the_table_gives_the_desk_what_it_promises() -> None:
    """The expectations above, in words, for the reader of docs/permissions.md."""
    done = {a: [p for p in PEOPLE if expected(p, ACTIONS[a][0]) == "done"] for a in ACTIONS}
    office = ["admin", "operator", "supervisor", "superuser"]
    assert done["assign"] == done["close"] == done["extend"] == done["urge"] == office
    assert done["accept"] == done["return"] == done["reassign"] == ["liaison"]
    # 领取: the office on any case, a liaison on their own department's
    assert done["take"] == ["admin", "operator", "liaison", "supervisor", "superuser"]
    assert done["reply"] == done["note"] == done["resolve"] == [*office[:2], "liaison", *office[2:]]
    assert done["supervise"] == ["admin", "supervisor", "superuser"]
