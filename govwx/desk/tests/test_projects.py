"""Cases owned by a project team: linking and unlinking (service and page)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Membership
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent
from govwx.desk.projects import link_case, unlink_case
from govwx.team import people
from govwx.team.models import Project
from govwx.team.tests.staffing import staff_account
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db

ARCHIVED = "专项工作组已结项归档，只能查看，不能修改 / the project is archived and read-only"


@pytest.fixture
def staff(account: Account, account_admin: Any, operator: Any) -> dict[str, Any]:
    return staff_account(account, account_admin)


@pytest.fixture
def project(account: Account, staff: dict[str, Any]) -> Project:
    return people.create_project(
        account,
        name="防汛宣传",
        kind=Project.Kind.CAMPAIGN,
        lead=staff["editor"],
        starts_on=date(2026, 5, 1),
        due_on=date(2026, 9, 30),
        actor=staff["admin"],
    )


def make_case(account: Account, text: str, openid: str) -> Case:
    now = datetime.now(UTC)
    msg = InboundMessage.objects.create(
        account=account,
        openid=openid,
        dedup_key=f"m:{account.pk}:{openid}",
        msg_type="text",
        content=text,
        sent_at=now,
        received_at=now,
        handled_by="desk",
    )
    return services.intake(msg.pk)


def state() -> tuple[Any, ...]:
    return (
        list(Case.objects.order_by("id").values_list("id", "project_id", "revision")),
        CaseEvent.objects.filter(name__startswith="case.project").count(),
        AuditEvent.objects.filter(name__startswith="project.case").count(),
    )


def test_a_case_is_linked_and_unlinked_with_its_history(
    account: Account, staff: dict[str, Any], project: Project
) -> None:
    case = make_case(account, "积水严重，请求排涝", "o1")
    revision = case.revision
    case = link_case(case, project, actor=staff["leader"])
    assert (case.project, case.revision) == (project, revision)  # no conflict with case actions
    event = CaseEvent.objects.get(case=case, name="case.project_linked")
    assert (event.actor, event.data) == (
        staff["leader"],
        {"project": project.pk, "project_name": "防汛宣传"},
    )
    audit = AuditEvent.objects.get(name="project.case_linked")
    assert (audit.account, audit.actor, audit.data) == (
        account,
        staff["leader"],
        {"project": project.pk, "case": case.pk},
    )
    assert list(project.cases.all()) == [case]
    case = unlink_case(case, project, actor=staff["admin"])
    assert case.project is None
    assert list(CaseEvent.objects.filter(case=case).values_list("name", flat=True)) == [
        "case.opened",
        "case.project_linked",
        "case.project_unlinked",
    ]
    assert AuditEvent.objects.filter(name="project.case_unlinked").count() == 1


def test_bad_links_change_nothing_and_say_why(
    account: Account,
    other_account: Account,
    staff: dict[str, Any],
    project: Project,
    operator: Any,
) -> None:
    case = make_case(account, "咨询汛期停课", "o1")
    foreign = make_case(other_account, "另一个县的诉求", "o2")
    other_project = people.create_project(
        account,
        name="国庆专题",
        kind=Project.Kind.TOPIC,
        lead=staff["leader"],
        starts_on=date(2026, 9, 1),
        due_on=date(2026, 10, 8),
        actor=staff["admin"],
    )
    link_case(case, other_project, actor=staff["admin"])
    before = state()
    refusals = [
        (foreign, project, "诉求与专项工作组不属于同一个公众号 / the case and the project are of different accounts"),
        (case, project, "已属于专项工作组「国庆专题」，请先在那里取消关联"),
        (case, other_project, f"诉求 #{case.pk} 已关联本工作组"),
    ]  # fmt: skip
    for c, p, message in refusals:
        with pytest.raises(ValidationError) as exc:
            link_case(c, p, actor=staff["admin"])
        assert message in exc.value.messages[0]
    with pytest.raises(ValidationError, match="不属于本工作组"):
        unlink_case(case, project, actor=staff["admin"])
    for who in (operator, staff["editor"], staff["water"]):  # the lead (editor) too: no manage
        with pytest.raises(PermissionDenied):
            link_case(foreign, project, actor=who)
        with pytest.raises(PermissionDenied):
            unlink_case(case, other_project, actor=who)
    assert state() == before


def test_an_archived_project_takes_and_gives_up_no_case(
    account: Account, staff: dict[str, Any], project: Project
) -> None:
    linked = make_case(account, "已关联", "o1")
    free = make_case(account, "未关联", "o2")
    link_case(linked, project, actor=staff["admin"])
    stale = Project.objects.get(pk=project.pk)
    people.close_project(project, "完成", actor=staff["admin"])
    before = state()
    for write, case in ((link_case, free), (unlink_case, linked)):
        for p in (project, stale):  # a stale copy read before the close, too
            with pytest.raises(ValidationError) as exc:
                write(case, p, actor=staff["admin"])
            assert exc.value.messages == [ARCHIVED]
    assert state() == before


def test_the_project_page_links_a_case_by_its_number(
    client: Client,
    account: Account,
    other_account: Account,
    staff: dict[str, Any],
    project: Project,
) -> None:
    case = make_case(account, "小区积水，电话13812345678", "o1")
    foreign = make_case(other_account, "另一个县", "o2")
    client.force_login(staff["leader"])
    page = f"/team/projects/{project.pk}/"
    assert 'id="link-case"' in client.get(page).content.decode()
    r = client.post(f"/desk/projects/{project.pk}/link/", {"case": f"#{case.pk}"})
    assert r.status_code == 302 and r["Location"] == page
    case.refresh_from_db()
    assert case.project == project
    body = client.get(page).content.decode()
    assert f'data-case="{case.pk}"' in body and "138****5678" in body and "13812345678" not in body
    assert case.get_status_display() in body
    # the case page names its project, and its history says it was linked
    body = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert f'href="/team/projects/{project.pk}/" id="case-project">{project.name}<' in body
    assert "关联专项工作组" in body
    before = state()
    for typed, message in (
        ("abc", "请填写诉求编号"),
        (str(foreign.pk), f"本公众号没有编号为 #{foreign.pk} 的诉求"),
        (str(case.pk), "已关联本工作组"),
    ):
        r = client.post(f"/desk/projects/{project.pk}/link/", {"case": typed}, follow=True)
        assert message in r.content.decode()
    assert state() == before
    r = client.post(f"/desk/projects/{project.pk}/unlink/", {"case": str(case.pk)})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.project is None


def test_linking_pages_by_role(
    client: Client,
    account: Account,
    staff: dict[str, Any],
    project: Project,
    outsider: Any,
    other_account: Account,
    django_user_model: Any,
) -> None:
    case = make_case(account, "积水", "o1")
    before = state()
    client.force_login(staff["editor"])  # the lead, an editor: views, does not link
    body = client.get(f"/team/projects/{project.pk}/").content.decode()
    assert 'id="link-case"' not in body
    assert client.post(f"/desk/projects/{project.pk}/link/", {"case": case.pk}).status_code == 403
    boss = django_user_model.objects.create_user("boss")
    add_member(other_account, boss, Membership.Role.ADMIN)
    client.force_login(outsider)  # an operator of another account: may not link at all
    assert client.post(f"/desk/projects/{project.pk}/link/", {"case": case.pk}).status_code == 403
    client.force_login(boss)  # its admin: there is no such project
    assert client.post(f"/desk/projects/{project.pk}/link/", {"case": case.pk}).status_code == 404
    assert client.get(f"/desk/projects/{project.pk}/link/").status_code == 405
    client.logout()
    r = client.post(f"/desk/projects/{project.pk}/link/", {"case": case.pk})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert state() == before
