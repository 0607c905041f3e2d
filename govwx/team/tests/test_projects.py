"""Project teams (专项工作组): forming one by skills, members, deliverables, closing
and archiving, and their pages."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent
from govwx.accounts.services import add_member
from govwx.team import people
from govwx.team.models import Deliverable, Project

from .staffing import staff_account

pytestmark = pytest.mark.django_db

ARCHIVED = "专项工作组已结项归档，只能查看，不能修改 / the project is archived and read-only"


@pytest.fixture
def staff(account: Account, account_admin: Any, operator: Any) -> dict[str, Any]:
    return staff_account(account, account_admin)


def new_project(account: Account, staff: dict[str, Any], **kw: Any) -> Project:
    args: dict[str, Any] = {
        "name": "2026 年防汛宣传",
        "kind": Project.Kind.CAMPAIGN,
        "goal": "汛期前发布防汛知识",
        "lead": staff["editor"],
        "starts_on": date(2026, 5, 1),
        "due_on": date(2026, 9, 30),
        "members": [staff["photo"], staff["water"]],
        "actor": staff["admin"],
    }
    args.update(kw)
    return people.create_project(account, **args)


def state() -> tuple[Any, ...]:
    """Everything a refused write must leave as it was."""
    return (
        list(Project.objects.values_list("id", "name", "status", "closed_at", "summary")),
        sorted(Project.members.through.objects.values_list("project_id", "user_id")),
        list(Deliverable.objects.values_list("id", "title", "due_on", "owner_id", "done_at")),
        AuditEvent.objects.filter(name__startswith="project.").count(),
    )


# ------------------------------------------------------------------ create


def test_it_creates_a_project_with_its_lead_among_the_members(
    account: Account, staff: dict[str, Any]
) -> None:
    project = new_project(account, staff)
    assert (project.account, project.lead, project.status) == (
        account,
        staff["editor"],
        Project.Status.ACTIVE,
    )
    assert set(project.members.all()) == {staff["editor"], staff["photo"], staff["water"]}
    event = AuditEvent.objects.get(name="project.created")
    assert (event.account, event.actor) == (account, staff["admin"])
    assert event.data == {
        "project": project.pk,
        "name": "2026 年防汛宣传",
        "lead": staff["editor"].pk,
        "members": sorted([staff["editor"].pk, staff["photo"].pk, staff["water"].pk]),
        "starts_on": "2026-05-01",
        "due_on": "2026-09-30",
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "名称不能为空 / name is required"),
        ({"kind": "party"}, "kind", "未知类型 / unknown kind: party"),
        ({"lead": None}, "lead", "必须指定负责人 / a lead is required"),
        ({"lead": "outsider"}, "lead", "负责人 outsider 不是本公众号的工作人员"),
        ({"lead": "water"}, "lead", "water 的角色不能查看专项工作组，不能担任负责人"),
        ({"members": "outsider"}, "members", "不是本公众号的工作人员：outsider"),
        ({"due_on": date(2026, 4, 30)}, "due_on", "截止日期不能早于开始日期 / the due date is before the start"),
        ({"starts_on": None}, "starts_on", "必须填写开始日期"),
        ({"due_on": None}, "due_on", "必须填写截止日期"),
    ],
)  # fmt: skip
def test_bad_project_input_creates_nothing_and_says_why(
    account: Account,
    staff: dict[str, Any],
    outsider: Any,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    people_by_name = {**staff, "outsider": outsider}
    if change.get("lead") in people_by_name:
        change = {"lead": people_by_name[change["lead"]]}
    if change.get("members") == "outsider":
        change = {"members": [staff["photo"], outsider]}
    before = state()
    with pytest.raises(ValidationError) as exc:
        new_project(account, staff, **change)
    assert message in " ".join(exc.value.message_dict[field])
    assert state() == before


@pytest.mark.parametrize("who", ["operator", "editor", "photo", "water"])
def test_only_admins_and_supervisors_form_projects(
    account: Account, staff: dict[str, Any], operator: Any, who: str
) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        new_project(account, staff, actor=operator if who == "operator" else staff[who])
    assert state() == before
    assert new_project(account, staff, actor=staff["leader"]).pk  # a supervisor may


# ------------------------------------------------------------------ members


def test_members_are_added_and_removed(account: Account, staff: dict[str, Any]) -> None:
    project = new_project(account, staff)
    people.add_project_member(project, staff["design"], actor=staff["leader"])
    d = people.add_deliverable(
        project,
        title="防汛海报",
        due_on=date(2026, 6, 1),
        owner=staff["photo"],
        actor=staff["admin"],
    )
    people.remove_project_member(project, staff["photo"], actor=staff["admin"])
    assert set(project.members.all()) == {staff["editor"], staff["water"], staff["design"]}
    d.refresh_from_db()
    assert d.owner is None  # the open deliverable shows it has nobody now
    names = list(
        AuditEvent.objects.filter(name__startswith="project.member").values_list("name", "data")
    )
    assert names == [
        ("project.member_removed", {"project": project.pk, "user": staff["photo"].pk}),
        ("project.member_added", {"project": project.pk, "user": staff["design"].pk}),
    ]


def test_bad_member_changes_are_refused(
    account: Account, staff: dict[str, Any], outsider: Any
) -> None:
    project = new_project(account, staff)
    before = state()
    cases = [
        (people.add_project_member, outsider, "不是本公众号的工作人员"),
        (people.add_project_member, staff["photo"], "已是成员 / already a member"),
        (people.remove_project_member, staff["editor"], "负责人不能移出工作组 / the lead cannot be removed"),
        (people.remove_project_member, staff["design"], "不是成员 / not a member"),
    ]  # fmt: skip
    for write, user, message in cases:
        with pytest.raises(ValidationError, match=message):
            write(project, user, actor=staff["admin"])
    # the lead (an editor) may not change the team
    with pytest.raises(PermissionDenied):
        people.add_project_member(project, staff["design"], actor=staff["editor"])
    assert state() == before


# ------------------------------------------------------------------ deliverables


def test_the_lead_manages_deliverables(account: Account, staff: dict[str, Any]) -> None:
    project = new_project(account, staff)
    d = people.add_deliverable(
        project, title=" 防汛知识 H5 ", due_on=date(2026, 9, 30), owner=staff["photo"], actor=staff["editor"]
    )  # fmt: skip
    assert (d.title, d.due_on, d.owner, d.done_at) == (
        "防汛知识 H5",
        date(2026, 9, 30),
        staff["photo"],
        None,
    )
    d = people.set_deliverable_done(d, True, actor=staff["editor"])
    done_at = d.done_at
    assert done_at is not None
    assert (
        people.set_deliverable_done(d, True, actor=staff["admin"]).done_at == done_at
    )  # as it was
    assert people.set_deliverable_done(d, False, actor=staff["leader"]).done_at is None
    assert list(
        AuditEvent.objects.filter(name__startswith="project.deliverable")
        .order_by("id")
        .values_list("name", "actor__username")
    ) == [
        ("project.deliverable_added", "editor"),
        ("project.deliverable_done", "editor"),
        ("project.deliverable_undone", "leader"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"title": ""}, "title", "成果名称不能为空"),
        ({"due_on": date(2026, 4, 30)}, "due_on", "截止日期应在工作组期限内（2026-05-01 至 2026-09-30）"),
        ({"due_on": date(2026, 10, 1)}, "due_on", "the due date must lie within the project"),
        ({"due_on": None}, "due_on", "必须填写截止日期"),
        ({"owner": "design"}, "owner", "责任人 design 不是工作组成员 / the owner is not a member"),
    ],
)  # fmt: skip
def test_bad_deliverables_are_refused(
    account: Account, staff: dict[str, Any], kwargs: dict[str, Any], field: str, message: str
) -> None:
    project = new_project(account, staff)
    args: dict[str, Any] = {"title": "防汛海报", "due_on": date(2026, 6, 1), "owner": None}
    args.update(kwargs)
    if args["owner"] == "design":
        args["owner"] = staff["design"]
    before = state()
    with pytest.raises(ValidationError) as exc:
        people.add_deliverable(project, actor=staff["admin"], **args)
    assert message in " ".join(exc.value.message_dict[field])
    assert state() == before


def test_only_managers_and_the_lead_touch_deliverables(
    account: Account, staff: dict[str, Any], operator: Any
) -> None:
    project = new_project(account, staff)
    d = people.add_deliverable(project, title="海报", due_on=date(2026, 6, 1), actor=staff["admin"])
    before = state()
    for actor in (staff["design"], staff["photo"], operator):  # not the lead, no projects.manage
        with pytest.raises(PermissionDenied):
            people.add_deliverable(project, title="视频", due_on=date(2026, 6, 2), actor=actor)
        with pytest.raises(PermissionDenied):
            people.set_deliverable_done(d, True, actor=actor)
    assert state() == before


# ------------------------------------------------------------------ close and archive


def test_closing_needs_a_summary_then_archives_read_only(
    account: Account, staff: dict[str, Any]
) -> None:
    project = new_project(account, staff)
    d = people.add_deliverable(project, title="海报", due_on=date(2026, 6, 1), actor=staff["admin"])
    before = state()
    with pytest.raises(ValidationError) as exc:
        people.close_project(project, "   ", actor=staff["admin"])
    assert exc.value.message_dict["summary"] == ["结项必须填写总结 / closing needs a summary"]
    with pytest.raises(PermissionDenied):
        people.close_project(project, "完成", actor=staff["editor"])  # the lead may not close
    assert state() == before

    project = people.close_project(project, " 发布 12 篇，阅读 10 万+ ", actor=staff["leader"])
    assert (project.status, project.summary) == (Project.Status.ARCHIVED, "发布 12 篇，阅读 10 万+")
    assert project.closed_at is not None
    event = AuditEvent.objects.get(name="project.closed")
    assert event.data == {"project": project.pk, "open_deliverables": 1, "cases": 0}

    before = state()
    writes = [
        lambda: people.add_project_member(project, staff["design"], actor=staff["admin"]),
        lambda: people.remove_project_member(project, staff["photo"], actor=staff["admin"]),
        lambda: people.add_deliverable(project, title="x", due_on=date(2026, 6, 1), actor=staff["admin"]),
        lambda: people.set_deliverable_done(d, True, actor=staff["editor"]),
        lambda: people.close_project(project, "again", actor=staff["admin"]),
    ]  # fmt: skip
    for write in writes:
        with pytest.raises(ValidationError) as exc:
            write()
        assert exc.value.messages == [ARCHIVED]
    assert state() == before


def test_a_stale_copy_of_an_archived_project_is_refused_too(
    account: Account, staff: dict[str, Any]
) -> None:
    project = new_project(account, staff)
    stale = Project.objects.get(pk=project.pk)
    people.close_project(project, "完成", actor=staff["admin"])
    before = state()
    with pytest.raises(ValidationError, match="已结项归档"):
        people.add_project_member(stale, staff["design"], actor=staff["admin"])
    assert state() == before


# ------------------------------------------------------------------ pages


def test_the_project_list_by_role(
    client: Client,
    account: Account,
    staff: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    active = new_project(account, staff)
    done = new_project(account, staff, name="国庆专题", kind=Project.Kind.TOPIC)
    people.close_project(done, "完成", actor=staff["admin"])
    client.force_login(staff["editor"])
    r = client.get("/team/projects/")
    assert r.status_code == 200
    assert (r.context["active"], r.context["archived"]) == ([active], [done])
    body = r.content.decode()
    assert "/team/projects/new/" not in body  # an editor views, does not form projects
    assert client.get("/team/projects/new/").status_code == 403
    with django_assert_num_queries(8):
        client.get("/team/projects/")
    for i in range(3):
        new_project(account, staff, name=f"专题{i}")
    with django_assert_num_queries(8):
        client.get("/team/projects/")
    client.force_login(staff["leader"])
    assert 'href="/team/projects/new/"' in client.get("/team/projects/").content.decode()
    client.force_login(staff["water"])
    assert client.get("/team/projects/").status_code == 403
    assert client.get(f"/team/projects/{active.pk}/").status_code == 403


def test_the_form_pre_ticks_the_suggested_members(
    client: Client, account: Account, staff: dict[str, Any]
) -> None:
    client.force_login(staff["admin"])
    r = client.get(
        "/team/projects/new/", {"skills": ["photography", "policy", "data"], "name": "汛期"}
    )
    assert r.status_code == 200
    assert r.context["chosen"] == [str(staff["leader"].pk), str(staff["photo"].pk)]
    body = r.content.decode()
    assert f'name="members" value="{staff["photo"].pk}" checked' in body
    assert f'name="members" value="{staff["editor"].pk}" >' in body  # not ticked
    assert "无人具备：数据分析" in body and 'value="汛期"' in body
    r = client.get("/team/projects/new/", {"skills": ["magic"]})
    assert r.status_code == 400 and "未知技能：magic" in r.content.decode()


def test_the_form_creates_a_project(
    client: Client, account: Account, staff: dict[str, Any]
) -> None:
    client.force_login(staff["leader"])
    data = {
        "name": "防汛宣传",
        "kind": "campaign",
        "goal": "",
        "starts_on": "2026-05-01",
        "due_on": "2026-04-01",
        "lead": str(staff["editor"].pk),
        "members": [str(staff["photo"].pk)],
        "skills": ["photography"],
    }
    before = state()
    r = client.post("/team/projects/new/", data)
    assert r.status_code == 400 and "截止日期不能早于开始日期" in r.content.decode()
    r = client.post("/team/projects/new/", {**data, "due_on": "2026/9/30"})
    assert r.status_code == 400 and "日期格式不正确：2026/9/30" in r.content.decode()
    assert state() == before
    r = client.post("/team/projects/new/", {**data, "due_on": "2026-09-30"})
    project = Project.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/team/projects/{project.pk}/"
    assert set(project.members.all()) == {staff["editor"], staff["photo"]}


def test_the_project_page_and_its_actions(
    client: Client, account: Account, staff: dict[str, Any]
) -> None:
    project = new_project(account, staff, starts_on=date(2020, 1, 1), due_on=date(2099, 12, 31))
    late = people.add_deliverable(project, title="过期的海报", due_on=date(2020, 2, 1), actor=staff["admin"])  # fmt: skip
    people.add_deliverable(
        project, title="年底总结", due_on=date(2099, 12, 1), actor=staff["admin"]
    )
    client.force_login(staff["editor"])  # the lead, an editor
    r = client.get(f"/team/projects/{project.pk}/")
    body = r.content.decode()
    assert r.status_code == 200 and "防汛宣传" in body
    assert f'data-deliverable="{late.pk}" class="overdue"' in body and "已逾期" in body
    assert body.count("已逾期") == 1
    assert (
        'id="add-deliverable"' in body
        and 'id="do-close"' not in body
        and 'id="add-member"' not in body
    )
    url = f"/team/projects/{project.pk}/act/"
    assert client.post(url, {"action": "done", "deliverable": late.pk}).status_code == 302
    late.refresh_from_db()
    assert late.done_at is not None
    r = client.post(url, {"action": "add_deliverable", "title": "视频", "due_on": "2100-01-01"})
    assert r.status_code == 302
    assert "截止日期应在工作组期限内" in client.get(r["Location"]).content.decode()
    before = state()
    assert client.post(url, {"action": "add_member", "user": staff["design"].pk}).status_code == 403
    assert client.post(url, {"action": "close", "summary": "完"}).status_code == 403
    assert state() == before

    client.force_login(staff["admin"])
    assert 'id="do-close"' in client.get(f"/team/projects/{project.pk}/").content.decode()
    client.post(url, {"action": "add_member", "user": staff["design"].pk})
    assert project.members.filter(pk=staff["design"].pk).exists()
    r = client.post(url, {"action": "close", "summary": ""})
    assert "结项必须填写总结" in client.get(r["Location"]).content.decode()
    client.post(url, {"action": "close", "summary": "圆满完成"})
    project.refresh_from_db()
    assert project.status == Project.Status.ARCHIVED
    body = client.get(f"/team/projects/{project.pk}/").content.decode()
    assert "圆满完成" in body and 'id="archived-note"' in body
    for form in ('id="do-close"', 'id="add-deliverable"', 'id="add-member"', 'id="link-case"'):
        assert form not in body
    before = state()
    r = client.post(url, {"action": "remove_member", "user": staff["design"].pk})
    assert ARCHIVED in client.get(r["Location"]).content.decode()
    assert state() == before


def test_another_accounts_project_is_404(
    client: Client, account: Account, staff: dict[str, Any], outsider: Any
) -> None:
    project = new_project(account, staff)
    client.force_login(outsider)
    before = state()
    assert client.get(f"/team/projects/{project.pk}/").status_code == 404
    url = f"/team/projects/{project.pk}/act/"
    assert client.post(url, {"action": "close", "summary": "x"}).status_code == 404
    assert state() == before
    client.logout()
    r = client.get(f"/team/projects/{project.pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_a_link_to_a_project_opens_on_its_account(
    client: Client, account: Account, other_account: Account, staff: dict[str, Any]
) -> None:
    """A person on two accounts, looking at the other one, follows a link to a project
    (from an alert, say): the page switches to the project's account."""
    project = new_project(account, staff)
    add_member(other_account, staff["leader"], "supervisor")
    client.force_login(staff["leader"])
    client.post("/account/switch/", {"account": other_account.pk, "next": "/team/"})
    assert client.get("/team/projects/").context["account"] == other_account
    r = client.get(f"/team/projects/{project.pk}/")
    assert r.status_code == 200 and r.context["project"] == project
    assert client.get("/team/projects/").context["account"] == account


