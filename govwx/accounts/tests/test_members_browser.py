"""In Chromium: an admin deactivates a liaison, finds her under 「已停用」 with who did it
and when, and restores her with a role chosen in the row's small form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.conftest import make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/org_settings")


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_an_admin_deactivates_and_restores_a_member(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    account = make_account()
    city = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=city)
    account.refresh_from_db()
    chengguan = Department.objects.create(organisation=city, name="市城市管理局")
    renshe = Department.objects.create(organisation=city, name="市人力资源和社会保障局")
    admin = django_user_model.objects.create_user("acctadmin", password="pw-admin-1",
                                                  first_name="赵敏")  # fmt: skip
    add_member(account, admin, "admin")
    wang = django_user_model.objects.create_user("wangfang", password="pw-wang-1",
                                                 first_name="王芳")  # fmt: skip
    add_member(account, wang, "liaison", department=chengguan)
    base = live_server.url

    login(page, base, "acctadmin", "pw-admin-1")
    page.goto(f"{base}/settings/members/{wang.pk}/")
    page.once("dialog", lambda d: d.accept())
    page.click("#deactivate-submit")
    expect(page.locator(".flash")).to_contain_text("已停用 王芳")
    row = page.locator(f"#deactivated tr[data-former='{wang.pk}']")
    expect(row).to_contain_text("部门联络员")
    expect(row).to_contain_text("赵敏")
    expect(row).to_contain_text(timezone.localtime().strftime("%Y-%m-%d"))
    expect(page.locator("#members")).not_to_contain_text("wangfang")
    # her former department is chosen for her again
    expect(page.locator(f"#restore-department-{wang.pk}")).to_have_value(str(chengguan.pk))
    page.screenshot(path=str(SHOTS / "members_deactivated.png"), full_page=True)

    page.select_option(f"#restore-department-{wang.pk}", str(renshe.pk))
    page.click(f"#restore-{wang.pk}")
    expect(page.locator(".flash")).to_contain_text(
        "已恢复 王芳，角色为 部门联络员（市人力资源和社会保障局），并重新启用其登录账号"
    )
    expect(page.locator("#deactivated")).to_have_count(0)
    expect(page.locator("#members")).to_contain_text("王芳")
    m = Membership.objects.get(user=wang, account=account)
    assert (m.role, m.department) == ("liaison", renshe)
    wang.refresh_from_db()
    assert wang.is_active
