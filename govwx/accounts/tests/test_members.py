"""The members and roles settings page and its services: invitations by e-mail (one-time,
expiring, stored hashed), logins created directly, role changes, alert contacts and
deactivation — with the bad input each refuses, changing nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from govwx.accounts import members as svc
from govwx.accounts.models import Account, AuditEvent, Department, Invitation, Membership
from govwx.accounts.permissions import PERMISSIONS
from govwx.accounts.services import add_member
from govwx.console.tests.staff import open_case
from govwx.desk import services as desk
from govwx.desk.models import Case, Status
from govwx.team.models import Rota, Shift, ShiftPattern, StaffProfile

from .orgdata import Org, dept, fingerprint, make_org

pytestmark = pytest.mark.django_db

URL = "/settings/members/"


@pytest.fixture
def org(account: Account, django_user_model: Any) -> Org:
    return make_org(account, django_user_model)


def as_user(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def invite(c: Client, email: str, role: str = "operator", department: Any = None) -> Any:
    return c.post(URL, {"action": "invite", "invite-email": email, "invite-role": role,
                        "invite-department": department.pk if department else ""})  # fmt: skip


def link_of(message: Any) -> str:
    found = re.search(r"http://\S+/settings/join/(\S+)/", message.body)
    assert found, message.body
    return found.group(1)


def test_it_shows_the_members_with_roles_and_the_role_table(
    org: Org, django_user_model: Any
) -> None:
    d = dept(org, "市城管局")
    liaison = django_user_model.objects.create_user("wangfang", first_name="王芳")
    add_member(org.account, liaison, "liaison", department=d)
    StaffProfile.objects.create(user=liaison, phone="13800138000", wecom_userid="WangFang")
    r = as_user(org.supervisor).get(URL)
    assert r.status_code == 200
    html = r.content.decode()
    assert [(row.user.username, row.membership.role) for row in r.context["rows"]] == [
        ("acctadmin", "admin"), ("wangfang", "liaison"), ("leader", "supervisor"),
    ]  # fmt: skip
    assert "王芳" in html and "市城管局" in html and "13800138000" in html and "WangFang" in html
    # the role table is the permission table
    table = r.context["role_table"]
    assert [row["perm"] for row in table if row["perm"]] == list(PERMISSIONS)
    settings_row = next(row for row in table if row["perm"] == "settings.manage")
    assert settings_row["roles"] == [True, False, False, False, False, False]
    assert 'data-perm="cases.accept"' in html
    assert 'id="invite-form"' not in html  # supervisors read


def test_an_invitation_is_mailed_once_hashed_and_joins_with_its_role(
    org: Org, client: Client
) -> None:
    d = dept(org, "市城管局")
    r = invite(as_user(org.admin), "Wang.Fang@Example.gov.cn", "liaison", d)
    assert r.status_code == 302
    inv = Invitation.objects.get()
    assert (inv.email, inv.role, inv.department) == ("wang.fang@example.gov.cn", "liaison", d)
    assert inv.expires_at - inv.created_at == timedelta(days=7)
    (message,) = mail.outbox
    assert message.to == ["wang.fang@example.gov.cn"]
    assert "部门联络员（市城管局）" in message.body and "示例市发布" in message.subject
    token = link_of(message)
    assert token not in inv.token_hash and inv.token_hash == svc.token_hash(token)
    assert AuditEvent.objects.get(name="invitation.sent").actor == org.admin

    page = client.get(f"/settings/join/{token}/")
    assert page.status_code == 200 and "部门联络员（市城管局）" in page.content.decode()
    r = client.post(f"/settings/join/{token}/", {"username": "wangfang", "full_name": "王芳",
                                                  "password": "Chengguan-2026", "password2": "Chengguan-2026"})  # fmt: skip
    assert r.status_code == 302 and r["Location"] == "/"
    m = Membership.objects.get(user__username="wangfang")
    assert (m.account, m.role, m.department) == (org.account, "liaison", d)
    assert m.user.email == "wang.fang@example.gov.cn" and m.user.first_name == "王芳"
    assert m.user.check_password("Chengguan-2026")
    home = client.get("/")  # signed in, on the account
    assert home.status_code == 200 and home.context["account"] == org.account
    inv.refresh_from_db()
    assert inv.accepted_by == m.user


def test_a_reused_invitation_link_is_refused(org: Org, client: Client) -> None:
    invite(as_user(org.admin), "li@example.gov.cn")
    token = link_of(mail.outbox[0])
    data = {
        "username": "li",
        "full_name": "李",
        "password": "Chengguan-2026",
        "password2": "Chengguan-2026",
    }
    assert client.post(f"/settings/join/{token}/", data).status_code == 302
    before = fingerprint()
    again = Client().post(f"/settings/join/{token}/", {**data, "username": "li2"})
    assert again.status_code == 410
    assert "此邀请链接已使用过（每个链接只能用一次）" in again.content.decode()
    assert Client().get(f"/settings/join/{token}/").status_code == 410
    assert fingerprint() == before


def test_an_expired_invitation_link_is_refused(org: Org) -> None:
    invite(as_user(org.admin), "li@example.gov.cn")
    token = link_of(mail.outbox[0])
    before = fingerprint()
    with time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)):
        r = Client().post(f"/settings/join/{token}/", {"username": "li", "full_name": "李",
                                                       "password": "Chengguan-2026", "password2": "Chengguan-2026"})  # fmt: skip
    assert r.status_code == 410 and "此邀请链接已过期" in r.content.decode()
    assert fingerprint() == before
    r = Client().get("/settings/join/not-a-token/")
    assert r.status_code == 410 and "邀请链接无效" in r.content.decode()


def test_an_invitation_to_an_address_already_a_member_is_refused(org: Org) -> None:
    before = fingerprint()
    r = invite(as_user(org.admin), "ADMIN@example.gov.cn")
    assert r.status_code == 200
    assert (
        "admin@example.gov.cn 已是本公众号成员（用户名 acctadmin），不必邀请" in r.content.decode()
    )
    assert mail.outbox == [] and fingerprint() == before


def test_an_invitation_joins_an_existing_login_with_its_password(
    org: Org, django_user_model: Any
) -> None:
    """The outsider (admin of another account) is invited here: they join with the
    login they have, and the wrong password is refused."""
    org.outsider.email = "zhao@example.gov.cn"
    org.outsider.save()
    invite(as_user(org.admin), "zhao@example.gov.cn", "operator")
    token = link_of(mail.outbox[0])
    c = Client()
    assert "此邮箱已有登录账号 outsider" in c.get(f"/settings/join/{token}/").content.decode()
    r = c.post(f"/settings/join/{token}/", {"password": "wrong"})
    assert r.status_code == 200 and "密码不正确" in r.content.decode()
    assert not Membership.objects.filter(user=org.outsider, account=org.account).exists()
    r = c.post(f"/settings/join/{token}/", {"password": "pw-outsider-1"})
    assert r.status_code == 302
    assert Membership.objects.get(user=org.outsider, account=org.account).role == "operator"
    assert django_user_model.objects.filter(email="zhao@example.gov.cn").count() == 1


def test_a_bad_new_login_on_the_invitation_page_keeps_the_link(org: Org) -> None:
    invite(as_user(org.admin), "li@example.gov.cn")
    token = link_of(mail.outbox[0])
    r = Client().post(f"/settings/join/{token}/", {"username": "acctadmin", "full_name": "李",
                                                   "password": "Chengguan-2026", "password2": "Other-2026"})  # fmt: skip
    html = r.content.decode()
    assert "用户名「acctadmin」已被使用" in html and "两次输入的密码不一致" in html
    assert Invitation.objects.get().accepted_at is None


def test_a_new_invitation_replaces_the_open_one_and_an_invitation_can_be_revoked(org: Org) -> None:
    c = as_user(org.admin)
    invite(c, "li@example.gov.cn")
    invite(c, "li@example.gov.cn", "editor")
    first, second = link_of(mail.outbox[0]), link_of(mail.outbox[1])
    assert "此邀请已被撤回" in Client().get(f"/settings/join/{first}/").content.decode()
    inv = Invitation.objects.get(revoked_at__isnull=True)
    assert c.post(URL, {"action": "revoke", "invitation": inv.pk}).status_code == 302
    assert Client().get(f"/settings/join/{second}/").status_code == 410


def test_an_admin_creates_a_login_directly(org: Org, django_user_model: Any) -> None:
    d = dept(org, "市人社局")
    c = as_user(org.admin)
    data = {"action": "create", "create-username": "zhang", "create-full_name": "张伟", "create-email": "",
            "create-password": "Renshe-2026!", "create-password2": "Renshe-2026!", "create-role": "liaison",
            "create-department": ""}  # fmt: skip
    before = fingerprint()
    r = c.post(URL, data)
    assert r.status_code == 200 and "部门联络员必须指定部门" in r.content.decode()
    r = c.post(URL, {**data, "create-password": "123"})
    assert "密码" in r.content.decode()
    assert fingerprint() == before
    r = c.post(URL, {**data, "create-department": d.pk})
    assert r.status_code == 302
    user = django_user_model.objects.get(username="zhang")
    assert user.check_password("Renshe-2026!") and user.first_name == "张伟"
    assert Membership.objects.get(user=user).department == d
    assert AuditEvent.objects.get(name="member.created").data["role"] == "liaison"


def test_a_role_change_that_leaves_no_admin_is_refused(org: Org, django_user_model: Any) -> None:
    c = as_user(org.admin)
    before = fingerprint()
    r = c.post(f"{URL}{org.admin.pk}/", {"action": "role", "role": "operator"})
    assert r.status_code == 200
    assert "公众号至少要有一名管理员" in r.content.decode()
    r = c.post(f"{URL}{org.admin.pk}/", {"action": "deactivate"})
    assert "不能停用自己" in r.content.decode()
    with pytest.raises(ValidationError, match="公众号至少要有一名管理员"):
        svc.deactivate_member(
            org.account, org.admin, actor=django_user_model.objects.create_superuser("root")
        )
    assert fingerprint()[1:] == before[1:]
    # with a second admin the first may step down
    r = c.post(f"{URL}{org.supervisor.pk}/", {"action": "role", "role": "admin"})
    assert r.status_code == 302
    r = c.post(f"{URL}{org.admin.pk}/", {"action": "role", "role": "operator"})
    assert r.status_code == 302
    assert Membership.objects.get(user=org.admin, account=org.account).role == "operator"
    assert AuditEvent.objects.filter(name="member.role_changed").count() == 2


def test_alert_contacts_are_checked_and_saved(org: Org) -> None:
    c = as_user(org.admin)
    url = f"{URL}{org.supervisor.pk}/"
    r = c.post(url, {"action": "contact", "phone": "12345", "wecom_userid": "王 芳"})
    html = r.content.decode()
    assert "手机号格式不正确" in html and "企业微信账号只能包含字母、数字" in html
    assert not StaffProfile.objects.exists()
    assert (
        c.post(
            url, {"action": "contact", "phone": "138 0013 8000", "wecom_userid": "LiLeader"}
        ).status_code
        == 302
    )
    p = StaffProfile.objects.get(user=org.supervisor)
    assert (p.phone, p.wecom_userid) == ("13800138000", "LiLeader")


def test_deactivating_names_open_cases_and_shifts_first(org: Org, django_user_model: Any) -> None:
    d = dept(org, "市城管局")
    person = django_user_model.objects.create_user("wangfang", first_name="王芳")
    add_member(org.account, person, "liaison", department=d)
    case = open_case(org.account, "o-1", "路灯坏了")
    Case.objects.filter(pk=case.pk).update(department=d, status=Status.ASSIGNED)
    case.refresh_from_db()
    desk.take_case(case, revision=case.revision, actor=person)
    rota = Rota.objects.create(name="城管值班")
    rota.accounts.add(org.account)
    pattern = ShiftPattern.objects.create(
        rota=rota, name="白班", start=timezone.now().time(), hours=8
    )
    start = timezone.now() + timedelta(days=1)
    shift = Shift.objects.create(rota=rota, pattern=pattern, layer=pattern.layer, person=person,
                                 starts_at=start, ends_at=start + timedelta(hours=8))  # fmt: skip
    c = as_user(org.admin)
    page = c.get(f"{URL}{person.pk}/")
    html = page.content.decode()
    assert [w.label for w in page.context["cases"]] == [f"#{case.pk} {case.subject}"]
    assert len(page.context["shifts"]) == 1 and "城管值班" in html
    assert "仍然停用" in html
    r = c.post(f"{URL}{person.pk}/", {"action": "deactivate"})
    assert r.status_code == 302
    person.refresh_from_db()
    assert not person.is_active
    assert not Membership.objects.filter(user=person).exists()
    shift.refresh_from_db()
    assert shift.person is None  # a gap, flagged by the rota
    event = AuditEvent.objects.get(name="member.deactivated")
    assert event.data | {} == {"user": person.pk, "username": "wangfang", "role": "liaison", "department": d.pk,
                               "login_disabled": True, "cases": 1, "shifts": 1}  # fmt: skip


def test_another_accounts_member_cannot_see_these_members_or_invitations(org: Org) -> None:
    invite(as_user(org.admin), "li@example.gov.cn")
    inv = Invitation.objects.get()
    c = as_user(org.outsider)
    r = c.get(URL)
    assert r.status_code == 200 and r.context["account"] == org.other
    html = r.content.decode()
    assert "li@example.gov.cn" not in html and "acctadmin" not in html
    before = fingerprint()
    assert c.get(f"{URL}{org.admin.pk}/").status_code == 404
    assert (
        c.post(f"{URL}{org.admin.pk}/", {"action": "role", "role": "operator"}).status_code == 404
    )
    assert c.post(URL, {"action": "revoke", "invitation": inv.pk}).status_code == 404
    assert fingerprint() == before


def test_a_supervisor_cannot_invite_or_change_roles(org: Org) -> None:
    c = as_user(org.supervisor)
    before = fingerprint()
    assert invite(c, "li@example.gov.cn").status_code == 403
    assert (
        c.post(f"{URL}{org.admin.pk}/", {"action": "role", "role": "operator"}).status_code == 403
    )
    assert c.post(f"{URL}{org.admin.pk}/", {"action": "deactivate"}).status_code == 403
    assert mail.outbox == [] and fingerprint() == before


def test_the_member_list_costs_the_same_queries_for_few_or_many(
    org: Org, django_user_model: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        c = as_user(org.admin)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(URL).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    d = dept(org, "市城管局")
    for n in range(20):
        user = django_user_model.objects.create_user(f"person{n}")
        add_member(
            org.account, user, "liaison" if n % 2 else "operator", department=d if n % 2 else None
        )
        StaffProfile.objects.create(user=user, phone="13800138000")
    invite(as_user(org.admin), "li@example.gov.cn", "liaison", d)
    invite(as_user(org.admin), "wang@example.gov.cn")
    assert queries() == few  # one query per table, whatever the number of rows


def test_an_invitation_whose_mail_cannot_be_sent_writes_nothing(org: Org, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    before = fingerprint()
    r = invite(as_user(org.admin), "li@example.gov.cn")
    assert r.status_code == 200
    assert "邀请邮件发送失败" in r.content.decode()
    assert fingerprint() == before


def test_an_alert_mentions_by_the_wecom_userid_else_the_phone(
    org: Org, django_user_model: Any
) -> None:
    """What the members page stores is what the alerts' @-mentions use."""
    from govwx.notify.models import Channel, Delivery
    from govwx.team.models import Alert
    from govwx.team.services import _notify_channels

    Channel.objects.create(account=org.account, kind=Channel.Kind.WEBHOOK, name="值班群",
                           target="http://127.0.0.1:9/hook")  # fmt: skip
    other = django_user_model.objects.create_user("zhang")
    add_member(org.account, other, "operator")
    svc.set_contact(org.account, org.supervisor, "13800138000", "LiLeader", actor=org.admin)
    svc.set_contact(org.account, other, "13900139000", "", actor=org.admin)
    alert = Alert.objects.create(account=org.account, kind=Alert.Kind.NEW_CASE, text="新诉求",
                                 subject="t", created_at=timezone.now())  # fmt: skip
    _notify_channels(alert, 1, [org.supervisor, other, org.admin])
    assert Delivery.objects.get().mentions == ["LiLeader", "13900139000"]


