"""The emergency release (权威发布): the same steps against a target in minutes, each
step due within it, the people on duty (and the people of the step) alerted at each step
through the alerts and the account's channels, and how long each step took."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from govwx.accounts.models import Account, AuditEvent, Department
from govwx.content import workflow
from govwx.content import workflow_queries as queries
from govwx.content.models import Article, Step
from govwx.content.workflow import PolicyInput
from govwx.notify.models import Channel, Delivery
from govwx.team.models import Alert, Layer, Rota, Shift, StaffProfile

from .conftest import member
from .test_workflow import draft, state

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=SH)


@pytest.fixture
def duty(account: Account, operator: Any, django_user_model: Any) -> dict[str, Any]:
    """A rota with the operator and a leader on duty at T0, and another operator whose
    shift is tomorrow; a webhook channel; the operator's WeCom userid."""
    leader = member(django_user_model, account, "dutyleader", "supervisor")
    later = member(django_user_model, account, "operator2", "operator")
    rota = Rota.objects.create(name="值班表")
    rota.accounts.add(account)
    for person, layer, start in (
        (operator, Layer.OPERATOR, T0 - timedelta(hours=1)),
        (leader, Layer.LEADER, T0 - timedelta(hours=1)),
        (later, Layer.OPERATOR, T0 + timedelta(days=1)),
    ):
        Shift.objects.create(
            rota=rota, layer=layer, person=person, starts_at=start,
            ends_at=start + timedelta(hours=8),
        )  # fmt: skip
    Channel.objects.create(
        account=account, kind=Channel.Kind.WEBHOOK, name="值班群", target="http://127.0.0.1:9/"
    )
    StaffProfile.objects.create(user=operator, wecom_userid="zhangsan")
    return {"operator": operator, "leader": leader, "later": later}


def alert_of(step: Step) -> Alert:
    return Alert.objects.get(subject=f"release:{step.article_id}:{step.pk}")


def names(alert: Alert) -> set[str]:
    return {u.get_username() for u in alert.recipients.all()}


def open_step(article: Article) -> Step:
    return Step.objects.get(article=article, outcome="open")


def test_each_step_alerts_the_people_on_duty_and_the_release_is_timed(
    account: Account,
    department: Department,
    liaison: Any,
    reviewer: Any,
    account_admin: Any,
    duty: dict[str, Any],
) -> None:
    workflow.update_policy(account, PolicyInput(["policy"], [], True, 30), actor=account_admin)
    with time_machine.travel(T0, tick=False) as clock:
        a = draft(account, liaison)
        a = workflow.start_emergency(a, revision=1, actor=liaison)
        assert (a.status, a.emergency, a.target_minutes, a.submitted_at) == (
            Article.Status.VERIFYING, True, 30, T0
        )  # fmt: skip
        assert workflow.deadline(a) == T0 + timedelta(minutes=30)
        step = open_step(a)
        assert step.due_at == T0 + timedelta(minutes=10)  # a third of the time: 3 steps left
        alert = alert_of(step)
        assert alert.kind == Alert.Kind.RELEASE
        assert alert.text == (
            "权威发布「东湖区明日停水」待核实（市水务局），请于 09:10 前完成（目标 30 分钟）"
        )
        assert alert.link == f"/content/articles/{a.pk}/workflow/"
        # the operator and the leader on duty, and the department's liaison who verifies;
        # not the operator whose shift is tomorrow
        assert names(alert) == {"operator", "dutyleader", "liaison"}
        # through the account's channel, @-mentioning the operator by their WeCom userid
        delivery = Delivery.objects.get(key=f"alert:{alert.pk}:1")
        assert delivery.title == "【示例市发布】权威发布"
        assert delivery.text.startswith("权威发布「东湖区明日停水」待核实")
        assert delivery.mentions == ["zhangsan"]
        assert AuditEvent.objects.filter(name="article.emergency_started").count() == 1

        clock.shift(timedelta(minutes=4))
        a = workflow.verify(a, revision=1, actor=liaison)
        alert.refresh_from_db()  # done: the alert leaves the bell
        assert (alert.acknowledged_at, alert.acknowledged_by) == (
            T0 + timedelta(minutes=4), liaison
        )  # fmt: skip
        step = open_step(a)
        assert step.due_at == T0 + timedelta(minutes=4 + 13)  # half of the 26 left
        assert names(alert_of(step)) == {"operator", "dutyleader", "acctadmin", "reviewer"}

        clock.shift(timedelta(minutes=5))
        a = workflow.proofread(a, revision=1, actor=reviewer)
        step = open_step(a)
        assert step.due_at == T0 + timedelta(minutes=30)  # the last step: the deadline
        assert names(alert_of(step)) == {"operator", "dutyleader", "acctadmin"}
        assert "请于 09:30 前完成" in alert_of(step).text

        clock.shift(timedelta(minutes=6))
        a = workflow.approve(a, revision=1, actor=account_admin)
        assert (a.status, a.scheduled_for) == (Article.Status.SCHEDULED, T0 + timedelta(minutes=15))
        assert alert_of(step).acknowledged_by == account_admin

        clock.shift(timedelta(hours=1))  # the clock stopped at the approval
        rows = queries.history(a)
        assert [(r.step.kind, r.took, r.overdue) for r in rows] == [
            ("submit", None, False),
            ("verify", timedelta(minutes=4), False),
            ("proofread", timedelta(minutes=5), False),
            ("approve", timedelta(minutes=6), False),
        ]
        total = queries.clock(a)
        assert total is not None
        assert (total.took, total.finished, total.met, total.took_text) == (
            timedelta(minutes=15), True, True, "15 分 0 秒"
        )  # fmt: skip
    assert Alert.objects.filter(subject__startswith=f"release:{a.pk}:").count() == 3
    assert not Alert.objects.filter(acknowledged_at__isnull=True).exists()


