"""In Chromium: an admin sees the team's skill gaps, forms a project team by ticking the
skills wanted (the suggested members are ticked as the skills are), adds a deliverable,
and closes the project, which is then read-only."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.conftest import make_account
from govwx.team.models import Project

from .staffing import staff_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_an_admin_forms_a_project_team_by_skills(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    from govwx.accounts.services import add_member

    account = make_account()
    admin = django_user_model.objects.create_user("acctadmin", password="pw-admin-1")
    add_member(account, admin, "admin")
    staff = staff_account(account, admin)
    base = live_server.url
    login(page, base, "acctadmin", "pw-admin-1")

    page.goto(base + "/team/")
    expect(page.locator("#gaps-missing .tag-danger")).to_have_text(["数据分析", "社群运营"])
    expect(page.locator("#gaps-single .tag-warn")).to_have_count(4)
    red = page.locator("#gaps-missing .tag-danger").first.evaluate("e => getComputedStyle(e).color")
    assert red == "rgb(180, 35, 24)"  # --danger

    page.goto(base + "/team/projects/new/")
    page.fill("#name", "2026 年防汛宣传")
    page.fill("#starts_on", "2026-05-01")
    page.fill("#due_on", "2026-09-30")
    page.check("input[name=skills][value=photography]")
    photo = page.locator(f"input[name=members][value='{staff['photo'].pk}']")
    expect(photo).to_be_checked()  # htmx asked for the suggestion
    page.check("input[name=skills][value=proofreading]")
    expect(page.locator(f"input[name=members][value='{staff['editor'].pk}']")).to_be_checked()
    expect(photo).to_be_checked()
    expect(page.locator("#name")).to_have_value("2026 年防汛宣传")
    page.select_option("#lead", str(staff["editor"].pk))
    page.click("#create-project")

    project = Project.objects.get()
    expect(page.locator("#project-lead")).to_have_text("editor")
    assert set(project.members.all()) == {staff["editor"], staff["photo"]}
    page.fill("#add-deliverable input[name=title]", "防汛知识 H5")
    page.fill("#add-deliverable input[name=due_on]", "2026-06-01")
    page.click("#add-deliverable button")
    expect(page.locator("#deliverables tbody tr")).to_have_count(1)
    page.fill("#summary", "发布 12 篇")
    page.click("#do-close")
    expect(page.locator("#project-status")).to_have_text("已结项归档")
    expect(page.locator("#add-deliverable")).to_have_count(0)
    page.screenshot(path="/tmp/projects/project.png", full_page=True)