# ------------------------------------------------------------ deactivated, restored


def restore(c: Client, user: Any, role: str = "operator", department: Any = None) -> Any:
    return c.post(f"{URL}{user.pk}/restore/", {"role": role,
                  "department": department.pk if department else ""})  # fmt: skip


def flash(r: Any) -> list[str]:
    return [str(m) for m in r.wsgi_request._messages]


@pytest.fixture
def gone(org: Org, django_user_model: Any) -> Any:
    """王芳, a liaison of 市城管局 deactivated by the admin at 09:30 Beijing time: her
    login is disabled (she had no other role)."""
    d = dept(org, "市城管局")
    person = django_user_model.objects.create_user("wangfang", password="pw-wang-1",
                                                   first_name="王芳")  # fmt: skip
    add_member(org.account, person, "liaison", department=d)
    org.admin.first_name = "赵管理"
    org.admin.save()
    with time_machine.travel("2026-03-02 01:30:00+00:00", tick=False):
        assert svc.deactivate_member(org.account, person, actor=org.admin) is True
    person.refresh_from_db()
    assert not person.is_active
    return person


def test_a_deactivated_member_is_listed_with_who_and_when(org: Org, gone: Any) -> None:
    r = as_user(org.admin).get(URL)
    (f,) = r.context["former"]
    assert (f.user, f.role, f.deactivated_by, f.login_disabled) == (
        gone,
        "liaison",
        org.admin,
        True,
    )
    html = r.content.decode()
    section = html[html.index('id="deactivated"') :]
    assert "已停用" in html and "王芳" in section and "wangfang" in section
    assert "赵管理" in section and "2026-03-02 09:30" in section  # Asia/Shanghai
    assert f'action="/settings/members/{gone.pk}/restore/"' in section
    assert "wangfang" not in html[: html.index('id="deactivated"')]  # not among the members