def test_a_person_who_left_cannot_lead_or_join(account: Account, staff: dict[str, Any]) -> None:
    staff["photo"].is_active = False
    staff["photo"].save()
    before = state()
    with pytest.raises(ValidationError, match="负责人 photo 不是本公众号的工作人员"):
        new_project(account, staff, lead=staff["photo"], members=[])
    assert state() == before
    assert staff["photo"] not in people.suggest_members(account, ["video"]).members


def test_each_project_action_says_what_it_did(
    client: Client, account: Account, staff: dict[str, Any]
) -> None:
    from django.contrib.messages import get_messages

    project = new_project(account, staff, starts_on=date(2020, 1, 1), due_on=date(2099, 12, 31))
    client.force_login(staff["admin"])
    url = f"/team/projects/{project.pk}/act/"

    def said(data: dict[str, Any]) -> list[str]:
        r = client.post(url, data, follow=True)  # the page shows the message, once
        assert r.redirect_chain == [(f"/team/projects/{project.pk}/", 302)]
        return [str(m) for m in get_messages(r.wsgi_request)]

    assert said({"action": "add_member", "user": staff["design"].pk}) == ["已加入工作组"]
    assert said({"action": "remove_member", "user": staff["design"].pk}) == ["已移出工作组"]
    assert said({"action": "add_deliverable", "title": "海报", "due_on": "2030-01-01"}) == [
        "已添加成果"
    ]
    poster = Deliverable.objects.get(project=project, title="海报")
    assert said({"action": "done", "deliverable": poster.pk}) == ["已标记为完成"]
    assert said({"action": "undone", "deliverable": poster.pk}) == ["已改回未完成"]
    assert said({"action": "close", "summary": "圆满完成"}) == ["已结项归档"]
