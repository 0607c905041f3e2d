"""Pages show each role only the buttons it may use (`perms_here`)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from govwx.accounts.models import Account
from govwx.desk.models import Case, Status
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule

from .staff import NOW, make_staff, open_case

pytestmark = pytest.mark.django_db
CASE_BUTTONS = {"reply", "ask", "note", "assign", "assist", "take", "accept", "return",
                "reassign", "resolve", "close", "extend", "urge", "supervise"}  # fmt: skip


def page(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    r = client.get(url)
    assert r.status_code == 200, (user, url, r.status_code)
    return str(r.content.decode())


def ids(body: str, prefix: str) -> set[str]:
    return set(re.findall(rf'id="{prefix}-([a-z]+)"', body))


@pytest.fixture
def staff(account: Account, django_user_model: Any) -> dict[str, Any]:
    with time_machine.travel(NOW, tick=True):
        users, _ = make_staff(account, django_user_model)
    return users


def test_the_rule_list_offers_editing_only_to_those_who_edit(
    account: Account, staff: dict[str, Any]
) -> None:
    rule = create_rule(
        account,
        RuleInput(
            name="社保",
            keywords=[KeywordInput("社保")],
            replies=[ReplyInput("text", {"content": "社保答复"})],
        ),
    )
    edit = f'href="/rules/{rule.pk}/edit/"'
    for role in ("admin", "operator", "editor", "superuser"):
        body = page(staff[role], "/rules/")
        assert 'id="new-rule"' in body and 'id="trigger-replies"' in body and edit in body
    body = page(staff["reviewer"], "/rules/")
    assert "社保" in body and 'id="try-submit"' in body
    assert 'id="new-rule"' not in body and "trigger-replies" not in body and edit not in body
    assert f'href="/rules/{rule.pk}/delete/"' not in body
    tried = page(staff["reviewer"], "/rules/try/?text=社保")
    assert 'data-how="rule"' in tried and edit not in tried
    assert edit in page(staff["editor"], "/rules/try/?text=社保")


def test_home_shows_the_latest_messages_only_to_those_who_read_them(
    staff: dict[str, Any],
) -> None:
    for role in ("admin", "operator", "supervisor"):
        assert 'href="/messages/"' in page(staff[role], "/")
    for role in ("editor", "reviewer", "liaison"):
        body = page(staff[role], "/")
        assert 'href="/messages/"' not in body and 'id="stat-received"' in body


def test_the_case_page_shows_each_role_its_actions(account: Account, staff: dict[str, Any]) -> None:
    with time_machine.travel(NOW, tick=True):
        case = open_case(account, "o-buttons")
    lead = staff["liaison"].memberships.get().department
    Case.objects.filter(pk=case.pk).update(status=Status.ASSIGNED, department=lead)
    url = f"/desk/cases/{case.pk}/"
    office = CASE_BUTTONS - {"accept", "return", "reassign", "supervise"}
    assert ids(page(staff["operator"], url), "do") == office
    assert ids(page(staff["supervisor"], url), "do") == office | {"supervise"}
    assert ids(page(staff["admin"], url), "do") == office | {"supervise"}
    assert ids(page(staff["liaison"], url), "do") == {
        "reply", "ask", "note", "take", "accept", "return", "reassign", "resolve"
    }  # fmt: skip
    inbox = page(staff["liaison"], "/desk/cases/")
    assert "export-link" not in inbox and "summary-link" not in inbox
    assert 'id="export-link"' in page(staff["operator"], "/desk/cases/")