def test_restoring_gives_the_role_back_and_re_enables_the_login(org: Org, gone: Any) -> None:
    d = dept(org, "市人社局")
    c = as_user(org.admin)
    r = restore(c, gone, "liaison", d)
    assert r.status_code == 302 and r["Location"] == URL
    assert flash(r) == ["已恢复 王芳，角色为 部门联络员（市人社局），并重新启用其登录账号"]
    gone.refresh_from_db()
    assert gone.is_active
    m = Membership.objects.get(user=gone, account=org.account)
    assert (m.role, m.department) == ("liaison", d)
    event = AuditEvent.objects.get(name="member.restored")
    assert (event.account, event.actor) == (org.account, org.admin)
    assert event.data == {"user": gone.pk, "username": "wangfang", "role": "liaison",
                          "department": d.pk, "login_enabled": True}  # fmt: skip
    page = c.get(URL)
    assert page.context["former"] == []
    assert "wangfang" in [row.user.username for row in page.context["rows"]]
    signed_in = Client()
    assert signed_in.login(username="wangfang", password="pw-wang-1")
    assert signed_in.get("/").context["account"] == org.account


def test_restoring_keeps_a_login_that_has_roles_elsewhere(org: Org, django_user_model: Any) -> None:
    person = django_user_model.objects.create_user("zhang")
    add_member(org.account, person, "operator")
    add_member(org.other, person, "operator")
    assert svc.deactivate_member(org.account, person, actor=org.admin) is False
    (f,) = as_user(org.supervisor).get(URL).context["former"]
    assert f.user == person and not f.login_disabled
    r = restore(as_user(org.admin), person, "editor")
    assert flash(r) == ["已恢复 zhang，角色为 编辑"]
    assert Membership.objects.get(user=person, account=org.account).role == "editor"
    assert AuditEvent.objects.get(name="member.restored").data["login_enabled"] is False