def test_a_late_release_with_a_return_shows_where_the_time_went(
    account: Account,
    department: Department,
    liaison: Any,
    reviewer: Any,
    account_admin: Any,
    duty: dict[str, Any],
) -> None:
    workflow.update_policy(account, PolicyInput(["policy"], [], True, 30), actor=account_admin)
    with time_machine.travel(T0, tick=False) as clock:
        a = workflow.start_emergency(draft(account, liaison), revision=1, actor=liaison)
        clock.shift(timedelta(minutes=12))  # past the verify step's 10 minutes
        a = workflow.return_article(a, "伤亡人数待核", revision=1, actor=liaison)
        clock.shift(timedelta(minutes=2))
        a = workflow.submit(a, revision=1, actor=liaison)  # the clock runs on from T0
        assert a.submitted_at == T0
        assert open_step(a).due_at == T0 + timedelta(minutes=14 + 16 / 3)
        clock.shift(timedelta(minutes=3))
        workflow.verify(a, revision=1, actor=liaison)
        clock.shift(timedelta(minutes=18))
        a = workflow.proofread(Article.objects.get(pk=a.pk), revision=1, actor=reviewer)
        assert open_step(a).due_at == T0 + timedelta(minutes=30)  # at the deadline
        running = queries.clock(a)
        assert running is not None
        assert (running.took, running.finished, running.met) == (
            timedelta(minutes=35), False, False
        )  # fmt: skip
        clock.shift(timedelta(minutes=5))
        a = workflow.approve(a, revision=1, actor=account_admin)
        rows = queries.history(a)
        assert [(r.step.kind, r.step.outcome, r.took, r.overdue) for r in rows] == [
            ("submit", "done", None, False),
            ("verify", "returned", timedelta(minutes=12), True),
            ("submit", "done", None, False),
            ("verify", "done", timedelta(minutes=3), False),
            ("proofread", "done", timedelta(minutes=18), True),
            ("approve", "done", timedelta(minutes=5), True),
        ]
        total = queries.clock(a)
        assert total is not None and (total.took, total.met) == (timedelta(minutes=40), False)
    assert Alert.objects.filter(subject__startswith=f"release:{a.pk}:").count() == 4


def test_only_a_writer_starts_an_emergency_release_of_a_draft(
    account: Account, department: Department, liaison: Any, reviewer: Any, leader: Any
) -> None:
    a = draft(account, liaison)
    before = state(a)
    for person in (reviewer, leader):  # no content.edit
        with pytest.raises(PermissionDenied):
            workflow.start_emergency(a, revision=1, actor=person)
    assert state(a) == before
    assert not Alert.objects.exists()
    workflow.start_emergency(a, revision=1, actor=liaison)
    with pytest.raises(ValidationError, match="当前为「待核实」，不能提交"):
        workflow.start_emergency(a, revision=1, actor=liaison)


def test_with_nobody_on_duty_the_alert_still_reaches_the_people_of_the_step(
    account: Account, editor: Any, reviewer: Any, account_admin: Any
) -> None:
    workflow.start_emergency(draft(account, editor), revision=1, actor=editor)
    [alert] = Alert.objects.all()
    assert names(alert) == {"acctadmin", "reviewer"}  # the proofreaders (no department)
