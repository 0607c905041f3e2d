"""In Chromium: an admin sets up a new account from nothing in the console — the
departments imported from an Excel file, a colleague invited by e-mail as the liaison of
one of them — and the colleague opens the link from the e-mail, sets a password, signs
in and lands in the console as that department's liaison."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.conftest import make_account

from .orgdata import xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/org_settings")


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_an_admin_sets_up_departments_and_invites_a_liaison(
    live_server: Any, page: Page, browser: Browser, django_user_model: Any, settings: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    settings.GOVWX_PUBLIC_URL = live_server.url
    SHOTS.mkdir(exist_ok=True)
    account = make_account()
    city = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=city)
    admin = django_user_model.objects.create_user("acctadmin", password="pw-admin-1")
    add_member(account, admin, "admin")
    base = live_server.url

    sheet = tmp_path / "部门.xlsx"
    sheet.write_bytes(xlsx([
        ["名称", "简称", "上级部门", "办公时间说明"],
        ["市容环卫科", "环卫", "市城市管理局", "24 小时"],
        ["市城市管理局", "城管", "", "工作日 8:30–17:30"],
        ["市人力资源和社会保障局", "人社", "", "工作日 9:00–17:00"],
    ]))  # fmt: skip

    login(page, base, "acctadmin", "pw-admin-1")
    page.click("#nav-settings")
    expect(page).to_have_url(base + "/settings/departments/")
    expect(page.locator("#departments .empty-row")).to_be_visible()
    page.click("#import-departments")
    page.set_input_files("#id_file", str(sheet))
    page.click("#import-submit")
    expect(page.locator(".flash")).to_contain_text("导入完成：新增 3 个部门，修改 0 个，未变 0 个")
    rows = page.locator("#departments tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("市人力资源和社会保障局")
    expect(rows.nth(1)).to_contain_text("市城市管理局")
    expect(rows.nth(2)).to_have_attribute("data-depth", "1")  # below the 城管局
    expect(rows.nth(2)).to_contain_text("市容环卫科")
    page.screenshot(path=str(SHOTS / "departments.png"), full_page=True)

    chengguan = Department.objects.get(name="市城市管理局")
    page.goto(base + "/settings/members/")
    expect(page.locator("#role-table tr[data-perm='cases.accept'] td").nth(5)).to_have_text("✓")
    page.fill("#id_invite-email", "wang.fang@example.gov.cn")
    page.select_option("#id_invite-role", "liaison")
    page.select_option("#id_invite-department", str(chengguan.pk))
    page.click("#invite-submit")
    expect(page.locator(".flash")).to_contain_text("已向 wang.fang@example.gov.cn 发送邀请邮件")
    expect(page.locator("#invitations")).to_contain_text("部门联络员 市城市管理局")
    page.screenshot(path=str(SHOTS / "members.png"), full_page=True)

    (message,) = mail.outbox
    assert message.to == ["wang.fang@example.gov.cn"]
    link = re.search(r"http://\S+/settings/join/\S+/", message.body)
    assert link is not None and link.group(0).startswith(base)

    # the colleague, in a browser of their own
    colleague = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    her = colleague.new_page()
    her.goto(link.group(0))
    expect(her.locator("#join")).to_contain_text("部门联络员（市城市管理局）")
    her.fill("#id_username", "wangfang")
    her.fill("#id_full_name", "王芳")
    her.fill("#id_password", "Chengguan-2026")
    her.fill("#id_password2", "Chengguan-2026")
    her.screenshot(path=str(SHOTS / "join.png"), full_page=True)
    her.click("#join-submit")
    expect(her.locator(".flash")).to_contain_text(
        "欢迎加入「示例市发布」，您的角色是 部门联络员（市城市管理局）"
    )
    her.click("#logout")

    # she signs in with the password she set, and is the department's liaison
    login(her, base, "wangfang", "Chengguan-2026")
    expect(her).to_have_url(base + "/")
    expect(her.locator("#role-here")).to_have_text("· 部门联络员（市城市管理局）")
    expect(her.locator("#nav-settings")).to_have_count(0)  # not an admin's page
    expect(her.locator(".mainnav")).to_contain_text("诉求办理")
    her.screenshot(path=str(SHOTS / "liaison_home.png"), full_page=True)
    m = Membership.objects.get(user__username="wangfang")
    assert (m.account_id, m.role, m.department_id) == (account.pk, "liaison", chengguan.pk)

    # the link is used up
    her.goto(link.group(0))
    expect(her.locator("#join-reason")).to_contain_text("此邀请链接已使用过")
    colleague.close()

    page.reload()
    expect(page.locator("#members")).to_contain_text("王芳")
    expect(page.locator("#invitations")).to_have_count(0)
    page.click(f"#member-{m.user_id}")
    expect(page.locator("#current-role")).to_contain_text("部门联络员 市城市管理局")
    page.fill("#id_phone", "138 0013 8000")
    page.fill("#id_wecom_userid", "WangFang")
    page.click("#save-contact")
    expect(page.locator(".flash")).to_contain_text("已保存 王芳 的提醒联系方式")
    page.screenshot(path=str(SHOTS / "member.png"), full_page=True)
    page.goto(f"{base}/settings/departments/{chengguan.pk}/")
    expect(page.locator("#liaison-list")).to_contain_text("王芳")
    page.screenshot(path=str(SHOTS / "department.png"), full_page=True)