def test_a_deactivated_again_person_shows_the_last_deactivation(org: Org, gone: Any) -> None:
    svc.restore_member(org.account, gone, "operator", None, actor=org.admin)
    supervisor = org.supervisor
    Membership.objects.filter(user=org.supervisor).update(role="admin")
    with time_machine.travel("2026-04-01 02:00:00+00:00", tick=False):
        svc.deactivate_member(org.account, gone, actor=supervisor)
    (f,) = as_user(org.admin).get(URL).context["former"]
    assert (f.role, f.deactivated_by) == ("operator", supervisor)
    assert "2026-04-01 10:00" in as_user(org.admin).get(URL).content.decode()


def test_restoring_bad_input_is_refused_and_changes_nothing(
    org: Org, gone: Any, django_user_model: Any
) -> None:
    assert org.other.organisation is not None
    elsewhere = Department.objects.create(organisation=org.other.organisation, name="外市局")
    before = fingerprint()
    bad: list[tuple[tuple[Any, ...], str]] = [
        (("liaison",), "未能恢复 王芳：部门联络员必须指定部门"),
        (("liaison", elsewhere), "未能恢复 王芳：所选部门不是本组织在用的部门"),
        (("boss",), "未能恢复 王芳：未知角色：boss"),
    ]
    for args, message in bad:
        r = restore(as_user(org.admin), gone, *args)
        assert r.status_code == 302 and flash(r) == [message]
    # an active member: nothing to restore
    r = restore(as_user(org.admin), org.supervisor)
    assert flash(r) == [
        "未能恢复 leader：leader 已是本公众号的成员，不必恢复；要改角色请在其成员页修改 / already a member"
    ]
    assert fingerprint() == before
    gone.refresh_from_db()
    assert not gone.is_active
    # never a member of this account: not found here (the page), refused (the service)
    stranger = django_user_model.objects.create_user("stranger")
    c = as_user(org.admin)
    assert restore(c, stranger).status_code == 404
    assert restore(c, org.outsider).status_code == 404
    c = as_user(org.admin)
    assert c.post(f"{URL}999999/restore/", {"role": "operator"}).status_code == 404
    with pytest.raises(ValidationError, match="此人从未是本公众号的成员"):
        svc.restore_member(org.account, stranger, "operator", None, actor=org.admin)
    with pytest.raises(ValidationError, match="已是本公众号的成员"):
        svc.restore_member(org.account, org.supervisor, "operator", None, actor=org.admin)
    assert fingerprint()[0] == before[0]
    stranger.refresh_from_db()
    assert stranger.is_active


