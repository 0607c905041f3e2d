"""The departments settings page and its services: the tree, add, rename, parent, merge,
retire, and the Excel list — with the bad input each refuses, changing nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from openpyxl import load_workbook

from govwx.accounts import departments as svc
from govwx.accounts.models import Account, AuditEvent, Department, Membership
from govwx.accounts.services import add_member
from govwx.console.tests.staff import open_case
from govwx.desk.models import Case, CaseEvent, RoutingRule, Status

from .orgdata import Org, dept, fingerprint, make_org, xlsx

pytestmark = pytest.mark.django_db

URL = "/settings/departments/"


@pytest.fixture
def org(account: Account, django_user_model: Any) -> Org:
    return make_org(account, django_user_model)


def as_user(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_it_lists_the_departments_as_a_tree_with_their_liaisons(
    org: Org, django_user_model: Any
) -> None:
    top = dept(org, "市城管局", short_name="城管", working_hours="工作日 9:00–17:00")
    dept(org, "市容科", parent=top)
    dept(org, "市人社局")
    liaison = django_user_model.objects.create_user("chengguan", first_name="王芳")
    add_member(org.account, liaison, "liaison", department=top)
    r = as_user(org.admin).get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    assert [(row.department.name, row.depth) for row in r.context["rows"]] == [
        ("市人社局", 0), ("市城管局", 0), ("市容科", 1),
    ]  # fmt: skip
    assert "王芳" in html and "工作日 9:00–17:00" in html
    assert 'id="add-department"' in html


def test_it_adds_renames_and_moves_a_department_audited(org: Org) -> None:
    c = as_user(org.admin)
    r = c.post(URL, {"name": " 市城管局 ", "short_name": "城管", "working_hours": "24 小时"})
    assert r.status_code == 302
    d = Department.objects.get(name="市城管局")
    assert (d.short_name, d.working_hours, d.organisation) == ("城管", "24 小时", org.city)
    top = dept(org, "市政府办")
    r = c.post(f"{URL}{d.pk}/", {"action": "save", "name": "市城市管理局", "short_name": "城管",
                                 "parent": top.pk, "working_hours": "24 小时"})  # fmt: skip
    assert r.status_code == 302
    d.refresh_from_db()
    assert (d.name, d.parent) == ("市城市管理局", top)
    event = AuditEvent.objects.get(name="department.updated")
    assert event.data["changes"] == {
        "name": ["市城管局", "市城市管理局"],
        "parent_id": [None, top.pk],
    }
    assert event.actor == org.admin and event.account == org.account
    assert AuditEvent.objects.filter(name="department.created").count() == 1


def test_a_department_named_twice_is_refused(org: Org) -> None:
    dept(org, "市城管局")
    other = dept(org, "市人社局")
    before = fingerprint()
    r = as_user(org.admin).post(URL, {"name": "市城管局"})
    assert r.status_code == 200
    assert "已有名为「市城管局」的部门" in r.content.decode()
    r = as_user(org.admin).post(f"{URL}{other.pk}/", {"action": "save", "name": "市城管局"})
    assert "已有名为「市城管局」的部门" in r.content.decode()
    with pytest.raises(ValidationError) as exc:
        svc.create_department(org.account, svc.DepartmentInput("市城管局"), actor=org.admin)
    assert exc.value.message_dict == {
        "name": ["已有名为「市城管局」的部门 / a department named 市城管局 exists"]
    }
    assert fingerprint() == before


def test_a_cycle_of_parents_is_refused(org: Org) -> None:
    a = dept(org, "市城管局")
    b = dept(org, "市容科", parent=a)
    c = dept(org, "环卫所", parent=b)
    other = dept(org, "市人社局")
    page = as_user(org.admin).get(f"{URL}{a.pk}/")
    offered = re.findall(r'<option value="(\d*)"', page.context["form"]["parent"].as_widget())
    assert offered == ["", str(other.pk)]  # itself and those below it are not offered
    before = fingerprint()
    for parent in (c, a):  # a grandchild, itself
        r = as_user(org.admin).post(f"{URL}{a.pk}/", {"action": "save", "name": "市城管局",
                                                       "parent": parent.pk})  # fmt: skip
        assert r.status_code == 200
        assert "上级部门不能是本部门或它的下级部门（会形成循环）" in r.content.decode()
    assert fingerprint() == before


def test_a_parent_of_another_organisation_is_refused(org: Org) -> None:
    from govwx.accounts.models import Organisation

    foreign = Department.objects.create(
        organisation=Organisation.objects.get(name="另一个市人民政府"), name="外市局"
    )
    before = fingerprint()
    with pytest.raises(ValidationError) as exc:
        svc.create_department(
            org.account, svc.DepartmentInput("市城管局", parent_id=foreign.pk), actor=org.admin
        )
    assert "上级部门不是本组织在用的部门" in str(exc.value)
    assert fingerprint() == before


def test_retiring_a_department_with_open_cases_is_refused_with_the_count(org: Org) -> None:
    d = dept(org, "市城管局")
    for n in range(2):
        case = open_case(org.account, f"o-{n}")
        Case.objects.filter(pk=case.pk).update(department=d, status=Status.ASSIGNED)
    before = fingerprint()
    r = as_user(org.admin).post(f"{URL}{d.pk}/", {"action": "retire"})
    assert r.status_code == 200
    assert "部门「市城管局」不能撤销：还有 2 件未办结的诉求" in r.content.decode()
    assert fingerprint() == before
    Case.objects.update(status=Status.CLOSED)
    r = as_user(org.admin).post(f"{URL}{d.pk}/", {"action": "retire"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.retired_at is not None
    assert not Department.objects.of_account(org.account).exists()
    assert AuditEvent.objects.filter(name="department.retired", data__department=d.pk).exists()
    # its name is free again
    svc.create_department(org.account, svc.DepartmentInput("市城管局"), actor=org.admin)


def test_merging_moves_open_cases_routing_rules_and_liaisons_audited(
    org: Org, django_user_model: Any
) -> None:
    old = dept(org, "市市容局")
    new = dept(org, "市城管局")
    child = dept(org, "市容科", parent=old)
    open_ = open_case(org.account, "o-open")
    Case.objects.filter(pk=open_.pk).update(department=old, status=Status.IN_PROGRESS)
    done = open_case(org.account, "o-done")
    Case.objects.filter(pk=done.pk).update(department=old, status=Status.CLOSED)
    rule = RoutingRule.objects.create(account=org.account, keyword="占道", department=old)
    liaison = django_user_model.objects.create_user("shirong")
    add_member(org.account, liaison, "liaison", department=old)
    r = as_user(org.admin).post(f"{URL}{old.pk}/", {"action": "merge", "target": new.pk})
    assert r.status_code == 302 and r["Location"] == f"{URL}{new.pk}/"
    open_.refresh_from_db()
    done.refresh_from_db()
    assert open_.department == new and open_.revision == 2
    assert done.department == old  # history keeps who handled it
    rule.refresh_from_db()
    assert rule.department == new
    assert Membership.objects.get(user=liaison).department == new
    child.refresh_from_db()
    assert child.parent == new
    old.refresh_from_db()
    assert old.retired_at is not None and old.merged_into == new
    event = CaseEvent.objects.get(case=open_, name="case.department_merged")
    assert event.actor == org.admin and event.data["to_name"] == "市城管局"
    audit = AuditEvent.objects.get(name="department.merged")
    assert audit.data["moved"] == {
        "open_cases": 1, "assisted_cases": 0, "routing_rules": 1, "liaisons": 1,
        "invitations": 0, "children": 1,
    }  # fmt: skip
    assert list(Department.objects.of_account(org.account)) == [new, child]


def test_merging_into_itself_or_a_retired_department_is_refused(org: Org) -> None:
    a = dept(org, "市城管局")
    with pytest.raises(ValidationError, match="不能把部门合并到它自己"):
        svc.merge_departments(org.account, a, a, actor=org.admin)


# ------------------------------------------------------------------ Excel


def test_export_then_import_changes_nothing(org: Org) -> None:
    top = dept(org, "市城管局", short_name="城管", working_hours="=24 小时")
    dept(org, "市容科", parent=top, working_hours="工作日")
    r = as_user(org.supervisor).get(URL + "export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(__import__("io").BytesIO(r.content)).active
    assert [list(row) for row in ws.iter_rows(values_only=True)] == [
        ["名称", "简称", "上级部门", "办公时间说明"],
        ["市城管局", "城管", None, "'=24 小时"],  # a formula neutralised
        ["市容科", None, "市城管局", "工作日"],
    ]
    before = fingerprint()
    result = svc.import_departments(org.account, r.content, actor=org.admin)
    assert (result.created, result.updated, result.unchanged) == ([], [], 2)
    assert fingerprint()[1:] == before[1:]


def test_import_adds_and_updates_with_parents_in_any_order(org: Org) -> None:
    dept(org, "市城管局", short_name="旧")
    content = xlsx([
        ["名称", "简称", "上级部门", "办公时间说明"],
        ["市容科", "", "市城管局", ""],
        ["环卫所", "", "市容科", "24 小时"],
        ["市城管局", "城管", "", "工作日"],
    ])  # fmt: skip
    r = as_user(org.admin).post(URL + "import/", {"file": _upload(content)})
    assert r.status_code == 302
    names = {d.name: d for d in Department.objects.all()}
    assert names["环卫所"].parent == names["市容科"] and names["市容科"].parent == names["市城管局"]
    assert names["市城管局"].short_name == "城管"
    event = AuditEvent.objects.get(name="department.imported")
    assert event.data == {"rows": 3, "created": ["市容科", "环卫所"], "updated": ["市城管局"]}


def _upload(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("departments.xlsx", content)


@pytest.mark.parametrize(
    ("rows", "messages"),
    [
        (
            [["部门", "简称"], ["市城管局", ""]],
            [
                "缺少列：名称、上级部门（第 1 行应为表头：名称、简称、上级部门、办公时间说明） / missing column: 名称, 上级部门"
            ],
        ),
        (
            [["名称", "上级部门"], ["市城管局", ""], ["市人社局", ""], ["市城管局", ""]],
            ["第 2、4 行：部门「市城管局」重复"],
        ),
        (
            [["名称", "上级部门"], ["市容科", "市城管委"], ["", "市容科"]],
            [
                "第 3 行：部门名称为空",
                "第 2 行：上级部门「市城管委」不存在（不在表中，也不是本组织在用的部门）",
            ],
        ),
        (
            [["名称", "上级部门"], ["甲", "乙"], ["乙", "丙"], ["丙", "甲"], ["丁", "丁"]],
            [
                "第 5 行：「丁」的上级部门不能是它自己",
                "第 2、3、4 行：上级部门形成循环（甲 → 乙 → 丙 → 甲）",
            ],
        ),
    ],
    ids=["missing-column", "duplicate-row", "unknown-parent", "cycle"],
)
def test_a_bad_sheet_is_refused_whole_naming_the_rows(
    org: Org, rows: list[list[Any]], messages: list[str]
) -> None:
    dept(org, "市政府办")
    before = fingerprint()
    r = as_user(org.admin).post(URL + "import/", {"file": _upload(xlsx(rows))})
    assert r.status_code == 200
    assert r.context["problems"] == messages
    assert "未导入，请修改后重试" in r.content.decode()
    assert fingerprint() == before


def test_a_cycle_through_a_stored_department_is_refused(org: Org) -> None:
    a = dept(org, "甲")
    dept(org, "乙", parent=a)
    before = fingerprint()
    with pytest.raises(ValidationError) as exc:
        svc.import_departments(
            org.account, xlsx([["名称", "上级部门"], ["甲", "乙"]]), actor=org.admin
        )
    assert exc.value.messages == ["第 2 行：上级部门形成循环（甲 → 乙 → 甲）"]
    assert fingerprint() == before


def test_a_file_that_is_not_excel_is_refused(org: Org) -> None:
    r = as_user(org.admin).post(URL + "import/", {"file": _upload(b"name,parent\n")})
    assert r.context["problems"] == ["不是有效的 Excel 文件（.xlsx） / not an .xlsx file"]


# ------------------------------------------------------------------ who


def test_a_supervisor_reads_and_cannot_write(org: Org) -> None:
    d = dept(org, "市城管局")
    c = as_user(org.supervisor)
    r = c.get(URL)
    assert r.status_code == 200 and 'id="read-only"' in r.content.decode()
    assert 'id="add-department"' not in r.content.decode()
    assert c.get(f"{URL}{d.pk}/").status_code == 200
    before = fingerprint()
    assert c.post(URL, {"name": "市人社局"}).status_code == 403
    assert c.post(f"{URL}{d.pk}/", {"action": "retire"}).status_code == 403
    assert (
        c.post(
            URL + "import/", {"file": _upload(xlsx([["名称", "上级部门"], ["乙", ""]]))}
        ).status_code
        == 403
    )
    assert fingerprint() == before
    with pytest.raises(PermissionDenied):
        svc.create_department(org.account, svc.DepartmentInput("市人社局"), actor=org.supervisor)


def test_another_accounts_member_sees_nothing_of_these_departments(org: Org) -> None:
    d = dept(org, "市城管局")
    c = as_user(org.outsider)
    r = c.get(URL)
    assert r.status_code == 200 and r.context["account"] == org.other
    assert "市城管局" not in r.content.decode()
    before = fingerprint()
    assert c.get(f"{URL}{d.pk}/").status_code == 404
    assert c.post(f"{URL}{d.pk}/", {"action": "save", "name": "改名"}).status_code == 404
    assert (
        "市城管局"
        not in load_workbook(__import__("io").BytesIO(c.get(URL + "export.xlsx").content))
        .active.cell(2, 1)
        .value.__str__()
    )
    assert fingerprint() == before


def test_the_list_costs_the_same_queries_for_three_departments_or_thirty(
    org: Org, django_user_model: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        c = as_user(org.admin)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(URL).status_code == 200
        return len(ctx.captured_queries)

    top = dept(org, "市政府办")
    for n in range(2):
        dept(org, f"科室{n}", parent=top)
    few = queries()
    for n in range(2, 29):
        d = dept(org, f"科室{n}", parent=top)
        user = django_user_model.objects.create_user(f"liaison{n}")
        add_member(org.account, user, "liaison", department=d)
        case = open_case(org.account, f"o-{n}")
        Case.objects.filter(pk=case.pk).update(department=d, status=Status.ASSIGNED)
    assert queries() == few


def test_a_member_is_made_the_departments_liaison_but_never_the_last_admin(
    org: Org, django_user_model: Any
) -> None:
    d = dept(org, "市城管局")
    operator = django_user_model.objects.create_user("wangfang")
    add_member(org.account, operator, "operator")
    c = as_user(org.admin)
    r = c.post(f"{URL}{d.pk}/", {"action": "liaison", "user": operator.pk})
    assert r.status_code == 302
    m = Membership.objects.get(user=operator)
    assert (m.role, m.department) == ("liaison", d)
    event = AuditEvent.objects.get(name="member.role_changed")
    assert event.data == {
        "user": operator.pk,
        "role": ["operator", "liaison"],
        "department": [None, d.pk],
    }
    before = fingerprint()
    r = c.post(f"{URL}{d.pk}/", {"action": "liaison", "user": org.admin.pk})
    assert r.status_code == 200
    assert "公众号至少要有一名管理员" in r.content.decode()
    r = c.post(f"{URL}{d.pk}/", {"action": "liaison", "user": org.outsider.pk})
    assert r.status_code == 200  # not a member here: not among the choices
    assert fingerprint() == before
