"""In Chromium: a department's information goes through 核实 → 校对 → 签发 by the clicks
of three people — the department's liaison, a reviewer who finds it on 待我处理, and the
office's admin who approves it for a time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account, Department
from govwx.content import workflow
from govwx.content.models import Article

from .test_workflow import draft

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))


def login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()


def test_verify_proofread_and_approve_by_clicks(
    live_server: Any,
    settings: Any,
    page: Page,
    account: Account,
    department: Department,
    liaison: Any,
    reviewer: Any,
    account_admin: Any,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # the worker's queue, as deployed: the approval queues the publish for its time (the
    # tests' immediate backend cannot hold a task until a time)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    base = live_server.url
    a = workflow.submit(draft(account, liaison), revision=1, actor=liaison, comment="请核实")
    url = f"{base}/content/articles/{a.pk}/workflow/"

    login(page, base, "liaison", "pw-liaison")
    page.goto(base + "/content/workflow/")
    page.locator("#waiting tr[data-step=verify] a").click()
    expect(page.locator("#current-step")).to_contain_text("核实（市水务局）")
    page.fill("#comment", "停水范围已与水厂核对")
    page.click("#do-verify")
    expect(page.locator(".flash")).to_contain_text("已核实，转校对")
    expect(page.locator("#status")).to_have_attribute("data-status", "proofreading")
    expect(page.locator("#do-verify")).to_have_count(0)
    page.click("#logout")

    login(page, base, "reviewer", "pw-reviewer")
    page.goto(base + "/content/workflow/")
    page.screenshot(path=str(SHOTS / "workflow-waiting.png"), full_page=True)
    page.locator("#waiting tr[data-step=proofread] a").click()
    expect(page.locator("#checks-clean")).to_be_visible()
    # a return needs a reason: the browser asks for it before anything is sent
    page.click("#do-return")
    assert page.locator("#return-reason").evaluate("e => !e.validity.valid")
    assert Article.objects.get(pk=a.pk).status == Article.Status.PROOFREADING
    page.click("#do-proofread")
    expect(page.locator(".flash")).to_contain_text("已校对，转签发")
    page.click("#logout")

    login(page, base, "acctadmin", "pw-admin-1")
    page.goto(url)
    expect(page.locator("#current-step")).to_contain_text("签发")
    page.check("#when-later")
    page.fill("#scheduled-for-input", "2030-01-01T08:00")
    page.fill("#comment", "同意发布")
    page.click("#do-approve")
    expect(page.locator(".flash")).to_contain_text("已签发，定于 2030-01-01 08:00 发布")
    expect(page.locator("#scheduled-for")).to_have_text("2030-01-01 08:00")
    expect(page.locator("#steps tbody tr")).to_have_count(4)
    expect(page.locator("#steps tbody tr[data-outcome=done]")).to_have_count(4)
    expect(page.locator("#steps tbody tr[data-kind=verify]")).to_contain_text(
        "停水范围已与水厂核对"
    )
    expect(page.locator("#do-cancel")).to_be_visible()
    page.screenshot(path=str(SHOTS / "workflow-approved.png"), full_page=True)
    page.goto(base + "/content/policy/")
    expect(page.locator("#emergency_minutes")).to_have_value("30")
    page.screenshot(path=str(SHOTS / "workflow-policy.png"), full_page=True)
    a.refresh_from_db()
    assert a.status == Article.Status.SCHEDULED
    [queued] = DBTaskResult.objects.all()  # publish_due, not before the chosen time
    assert queued.run_after == a.scheduled_for
    assert [s.actor.get_username() for s in a.steps.select_related("actor")] == [
        "liaison", "liaison", "reviewer", "acctadmin"
    ]  # fmt: skip
