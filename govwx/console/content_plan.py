"""The content plan (选题) of a week, beside what citizens wrote about most that week:
the desk's topic counts (the content words of the messages its cases took in), each word
linked to the inbox filtered by it, with 「加入选题」 to plan a topic from it. Here in the
console because it reads both the desk and content. Thin: content.plan writes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from govwx.accounts.access import current_role
from govwx.accounts.models import Account, Department
from govwx.accounts.permissions import console_view, role_has
from govwx.content import articles, plan
from govwx.content.models import Article, Topic
from govwx.desk.models import TopicCount
from govwx.team.models import Project

WORDS = 12  # the words shown beside the plan
WEEKDAYS = (
    gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"), gettext_lazy("周四"),
    gettext_lazy("周五"), gettext_lazy("周六"), gettext_lazy("周日"),
)  # fmt: skip


def _monday(value: str | None) -> date:
    """The Monday of the week a `?week=` date falls in (this week without one)."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        day = timezone.localdate()
    return plan.monday_of(day)


def citizens_words(account: Account, monday: date, top: int = WORDS) -> list[tuple[str, int]]:
    """The words citizens wrote most that week, with the messages that used them."""
    start, end = plan.week_bounds(monday)
    rows = (
        TopicCount.objects.filter(account=account, bucket__gte=start, bucket__lt=end)
        .values("word")
        .annotate(n=Sum("count"))
        .order_by("-n", "word")
        .values_list("word", "n")[:top]
    )
    return [(word, int(n)) for word, n in rows]


def _inbox_link(word: str, monday: date) -> str:
    start, _end = plan.week_bounds(monday)
    return reverse("desk:cases") + "?" + urlencode({"topic": word, "since": start.isoformat()})


@console_view("content.plan")
def content_plan(request: HttpRequest, account: Account) -> HttpResponse:
    monday = _monday(request.GET.get("week"))
    topics = plan.week_topics(account, monday)
    today = timezone.localdate()
    days = []
    for i in range(7):
        day = monday + timedelta(days=i)
        days.append(
            {
                "date": day,
                "weekday": WEEKDAYS[i],
                "today": day == today,
                "topics": [t for t in topics if t.date == day],
            }
        )
    planned = {t.title for t in topics}
    may_open_cases = role_has(current_role(request), "cases.view")
    words = [
        {
            "word": word,
            "count": n,
            "link": _inbox_link(word, monday) if may_open_cases else "",
            "planned": f"群众关注：{word}" in planned,
        }
        for word, n in citizens_words(account, monday)
    ]
    members = (
        get_user_model()
        .objects.filter(memberships__account=account, is_active=True)
        .order_by("username")
    )
    return render(
        request,
        "console/content_plan.html",
        {
            "account": account,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "this_week": plan.monday_of(today),
            "default_date": today if monday <= today <= monday + timedelta(days=6) else monday,
            "days": days,
            "count": sum(1 for t in topics if t.status != Topic.Status.DROPPED),
            "words": words,
            "members": members,
            "departments": Department.objects.of_account(account).order_by("name"),
            "projects": Project.objects.filter(account=account, status=Project.Status.ACTIVE),
            "articles": articles.visible_articles(request.user, account)
            .order_by("-updated_at")
            .only("pk", "title")[:100],
            "statuses": [(v, label) for v, label in Topic.Status.choices if v != "dropped"],
        },
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _pk(value: str | None) -> int:
    text = value or ""
    return int(text) if text.isdigit() else 0


def _values(post: Any) -> plan.TopicInput:
    """The form's fields as objects; whether they belong to the account is the
    service's to check."""
    return plan.TopicInput(
        title=post.get("title", ""),
        date=_day(post.get("date")),
        notes=post.get("notes", ""),
        owner=get_user_model().objects.filter(pk=_pk(post.get("owner"))).first(),
        department=Department.objects.filter(pk=_pk(post.get("department"))).first(),
        project=Project.objects.filter(pk=_pk(post.get("project"))).first(),
        article=Article.objects.filter(pk=_pk(post.get("article"))).first(),
        status=post.get("status") or Topic.Status.PLANNED,
    )


def _topic(account: Account, post: Any) -> Topic:
    topic = Topic.objects.filter(account=account, pk=_pk(post.get("topic"))).first()
    if topic is None:
        raise ValidationError(_("没有这个选题 / no such topic"))
    return topic


@console_view("content.plan")
@require_POST
def content_plan_act(request: HttpRequest, account: Account) -> HttpResponse:
    post, user = request.POST, request.user
    monday = _monday(post.get("week"))
    action = post.get("action", "")
    try:
        if action == "add":
            t = plan.add_topic(account, _values(post), actor=user)
            done = _("已加入选题「%(title)s」") % {"title": t.title}
        elif action == "edit":
            t = plan.update_topic(_topic(account, post), _values(post), actor=user)
            done = _("已修改选题「%(title)s」") % {"title": t.title}
        elif action == "move":
            t = plan.move_topic(_topic(account, post), _day(post.get("date")), actor=user)
            done = _("「%(title)s」已调整到 %(date)s") % {"title": t.title, "date": t.date}
            monday = plan.monday_of(t.date)
        elif action == "drop":
            t = plan.drop_topic(_topic(account, post), post.get("reason", ""), actor=user)
            done = _("已放弃选题「%(title)s」") % {"title": t.title}
        elif action == "word":
            count = _pk(post.get("count")) or None
            t = plan.topic_from_word(account, post.get("word", ""), monday, count=count, actor=user)
            done = _("已加入选题「%(title)s」") % {"title": t.title}
        else:
            raise ValidationError(_("未知操作 / unknown action"))
    except (ValidationError, PermissionDenied) as exc:
        text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(reverse("console:content_plan") + f"?week={monday.isoformat()}")
