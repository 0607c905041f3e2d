"""The editorial workflow's services: the routine and the major path, returns with
reasons, the text checks (a veto, an error dismissed with a reason), wrong people and
wrong states refused with nothing changed, withdrawing and cancelling, the policy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.accounts.models import Account, AuditEvent, Department, Membership
from govwx.content import articles, workflow
from govwx.content import workflow_queries as queries
from govwx.content.articles import ArticleInput, Conflict
from govwx.content.models import Article, Policy, Step
from govwx.content.workflow import ERROR, VETO, WARNING, Finding, PolicyInput

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=SH)  # a Tuesday morning
TEXT = {"type": "text", "html": "<p>明天 9 时至 17 时，东湖区部分小区停水，请提前储水。</p>"}
S = Article.Status


def draft(
    account: Account,
    actor: Any,
    title: str = "东湖区明日停水",
    *,
    department: Department | None = None,
    category: str = Article.Category.ROUTINE,
    html: str | None = None,
) -> Article:
    body = [{"type": "text", "html": html}] if html else [TEXT]
    return articles.create_article(
        account,
        ArticleInput(title, body, source_department=department, category=category),
        actor=actor,
    )


def state(article: Article) -> tuple[Any, ...]:
    """What a refusal must leave as it was."""
    a = Article.objects.get(pk=article.pk)
    steps = list(Step.objects.filter(article=a).values_list("kind", "outcome", "comment", "data"))
    return (a.status, a.revision, a.major, a.scheduled_for, steps, AuditEvent.objects.count())


def trail(article: Article) -> list[tuple[str, str, str | None]]:
    return [
        (s.kind, s.outcome, s.actor.get_username() if s.actor else None)
        for s in Step.objects.filter(article=article).select_related("actor")
    ]


def fresh(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


# ------------------------------------------------------------------ the whole path


def test_it_takes_routine_information_from_the_liaison_to_scheduled(
    account: Account, department: Department, liaison: Any, reviewer: Any, account_admin: Any
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        a = draft(account, liaison)  # a liaison's draft is their department's
        assert a.source_department == department
        a = workflow.submit(a, revision=1, actor=liaison, comment="请核实")
        assert (a.status, a.major, a.submitted_at) == (S.VERIFYING, False, T0)
        assert a.locked_by is None  # the writer lets it go
        step = Step.objects.get(article=a, outcome="open")
        assert (step.kind, step.department, step.role, step.due_at) == (
            "verify", department, "liaison", None
        )  # fmt: skip
        clock.shift(timedelta(minutes=20))
        a = workflow.verify(a, revision=1, actor=liaison, comment="数据无误")
        assert a.status == S.PROOFREADING
        clock.shift(timedelta(minutes=35))
        a = workflow.proofread(a, revision=1, actor=reviewer)
        assert a.status == S.APPROVING
        assert Step.objects.get(article=a, outcome="open").role == "admin"
        clock.shift(timedelta(hours=1))
        a = workflow.approve(a, revision=1, actor=account_admin, comment="同意")
        approved_at = T0 + timedelta(minutes=115)
        assert (a.status, a.scheduled_for) == (S.SCHEDULED, approved_at)
    assert fresh(a).status == S.SCHEDULED
    assert trail(a) == [
        ("submit", "done", "liaison"),
        ("verify", "done", "liaison"),
        ("proofread", "done", "reviewer"),
        ("approve", "done", "acctadmin"),
    ]
    steps = list(Step.objects.filter(article=a))
    assert [s.comment for s in steps] == ["请核实", "数据无误", "", "同意"]
    assert all(s.revision == 1 for s in steps)
    assert steps[3].data == {"scheduled_for": "2026-11-03T02:55:00+00:00"}  # UTC
    rows = queries.history(a)
    assert [r.took for r in rows] == [
        None, timedelta(minutes=20), timedelta(minutes=35), timedelta(hours=1)
    ]  # fmt: skip
    assert [r.took_text for r in rows[1:]] == ["20 分 0 秒", "35 分 0 秒", "1 小时 0 分"]
    names = list(
        AuditEvent.objects.filter(name__startswith="article.")
        .exclude(name="article.created")
        .values_list("name", flat=True)
        .order_by("id")
    )
    assert names == ["article.submitted", "article.verified", "article.proofread",
                     "article.approved"]  # fmt: skip


def test_a_major_article_is_approved_only_by_the_leader(
    account: Account, editor: Any, reviewer: Any, account_admin: Any, leader: Any
) -> None:
    a = draft(account, editor, "《促进就业若干措施》政策解读", category=Article.Category.POLICY)
    a = workflow.submit(a, revision=1, actor=editor)
    assert (a.status, a.major) == (S.PROOFREADING, True)  # no department: no 核实
    assert Step.objects.get(article=a, kind="submit").data == {"major": "类别：政策解读"}
    workflow.proofread(a, revision=1, actor=reviewer)
    assert Step.objects.get(article=a, outcome="open").role == "supervisor"
    before = state(a)
    with pytest.raises(PermissionDenied, match="须由领导签发"):
        workflow.approve(a, revision=1, actor=account_admin)
    assert state(a) == before
    assert queries.actions_for(account_admin, fresh(a)) == ["dismiss"]  # proofreads, no more
    assert queries.actions_for(leader, fresh(a)) == ["approve", "return"]
    a = workflow.approve(fresh(a), revision=1, actor=leader)
    assert a.status == S.SCHEDULED
    assert trail(a)[-1] == ("approve", "done", "leader")


def test_a_major_keyword_in_the_text_makes_it_major(
    account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    workflow.update_policy(
        account,
        PolicyInput([], ["疫情", "人事任免"], verify_required=True, emergency_minutes=30),
        actor=account_admin,
    )
    a = draft(account, editor, "关于近期疫情防控的提示")
    assert workflow.submit(a, revision=1, actor=editor).major is True
    assert Step.objects.get(article=a, kind="submit").data == {"major": "关键词：疫情"}
    # policy interpretation is no longer a major category on this account
    b = draft(account, editor, "政策解读", category=Article.Category.POLICY)
    assert workflow.submit(b, revision=1, actor=editor).major is False
    # a keyword written into the text during proofreading makes it major before 签发
    c = draft(account, editor, "通知")
    workflow.submit(c, revision=1, actor=editor)
    c = articles.save_article(
        c, ArticleInput("通知", [{"type": "text", "html": "<p>人事任免事项</p>"}]), revision=1,
        actor=editor,
    )  # fmt: skip
    c = workflow.proofread(c, revision=2, actor=reviewer)
    assert c.major is True
    assert Step.objects.get(article=c, outcome="open").role == "supervisor"


# ------------------------------------------------------------------ returns


def test_each_step_returns_with_a_reason_and_keeps_the_history(
    account: Account, department: Department, liaison: Any, reviewer: Any, account_admin: Any
) -> None:
    a = workflow.submit(draft(account, liaison), revision=1, actor=liaison)
    before = state(a)
    for blank in ("", "   "):
        with pytest.raises(ValidationError, match="请填写退回理由"):
            workflow.return_article(a, blank, revision=1, actor=liaison)
    assert state(a) == before
    a = workflow.return_article(a, "停水时间应为 8 时", revision=1, actor=liaison)
    assert a.status == S.DRAFT
    [back] = queries.returned_to(liaison, account)
    assert (back.pk, back.returned_reason, back.returned_kind) == (
        a.pk,
        "停水时间应为 8 时",
        "verify",
    )
    assert queries.returned_to(reviewer, account).count() == 0

    a = workflow.submit(a, revision=1, actor=liaison)  # resubmitted: new steps
    assert list(queries.returned_to(liaison, account)) == []
    workflow.verify(a, revision=1, actor=liaison)
    a = workflow.return_article(fresh(a), "标题不够具体", revision=1, actor=reviewer)
    assert a.status == S.DRAFT
    a = workflow.submit(a, revision=1, actor=liaison)
    workflow.verify(a, revision=1, actor=liaison)
    workflow.proofread(fresh(a), revision=1, actor=reviewer)
    a = workflow.return_article(fresh(a), "请补充咨询电话", revision=1, actor=account_admin)
    assert a.status == S.DRAFT
    assert [(k, o) for k, o, _ in trail(a)] == [
        ("submit", "done"), ("verify", "returned"),
        ("submit", "done"), ("verify", "done"), ("proofread", "returned"),
        ("submit", "done"), ("verify", "done"), ("proofread", "done"), ("approve", "returned"),
    ]  # fmt: skip
    reasons = list(
        Step.objects.filter(article=a, outcome="returned").values_list("comment", flat=True)
    )
    assert reasons == ["停水时间应为 8 时", "标题不够具体", "请补充咨询电话"]
    assert AuditEvent.objects.filter(name="article.returned").count() == 3
    # a draft cannot be returned
    with pytest.raises(ValidationError, match="当前为「草稿」"):
        workflow.return_article(a, "再退", revision=1, actor=account_admin)


# ------------------------------------------------------------------ text checks


def test_a_veto_blocks_proofreading_until_the_text_is_fixed(
    monkeypatch: Any, account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    def placeholder(article: Article) -> list[Finding]:
        if "XX" in article.html:
            return [Finding(VETO, "正文中有未替换的占位符「XX」", "placeholder")]
        return []

    monkeypatch.setattr(workflow, "CHECKS", [])
    workflow.register(placeholder)
    workflow.register(placeholder)  # once
    assert workflow.CHECKS == [placeholder]
    a = draft(account, editor, html="<p>咨询电话：XX</p>")
    a = workflow.submit(a, revision=1, actor=editor)  # the checks run from 校对 on
    before = state(a)
    with pytest.raises(ValidationError) as refused:
        workflow.proofread(a, revision=1, actor=reviewer)
    assert refused.value.messages[0] == "否决：正文中有未替换的占位符「XX」"
    with pytest.raises(ValidationError, match="否决项不能忽略"):
        workflow.dismiss(a, "placeholder", "已确认", revision=1, actor=reviewer)
    assert state(a) == before
    # the editor fixes the text: the reviewer's page was of revision 1
    a = articles.save_article(a, ArticleInput("东湖区明日停水", [TEXT]), revision=1, actor=editor)
    with pytest.raises(Conflict):
        workflow.proofread(a, revision=1, actor=reviewer)
    a = workflow.proofread(a, revision=2, actor=reviewer)
    assert a.status == S.APPROVING
    assert Step.objects.get(article=a, kind="proofread").revision == 2


def test_an_error_blocks_until_a_reviewer_dismisses_it_with_a_reason(
    monkeypatch: Any, account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    def officialese(article: Article) -> list[Finding]:
        found = [Finding(WARNING, "句子较长，建议拆分")]
        if "高度重视" in article.html:
            found.append(Finding(ERROR, "官话套话：「高度重视」", "officialese:高度重视"))
        return found

    def broken(article: Article) -> list[Finding]:
        raise RuntimeError("词典未加载")

    monkeypatch.setattr(workflow, "CHECKS", [officialese])
    a = draft(account, editor, html="<p>市水务局高度重视此次停水。</p>")
    a = workflow.submit(a, revision=1, actor=editor)
    with pytest.raises(ValidationError, match="错误：官话套话"):
        workflow.proofread(a, revision=1, actor=reviewer)
    before = state(a)
    with pytest.raises(ValidationError, match="请说明忽略的理由"):
        workflow.dismiss(a, "officialese:高度重视", " ", revision=1, actor=reviewer)
    with pytest.raises(PermissionDenied):
        workflow.dismiss(a, "officialese:高度重视", "引用原文", revision=1, actor=editor)
    with pytest.raises(ValidationError, match="该检查项已不存在"):
        workflow.dismiss(a, "officialese:别的", "引用原文", revision=1, actor=reviewer)
    assert state(a) == before
    workflow.dismiss(a, "officialese:高度重视", "引用部门原话", revision=1, actor=reviewer)
    step = Step.objects.get(article=a, outcome="open")
    [d] = step.data["dismissed"]
    assert (d["key"], d["reason"], d["by"], d["message"]) == (
        "officialese:高度重视", "引用部门原话", reviewer.pk, "官话套话：「高度重视」"
    )  # fmt: skip
    event = AuditEvent.objects.get(name="article.finding_dismissed")
    assert event.data["reason"] == "引用部门原话" and event.actor == reviewer
    review = workflow.review(a)
    assert [f.severity for f in review.findings] == [WARNING, ERROR]
    assert review.blocking == []  # a warning never blocks; the error is dismissed
    a = workflow.proofread(a, revision=1, actor=reviewer)
    # the checks run again at 签发: a check that cannot run is an error, not a pass
    monkeypatch.setattr(workflow, "CHECKS", [officialese, broken])
    with pytest.raises(ValidationError, match="校对检查 broken 未能运行：词典未加载"):
        workflow.approve(a, revision=1, actor=account_admin)
    workflow.dismiss(a, "failed:broken", "检查服务故障，已人工通读", revision=1, actor=reviewer)
    assert workflow.approve(a, revision=1, actor=account_admin).status == S.SCHEDULED
    # resubmitted, the dismissals of the earlier round no longer count
    workflow.cancel_schedule(fresh(a), revision=1, actor=account_admin)
    workflow.return_article(fresh(a), "重写", revision=1, actor=account_admin)
    workflow.submit(fresh(a), revision=1, actor=editor)
    assert [f.key for f in workflow.review(fresh(a)).blocking] == [
        "officialese:高度重视", "failed:broken"
    ]  # fmt: skip


def test_what_wechat_would_refuse_is_a_veto(account: Account, editor: Any, reviewer: Any) -> None:
    a = workflow.submit(draft(account, editor), revision=1, actor=editor)
    # written before the limit or by hand: an iframe in the stored body
    Article.objects.filter(pk=a.pk).update(
        body=[{"type": "text", "html": "<iframe src='https://x.example'></iframe>"}]
    )
    [f] = workflow.findings(fresh(a))
    assert f.severity == VETO and "iframe" in f.message
    with pytest.raises(ValidationError, match="否决"):
        workflow.proofread(fresh(a), revision=1, actor=reviewer)


# ------------------------------------------------------------------ wrong people, states


def test_wrong_people_and_wrong_states_are_refused_and_change_nothing(
    account: Account,
    department: Department,
    liaison: Any,
    other_liaison: Any,
    editor: Any,
    reviewer: Any,
    account_admin: Any,
) -> None:
    a = workflow.submit(draft(account, liaison), revision=1, actor=liaison)
    before = state(a)
    with pytest.raises(PermissionDenied, match="只有来源部门（市水务局）的联络员可以核实"):
        workflow.verify(a, revision=1, actor=other_liaison)
    with pytest.raises(PermissionDenied, match="没有权限"):
        workflow.verify(a, revision=1, actor=editor)
    with pytest.raises(PermissionDenied):
        workflow.return_article(a, "不是我的", revision=1, actor=other_liaison)
    with pytest.raises(ValidationError, match="当前为「待核实」，不能签发"):
        workflow.approve(a, revision=1, actor=account_admin)  # approve without proofreading
    with pytest.raises(ValidationError, match="当前为「待核实」，不能校对"):
        workflow.proofread(a, revision=1, actor=reviewer)
    with pytest.raises(ValidationError, match="当前为「待核实」，不能提交"):
        workflow.submit(a, revision=1, actor=editor)
    with pytest.raises(Conflict, match="第 1 版"):
        workflow.verify(a, revision=7, actor=liaison)
    assert state(a) == before
    workflow.verify(a, revision=1, actor=liaison)
    before = state(a)
    with pytest.raises(PermissionDenied):
        workflow.proofread(a, revision=1, actor=liaison)
    with pytest.raises(ValidationError, match="不能签发"):
        workflow.approve(a, revision=1, actor=account_admin)
    with pytest.raises(ValidationError, match="当前为「待校对」，不能核实"):
        workflow.verify(a, revision=1, actor=liaison)
    assert state(a) == before
    workflow.proofread(fresh(a), revision=1, actor=reviewer)
    before = state(a)
    with pytest.raises(PermissionDenied):
        workflow.approve(a, revision=1, actor=reviewer)  # a proofreader does not approve
    with pytest.raises(ValidationError, match="已过"):
        workflow.approve(a, revision=1, actor=account_admin, at=T0)
    assert state(a) == before


def test_who_submits_and_where_it_goes(
    account: Account,
    department: Department,
    other_department: Department,
    liaison: Any,
    other_liaison: Any,
    editor: Any,
    account_admin: Any,
) -> None:
    mine = draft(account, liaison)
    with pytest.raises(PermissionDenied, match="部门联络员只能编辑本部门的稿件"):
        workflow.submit(mine, revision=1, actor=other_liaison)
    # information of a department with no liaison cannot be verified: said, not stuck
    nobody = Department.objects.create(organisation=account.organisation, name="市统计局")
    a = draft(account, editor, department=nobody)
    before = state(a)
    with pytest.raises(ValidationError, match="「市统计局」在本公众号没有部门联络员"):
        workflow.submit(a, revision=1, actor=editor)
    assert state(a) == before
    with pytest.raises(Conflict):
        workflow.submit(a, revision=2, actor=editor)
    # unless the policy does not ask for verification
    workflow.update_policy(
        account, PolicyInput(["policy"], [], verify_required=False, emergency_minutes=30),
        actor=account_admin,
    )  # fmt: skip
    assert workflow.submit(a, revision=1, actor=editor).status == S.PROOFREADING
    # an editor submits another department's information: its liaison verifies
    b = workflow.submit(draft(account, editor, department=other_department), revision=1,
                        actor=editor)  # fmt: skip
    assert b.status == S.PROOFREADING  # (verification is off)
    workflow.update_policy(
        account, PolicyInput(["policy"], [], verify_required=True, emergency_minutes=30),
        actor=account_admin,
    )  # fmt: skip
    c = workflow.submit(draft(account, editor, department=other_department), revision=1,
                        actor=editor)  # fmt: skip
    assert c.status == S.VERIFYING
    assert [s.article for s in queries.waiting_for(other_liaison, account)] == [c]
    assert list(queries.waiting_for(liaison, account)) == []


def test_the_writer_withdraws_and_the_office_cancels_a_schedule(
    account: Account, editor: Any, editor2: Any, reviewer: Any, account_admin: Any,
    operator: Any,
) -> None:  # fmt: skip
    a = workflow.submit(draft(account, editor), revision=1, actor=editor)
    with pytest.raises(PermissionDenied, match="只有撰稿人可以撤回"):
        workflow.withdraw(a, revision=1, actor=editor2)
    a = workflow.withdraw(a, revision=1, actor=editor, reason="还要补充")
    assert a.status == S.DRAFT
    assert trail(a)[-1] == ("proofread", "cancelled", "editor")
    assert Step.objects.filter(article=a).last().comment == "还要补充"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="当前为「草稿」，不能撤回"):
        workflow.withdraw(a, revision=1, actor=editor)
    a = workflow.submit(a, revision=1, actor=editor)
    workflow.proofread(a, revision=1, actor=reviewer)
    later = datetime(2030, 1, 1, 8, tzinfo=SH)
    a = workflow.approve(fresh(a), revision=1, actor=account_admin, at=later)
    assert (a.status, a.scheduled_for) == (S.SCHEDULED, later)
    with pytest.raises(ValidationError, match="不能撤回"):
        workflow.withdraw(a, revision=1, actor=editor)  # approved: too late for the writer
    before = state(a)
    with pytest.raises(PermissionDenied):
        workflow.cancel_schedule(a, revision=1, actor=editor)
    assert state(a) == before
    a = workflow.cancel_schedule(a, revision=1, actor=operator, reason="时间改了")
    assert (a.status, fresh(a).scheduled_for) == (S.APPROVING, None)
    assert trail(a)[-2:] == [("publish", "cancelled", "operator"), ("approve", "open", None)]
    assert queries.actions_for(account_admin, fresh(a)) == ["approve", "return", "dismiss"]
    with pytest.raises(ValidationError, match="不能取消定时发布"):
        workflow.cancel_schedule(fresh(a), revision=1, actor=operator)


def test_an_approval_for_a_time_must_name_a_future_aware_time(
    account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    a = workflow.submit(draft(account, editor), revision=1, actor=editor)
    a = workflow.proofread(a, revision=1, actor=reviewer)
    before = state(a)
    with pytest.raises(ValidationError, match="须带时区"):
        workflow.approve(a, revision=1, actor=account_admin, at=datetime(2030, 1, 1, 8))
    with pytest.raises(ValidationError, match="已过"):
        workflow.approve(a, revision=1, actor=account_admin, at=datetime(2020, 1, 1, tzinfo=SH))
    assert state(a) == before


def test_what_waits_for_whom(
    account: Account, department: Department, liaison: Any, other_liaison: Any, editor: Any,
    reviewer: Any, account_admin: Any, leader: Any,
) -> None:  # fmt: skip
    verify = workflow.submit(draft(account, liaison, "核实的"), revision=1, actor=liaison)
    proof = workflow.submit(draft(account, editor, "校对的"), revision=1, actor=editor)
    routine = workflow.submit(draft(account, editor, "日常的"), revision=1, actor=editor)
    workflow.proofread(routine, revision=1, actor=reviewer)
    major = draft(account, editor, "解读的", category=Article.Category.POLICY)
    workflow.proofread(workflow.submit(major, revision=1, actor=editor), revision=1,
                       actor=reviewer)  # fmt: skip

    def waiting(user: Any) -> list[str]:
        return [s.article.title for s in queries.waiting_for(user, account)]

    assert waiting(liaison) == ["核实的"]
    assert waiting(other_liaison) == []
    assert waiting(reviewer) == ["校对的"]
    assert waiting(account_admin) == ["校对的", "日常的"]  # the admin also proofreads
    assert waiting(leader) == ["解读的"]
    assert waiting(editor) == []
    assert verify.status == S.VERIFYING and proof.status == S.PROOFREADING


# ------------------------------------------------------------------ policy


def test_the_policy_is_checked_before_it_is_saved(
    account: Account, account_admin: Any, editor: Any
) -> None:
    default = workflow.policy_for(account)
    assert (default.pk, default.major_categories, default.verify_required,
            default.emergency_minutes) == (None, ["policy"], True, 30)  # fmt: skip
    bad = [
        (PolicyInput(["secret"], [], True, 30), "未知的类别：secret"),
        (PolicyInput([], ["字" * 21], True, 30), "关键词最多 20 字"),
        (PolicyInput([], [f"词{i}" for i in range(201)], True, 30), "关键词最多 200 个"),
        (PolicyInput([], [], True, 0), "目标用时应为 1–1440 分钟"),
        (PolicyInput([], [], True, 1441), "目标用时应为 1–1440 分钟"),
        (PolicyInput([], [], True, None), "目标用时应为 1–1440 分钟"),
    ]
    for values, message in bad:
        with pytest.raises(ValidationError, match=message):
            workflow.update_policy(account, values, actor=account_admin)
    with pytest.raises(PermissionDenied):
        workflow.update_policy(account, PolicyInput([], [], True, 20), actor=editor)
    assert not Policy.objects.exists()
    saved = workflow.update_policy(
        account,
        PolicyInput(["emergency", "policy"], [" 疫情 ", "疫情", "任免"], False, 20),
        actor=account_admin,
    )
    assert (saved.major_categories, saved.major_keywords, saved.verify_required,
            saved.emergency_minutes) == (["policy", "emergency"], ["疫情", "任免"], False, 20)  # fmt: skip
    assert AuditEvent.objects.get(name="content.policy_updated").data["emergency_minutes"] == 20
    assert workflow.split_keywords("疫情，任免\n台风、 地震;") == ["疫情", "任免", "台风", "地震"]


def test_the_roles_of_the_permission_table_meet_the_steps() -> None:
    assert Membership.Role.LIAISON in workflow.permissions.roles_with("content.verify")
    assert queries.duration_text(timedelta(days=2, hours=3, minutes=5)) == "2 天 3 小时"
    assert queries.duration_text(None) == "—"
    with pytest.raises(ValueError):
        Finding("fatal", "x")
