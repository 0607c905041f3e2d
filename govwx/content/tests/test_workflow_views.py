"""The workflow's pages: 待我处理, an article's panel with the actions of each person,
the forms that act (and their refusals in words), the history with each step's time and
an emergency release's clock, and the publishing policy page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from govwx.accounts.models import Account, Department
from govwx.content import workflow
from govwx.content.models import Article, Policy
from govwx.content.workflow import ERROR, Finding, PolicyInput

from .test_workflow import draft, state

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=SH)


def client_of(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def panel(article: Article) -> str:
    return reverse("content:workflow", kwargs={"pk": article.pk})


def act(user: Any, article: Article, **data: Any) -> str:
    """Post an action as `user`; the page it lands on."""
    url = reverse("content:workflow_act", kwargs={"pk": article.pk})
    data.setdefault("revision", Article.objects.get(pk=article.pk).revision)
    r = client_of(user).post(url, data, follow=True)
    assert r.redirect_chain == [(panel(article), 302)]
    return r.content.decode()


def test_the_panel_shows_each_person_what_they_may_do(
    account: Account,
    department: Department,
    liaison: Any,
    other_liaison: Any,
    reviewer: Any,
    outsider: Any,
) -> None:
    a = workflow.submit(draft(account, liaison), revision=1, actor=liaison)
    page = client_of(liaison).get(panel(a)).content.decode()
    assert 'id="do-verify"' in page and 'id="return-form"' in page
    assert 'data-status="verifying"' in page
    assert "当前环节：<strong>核实</strong>（市水务局）" in page
    page = client_of(reviewer).get(panel(a)).content.decode()
    assert 'id="do-verify"' not in page and 'id="actions"' not in page
    # another department's liaison does not see it at all; nor does an outsider
    assert client_of(other_liaison).get(panel(a)).status_code == 404
    assert client_of(outsider).get(panel(a)).status_code == 404
    r = Client().get(panel(a))
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_verify_proofread_and_approve_for_a_time_through_the_forms(
    account: Account, department: Department, liaison: Any, reviewer: Any, account_admin: Any
) -> None:
    a = draft(account, liaison)
    page = act(liaison, a, action="submit", comment="请核实")
    assert "已提交" in page
    page = act(liaison, a, action="verify", comment="无误")
    assert "已核实，转校对" in page and 'data-status="proofreading"' in page
    page = act(reviewer, a, action="proofread")
    assert "已校对，转签发" in page
    page = act(account_admin, a, action="approve", when="later", scheduled_for="2030-01-01T08:00")
    assert "已签发，定于 2030-01-01 08:00 发布" in page
    a.refresh_from_db()
    assert (a.status, a.scheduled_for) == (
        Article.Status.SCHEDULED,
        datetime(2030, 1, 1, 8, tzinfo=SH),
    )
    assert 'id="scheduled-for">2030-01-01 08:00' in page
    assert page.count('data-outcome="done"') == 4


def test_refusals_are_said_in_words_and_change_nothing(
    account: Account, department: Department, liaison: Any, other_liaison: Any, reviewer: Any,
    account_admin: Any,
) -> None:  # fmt: skip
    a = workflow.submit(draft(account, liaison), revision=1, actor=liaison)
    before = state(a)
    assert "请填写退回理由" in act(liaison, a, action="return", reason="  ")
    assert "未知操作" in act(liaison, a, action="frobnicate")
    assert "文章已被修改（第 1 版）" in act(liaison, a, action="verify", revision=9)
    assert "不能签发" in act(account_admin, a, action="approve")
    assert state(a) == before
    workflow.verify(a, revision=1, actor=liaison)
    workflow.proofread(Article.objects.get(pk=a.pk), revision=1, actor=reviewer)
    before = state(a)
    page = act(account_admin, a, action="approve", when="later", scheduled_for="明天")
    assert "请填写定时发布的日期和时间" in page
    assert state(a) == before
    page = act(account_admin, a, action="return", reason="请补充咨询电话")
    assert "已退回撰稿人" in page
    page = client_of(liaison).get(panel(a)).content.decode()
    assert '<span id="returned-reason">请补充咨询电话</span>' in page
    assert 'id="do-submit"' in page
    inbox = client_of(liaison).get(reverse("content:workflow_inbox")).content.decode()
    assert 'id="returned"' in inbox and "请补充咨询电话" in inbox


def test_a_reviewer_dismisses_an_error_with_a_reason_on_the_panel(
    monkeypatch: Any, account: Account, editor: Any, reviewer: Any
) -> None:
    monkeypatch.setattr(
        workflow, "CHECKS", [lambda a: [Finding(ERROR, "官话套话：「高度重视」", "officialese")]]
    )
    a = workflow.submit(draft(account, editor), revision=1, actor=editor)
    page = client_of(reviewer).get(panel(a)).content.decode()
    assert 'data-severity="error" data-dismissed="0"' in page
    assert 'id="checks-blocking"' in page
    assert "错误：官话套话" in act(reviewer, a, action="proofread")
    assert "请说明忽略的理由" in act(reviewer, a, action="dismiss", key="officialese", reason="")
    page = act(reviewer, a, action="dismiss", key="officialese", reason="引用原文")
    assert "已忽略该检查项" in page and 'data-dismissed="1"' in page
    assert "已忽略（reviewer：引用原文）" in page
    assert "已校对，转签发" in act(reviewer, a, action="proofread")


def test_the_history_shows_each_step_s_time_and_the_release_against_its_target(
    account: Account, department: Department, liaison: Any, reviewer: Any, account_admin: Any
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        a = workflow.start_emergency(draft(account, liaison), revision=1, actor=liaison)
        page = client_of(liaison).get(panel(a)).content.decode()
        assert 'id="emergency"' in page and 'id="step-due">09:10' in page
        clock.shift(timedelta(minutes=4))
        workflow.verify(a, revision=1, actor=liaison)
        clock.shift(timedelta(minutes=5, seconds=30))
        workflow.proofread(Article.objects.get(pk=a.pk), revision=1, actor=reviewer)
        clock.shift(timedelta(minutes=6))
        workflow.approve(Article.objects.get(pk=a.pk), revision=1, actor=account_admin)
        page = client_of(account_admin).get(panel(a)).content.decode()
    took = [
        chunk.split("</td>")[0]
        for chunk in page.split('class="nowrap took">')[1:]
    ]  # fmt: skip
    assert took == ["—", "4 分 0 秒", "5 分 30 秒", "6 分 0 秒"]
    assert 'id="clock-took">15 分 30 秒' in page
    assert 'id="clock-target">30<' in page
    assert 'id="clock-verdict">达到目标' in page


def test_waiting_for_me_lists_my_steps_in_a_fixed_number_of_queries(
    account: Account, editor: Any, reviewer: Any, liaison: Any, department: Department
) -> None:
    url = reverse("content:workflow_inbox")
    c = client_of(reviewer)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    for i in range(2):
        workflow.submit(draft(account, editor, f"稿件{i}"), revision=1, actor=editor)
    few = queries()
    for i in range(2, 6):
        workflow.submit(draft(account, editor, f"稿件{i}"), revision=1, actor=editor)
    workflow.submit(draft(account, liaison, "部门稿件"), revision=1, actor=liaison)
    assert queries() == few
    page = c.get(url).content.decode()
    assert page.count('data-step="proofread"') == 6 and "部门稿件" not in page
    page = client_of(liaison).get(url).content.decode()
    assert page.count('data-step="verify"') == 1 and "部门稿件" in page
    assert "没有等待您处理的稿件" in client_of(editor).get(url).content.decode()


def test_the_policy_page_saves_only_what_is_right(
    account: Account, account_admin: Any, editor: Any
) -> None:
    url = reverse("content:policy")
    page = client_of(account_admin).get(url).content.decode()
    assert 'value="policy" checked' in page and 'id="verify_required" checked' in page
    assert client_of(editor).get(url).status_code == 403
    assert client_of(editor).post(url, {"emergency_minutes": "20"}).status_code == 403
    r = client_of(account_admin).post(
        url, {"major_categories": ["policy"], "major_keywords": "疫情", "emergency_minutes": "0"}
    )
    assert r.status_code == 400 and "目标用时应为 1–1440 分钟" in r.content.decode()
    assert not Policy.objects.exists()
    r = client_of(account_admin).post(
        url,
        {"major_categories": ["policy", "emergency"], "major_keywords": "疫情\n任免，台风",
         "verify_required": "1", "emergency_minutes": "20"},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == url
    p = Policy.objects.get(account=account)
    assert (p.major_categories, p.major_keywords, p.verify_required, p.emergency_minutes) == (
        ["policy", "emergency"], ["疫情", "任免", "台风"], True, 20
    )  # fmt: skip
    workflow.update_policy(account, PolicyInput([], [], False, 30), actor=account_admin)
    page = client_of(account_admin).get(url).content.decode()
    assert 'id="verify_required" checked' not in page