def test_a_supervisor_sees_the_deactivated_but_cannot_restore(org: Org, gone: Any) -> None:
    c = as_user(org.supervisor)
    r = c.get(URL)
    assert [f.user for f in r.context["former"]] == [gone]
    html = r.content.decode()
    assert 'id="deactivated"' in html and "restore-form" not in html
    before = fingerprint()
    assert restore(c, gone).status_code == 403
    assert c.get(f"{URL}{gone.pk}/restore/").status_code == 405
    assert fingerprint() == before


def test_another_accounts_member_cannot_see_or_restore_these_people(org: Org, gone: Any) -> None:
    c = as_user(org.outsider)  # admin of the other account
    r = c.get(URL)
    assert r.context["account"] == org.other and r.context["former"] == []
    assert "wangfang" not in r.content.decode()
    before = fingerprint()
    assert restore(c, gone).status_code == 404
    with pytest.raises(ValidationError, match="此人从未是本公众号的成员"):
        svc.restore_member(org.other, gone, "operator", None, actor=org.outsider)
    assert fingerprint() == before
    gone.refresh_from_db()
    assert not gone.is_active


def test_the_deactivated_list_costs_the_same_queries_for_one_or_many(
    org: Org, gone: Any, django_user_model: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        c = as_user(org.admin)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(URL).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for n in range(10):
        user = django_user_model.objects.create_user(f"former{n}")
        add_member(org.account, user, "operator")
        svc.deactivate_member(org.account, user, actor=org.admin)
    assert queries() == one
