"""People and skills: profiles, skill gaps, member suggestions, the team page."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from govwx.accounts.models import Account, AuditEvent
from govwx.accounts.services import add_member
from govwx.team import people
from govwx.team.models import Project, StaffProfile

from .staffing import staff_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(account: Account, account_admin: Any, operator: Any) -> dict[str, Any]:
    return staff_account(account, account_admin)


def profile_state(user: Any) -> tuple[Any, ...]:
    p = StaffProfile.objects.filter(user=user).first()
    return (
        (p.skills, p.title, p.phone) if p else None,
        AuditEvent.objects.filter(name="staff.profile_saved").count(),
    )


# ------------------------------------------------------------------ set_profile


def test_it_sets_skills_title_and_phone(account: Account, staff: dict[str, Any]) -> None:
    editor = staff["editor"]
    people.set_profile(
        account,
        editor,
        skills=["video", "writing", "video", " data "],
        title="新媒体编辑",
        phone="138 1234-5678",
        actor=staff["admin"],
    )
    p = StaffProfile.objects.get(user=editor)
    assert (p.skills, p.title, p.phone) == (
        ["writing", "video", "data"],
        "新媒体编辑",
        "13812345678",
    )
    event = AuditEvent.objects.filter(name="staff.profile_saved").latest("id")
    assert (event.account, event.actor, event.data) == (
        account,
        staff["admin"],
        {
            "user": editor.pk,
            "skills": ["writing", "video", "data"],
            "title": "新媒体编辑",
            "phone_set": True,
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"skills": ["writing", "juggling"]},
            "skills",
            "未知技能：juggling / unknown skill: juggling",
        ),
        ({"skills": [], "phone": "12345"}, "phone", "手机号格式不正确"),
        ({"skills": [], "phone": "2381234567x"}, "phone", "invalid mobile number"),
        ({"skills": [], "title": "长" * 61}, "title", "职务不能超过 60 个字"),
    ],
)
def test_bad_profile_input_changes_nothing_and_says_why(
    account: Account, staff: dict[str, Any], kwargs: dict[str, Any], field: str, message: str
) -> None:
    before = profile_state(staff["editor"])
    with pytest.raises(ValidationError) as exc:
        people.set_profile(account, staff["editor"], actor=staff["admin"], **kwargs)
    assert message in " ".join(exc.value.message_dict[field])
    assert profile_state(staff["editor"]) == before


def test_a_person_of_another_account_is_refused(
    account: Account, staff: dict[str, Any], outsider: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        people.set_profile(account, outsider, skills=["video"], actor=staff["admin"])
    assert exc.value.message_dict["user"] == [
        "此人不是本公众号的工作人员 / not a staff member of this account"
    ]
    assert not StaffProfile.objects.filter(user=outsider).exists()


@pytest.mark.parametrize("who", ["operator", "editor", "leader"])
def test_only_an_admin_sets_skills(
    account: Account, staff: dict[str, Any], operator: Any, who: str
) -> None:
    actor = operator if who == "operator" else staff[who]
    before = profile_state(staff["photo"])
    with pytest.raises(PermissionDenied):
        people.set_profile(account, staff["photo"], skills=["data"], actor=actor)
    assert profile_state(staff["photo"]) == before


# ------------------------------------------------------------------ gaps and suggestions


def test_skill_gaps_lists_missing_and_single_person_skills(
    account: Account, staff: dict[str, Any]
) -> None:
    gaps = people.skill_gaps(account)
    assert gaps.missing == ["data", "community"]
    assert gaps.single == {
        "proofreading": staff["editor"],
        "photography": staff["photo"],
        "video": staff["photo"],
        "design": staff["design"],
    }
    # a second photographer: photography is no longer a single point of failure
    people.set_profile(account, staff["editor"], skills=["writing", "proofreading", "photography", "data"], actor=staff["admin"])  # fmt: skip
    gaps = people.skill_gaps(account)
    assert gaps.missing == ["community"]
    assert set(gaps.single) == {"proofreading", "video", "design", "data"}


def test_skill_gaps_of_an_account_with_nobody(other_account: Account) -> None:
    gaps = people.skill_gaps(other_account)
    assert len(gaps.missing) == 8 and gaps.single == {}


def test_suggest_members_covers_the_wanted_skills_greedily(
    account: Account, staff: dict[str, Any]
) -> None:
    s = people.suggest_members(account, ["writing", "photography", "video", "policy"])
    # photo brings two skills; then ties are broken by name: design (writing), leader (policy)
    assert s.members == [staff["photo"], staff["design"], staff["leader"]]
    assert s.covered == {
        "photography": staff["photo"],
        "video": staff["photo"],
        "writing": staff["design"],
        "policy": staff["leader"],
    }
    assert s.uncovered == []


def test_suggest_members_prefers_people_on_fewer_active_projects(
    account: Account, staff: dict[str, Any]
) -> None:
    people.create_project(
        account,
        name="专题一",
        kind=Project.Kind.TOPIC,
        lead=staff["leader"],
        starts_on=date(2026, 6, 1),
        due_on=date(2026, 6, 30),
        members=[staff["design"]],
        actor=staff["admin"],
    )
    s = people.suggest_members(account, ["writing", "policy"])
    assert s.members == [staff["editor"], staff["water"]]


def test_suggest_members_reports_skills_nobody_has(account: Account, staff: dict[str, Any]) -> None:
    s = people.suggest_members(account, ["community", "design", "data"])
    assert (s.members, s.uncovered) == ([staff["design"]], ["data", "community"])
    assert people.suggest_members(account, []).members == []
    with pytest.raises(ValidationError, match="未知技能：dancing"):
        people.suggest_members(account, ["dancing"])


# ------------------------------------------------------------------ the team page


def test_the_team_page_shows_members_matrix_and_gaps(
    client: Client, account: Account, staff: dict[str, Any], django_assert_num_queries: Any
) -> None:
    staff["photo"].first_name = "小周"
    staff["photo"].save()
    client.force_login(staff["admin"])
    r = client.get("/team/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "技能缺口" in body
    gaps = body[body.index('id="gaps-missing"') : body.index('id="gaps-single"')]
    assert gaps.count("tag tag-danger") == 2 and "数据分析" in gaps and "社群运营" in gaps
    single = body[
        body.index('id="gaps-single"') : body.index("</ul>", body.index('id="gaps-single"'))
    ]
    assert single.count("tag tag-warn") == 4 and "摄影 · 小周" in single  # the name, not the login
    members = body[body.index('id="members"') : body.index('id="skill-matrix"')]
    assert "市水利局" in members and "部门联络员" in members and "设计/H5" in members
    assert [row.user.username for row in r.context["rows"]] == [
        "acctadmin", "operator", "design", "editor", "photo", "water", "leader",
    ]  # fmt: skip
    matrix = dict((row.user.username, cells) for row, cells in r.context["matrix"])
    assert [has for has, _ in matrix["photo"]] == [
        False,
        False,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert [state for _, state in matrix["photo"]] == [
        "", "single", "single", "single", "single", "missing", "", "missing",
    ]  # fmt: skip
    assert f'href="/team/people/{staff["photo"].pk}/"' in body  # an admin may edit skills
    with django_assert_num_queries(8):
        client.get("/team/")
    for i in range(3):
        user = get_user_model().objects.create_user(f"extra{i}")
        add_member(account, user, "operator")
        people.set_profile(account, user, skills=["data"], actor=staff["admin"])
    with django_assert_num_queries(8):  # more people, the same queries
        client.get("/team/")


def test_the_team_page_by_role(
    client: Client, account: Account, staff: dict[str, Any], operator: Any
) -> None:
    for who in ("editor", "photo", "leader"):
        client.force_login(staff[who])
        r = client.get("/team/")
        assert r.status_code == 200 and "/team/people/" not in r.content.decode(), who
        assert client.get(f"/team/people/{staff['photo'].pk}/").status_code == 403
    client.force_login(operator)
    assert client.get("/team/").status_code == 200
    client.force_login(staff["water"])  # a department liaison
    assert client.get("/team/").status_code == 403
    client.logout()
    r = client.get("/team/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_an_admin_edits_a_persons_skills(
    client: Client, account: Account, staff: dict[str, Any]
) -> None:
    client.force_login(staff["admin"])
    url = f"/team/people/{staff['water'].pk}/"
    assert client.get(url).status_code == 200
    r = client.post(
        url, {"skills": ["policy", "community"], "title": "科长", "phone": "13900001111"}
    )
    assert r.status_code == 302 and r["Location"] == "/team/"
    p = StaffProfile.objects.get(user=staff["water"])
    assert (p.skills, p.title, p.phone) == (["policy", "community"], "科长", "13900001111")
    before = profile_state(staff["water"])
    r = client.post(url, {"skills": ["policy", "karaoke"], "phone": "139"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "未知技能：karaoke" in body and "手机号格式不正确" in body
    assert profile_state(staff["water"]) == before


def test_another_accounts_person_is_404_and_unchanged(
    client: Client, account: Account, staff: dict[str, Any], outsider: Any, other_account: Account
) -> None:
    client.force_login(staff["admin"])
    before = profile_state(outsider)
    assert client.get(f"/team/people/{outsider.pk}/").status_code == 404
    assert client.post(f"/team/people/{outsider.pk}/", {"skills": ["data"]}).status_code == 404
    assert profile_state(outsider) == before
    # the outsider, on their own account, sees their own team, not ours
    client.force_login(outsider)
    r = client.get("/team/")
    assert r.status_code == 200
    assert [row.user for row in r.context["rows"]] == [outsider]
    assert "市水利局" not in r.content.decode()
