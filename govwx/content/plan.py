"""The content plan (选题): the topics planned for each week (Monday to Sunday, in the
console's time zone), with an owner, a department, a project team, a date, a status and
the article written for it. Topics are added, edited, moved to another day and dropped
(放弃: kept, with the reason); nothing is deleted. Each write needs content.plan and is
audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from govwx.accounts import permissions
from govwx.accounts.models import Account, Department, Membership
from govwx.accounts.services import record
from govwx.team.models import Project

from .models import Article, Topic

TITLE_MAX = 100
NOTES_MAX = 2000
# how far from today a topic may be planned (a slip of the year is caught)
HORIZON = timedelta(days=366)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    """The week's Monday 00:00 and the next Monday 00:00, in the console's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, time.min, tz)
    return start, datetime.combine(monday + timedelta(days=7), time.min, tz)


def week_topics(account: Account, monday: date) -> list[Topic]:
    """The week's topics, day by day (dropped ones too: the plan keeps them)."""
    return list(
        Topic.objects.filter(account=account, date__gte=monday, date__lt=monday + timedelta(days=7))
        .select_related("owner", "department", "project", "article")
        .order_by("date", "id")
    )


@dataclass
class TopicInput:
    title: str
    date: date | None
    notes: str = ""
    owner: Any = None
    department: Department | None = None
    project: Project | None = None
    article: Article | None = None
    status: str = Topic.Status.PLANNED


def _check(account: Account, values: TopicInput) -> None:
    errors: dict[str, list[str]] = {}
    title = values.title.strip()
    if not title:
        errors["title"] = ["请填写选题 / a topic needs a title"]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"选题最多 {TITLE_MAX} 字 / {TITLE_MAX} characters at most"]
    if len(values.notes) > NOTES_MAX:
        errors["notes"] = [f"说明最多 {NOTES_MAX} 字 / {NOTES_MAX} characters at most"]
    if values.date is None:
        errors["date"] = ["请填写计划日期 / a topic needs a date"]
    elif abs(values.date - timezone.localdate()) > HORIZON:
        errors["date"] = ["计划日期应在一年之内 / a date within a year"]
    if (
        values.owner is not None
        and not Membership.objects.filter(account=account, user=values.owner).exists()
    ):
        errors["owner"] = ["负责人不是本公众号的成员 / the owner is not staff of this account"]
    if values.department is not None and not (
        Department.objects.of_account(account).filter(pk=values.department.pk).exists()
    ):
        errors["department"] = ["部门不属于本公众号的主办组织 / not a department of this account"]
    if values.project is not None and values.project.account_id != account.pk:
        errors["project"] = ["专项工作组不属于本公众号 / a project of another account"]
    if values.article is not None and values.article.account_id != account.pk:
        errors["article"] = ["文章不属于本公众号 / an article of another account"]
    if values.status not in Topic.Status.values:
        errors["status"] = [f"未知的状态 {values.status!r} / unknown status"]
    if errors:
        raise ValidationError(errors)


def add_topic(account: Account, values: TopicInput, *, actor: Any) -> Topic:
    permissions.require(actor, account, "content.plan")
    _check(account, values)
    assert values.date is not None  # checked above
    with transaction.atomic():
        topic = Topic.objects.create(
            account=account, title=values.title.strip(), notes=values.notes.strip(),
            date=values.date, owner=values.owner, department=values.department,
            project=values.project, article=values.article, status=values.status,
        )  # fmt: skip
        record("topic.created", account=account, actor=actor, topic=topic.pk,
               title=topic.title, date=topic.date.isoformat())  # fmt: skip
    return topic


def update_topic(topic: Topic, values: TopicInput, *, actor: Any) -> Topic:
    """Change a topic (its status too; dropping one says why: `drop_topic`)."""
    permissions.require(actor, topic.account, "content.plan")
    _check(topic.account, values)
    if values.status == Topic.Status.DROPPED and topic.status != Topic.Status.DROPPED:
        raise ValidationError("放弃选题请说明理由 / drop a topic with a reason")
    with transaction.atomic():
        assert values.date is not None  # checked above
        t = Topic.objects.select_for_update().get(pk=topic.pk)
        before = {"title": t.title, "date": t.date.isoformat(), "status": t.status}
        t.title, t.notes, t.date = values.title.strip(), values.notes.strip(), values.date
        t.owner, t.department, t.project = values.owner, values.department, values.project
        t.article, t.status = values.article, values.status
        t.save()
        record("topic.updated", account=t.account, actor=actor, topic=t.pk, before=before,
               title=t.title, date=t.date.isoformat(), status=t.status)  # fmt: skip
    return t


def move_topic(topic: Topic, day: date | None, *, actor: Any) -> Topic:
    """Plan a topic for another day (of this week or another)."""
    permissions.require(actor, topic.account, "content.plan")
    if day is None:
        raise ValidationError("请选择日期 / choose a date")
    if abs(day - timezone.localdate()) > HORIZON:
        raise ValidationError("计划日期应在一年之内 / a date within a year")
    if topic.status == Topic.Status.DROPPED:
        raise ValidationError("已放弃的选题不能调整日期 / a dropped topic stays where it was")
    with transaction.atomic():
        before = topic.date
        Topic.objects.filter(pk=topic.pk).update(date=day)
        record("topic.moved", account=topic.account, actor=actor, topic=topic.pk,
               before=before.isoformat(), date=day.isoformat())  # fmt: skip
    topic.refresh_from_db()
    return topic


def drop_topic(topic: Topic, reason: str, *, actor: Any) -> Topic:
    """放弃: the topic stays in the plan, marked dropped, with the reason in its notes."""
    permissions.require(actor, topic.account, "content.plan")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请说明放弃的理由 / give a reason to drop it")
    if len(reason) > 200:
        raise ValidationError("理由最多 200 字 / 200 characters at most")
    if topic.status == Topic.Status.DROPPED:
        raise ValidationError("该选题已放弃 / already dropped")
    with transaction.atomic():
        notes = f"{topic.notes}\n放弃：{reason}".strip()
        Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.DROPPED, notes=notes)
        record("topic.dropped", account=topic.account, actor=actor, topic=topic.pk,
               reason=reason)  # fmt: skip
    topic.refresh_from_db()
    return topic


def topic_from_word(
    account: Account, word: str, monday: date, *, count: int | None = None, actor: Any
) -> Topic:
    """「加入选题」: what citizens wrote about most this week becomes a topic of the week
    (today when the week is this one, else its Monday), owned by whoever added it. A word
    already planned that week is refused."""
    permissions.require(actor, account, "content.plan")
    word = (word or "").strip()
    if not word:
        raise ValidationError("没有选择话题词 / no word chosen")
    if len(word) > 16:
        raise ValidationError("话题词最多 16 字 / 16 characters at most")
    title = f"群众关注：{word}"
    if Topic.objects.filter(
        account=account, title=title, date__gte=monday, date__lt=monday + timedelta(days=7)
    ).exists():
        raise ValidationError(f"「{word}」已在本周选题中 / already planned this week")
    today = timezone.localdate()
    day = today if monday <= today < monday + timedelta(days=7) else monday
    notes = f"本周群众留言中 {count} 条提到「{word}」" if count else f"本周群众留言提到「{word}」"
    owner = actor if Membership.objects.filter(account=account, user=actor).exists() else None
    return add_topic(account, TopicInput(title, day, notes=notes, owner=owner), actor=actor)
