"""What the workflow's pages read: the steps waiting for a person (待我处理), the
drafts returned to them, an article's history with each step's time, an emergency
release's clock against its target, and the actions a person may take now. No writes:
those are workflow.py's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from govwx.accounts import permissions
from govwx.accounts.models import Account
from govwx.accounts.services import role_for

from . import articles
from .models import Article, Step
from .workflow import WAITING, Kind, Outcome, Status, deadline, is_writer, may_act, membership_of

# 退回给我的稿件: how many the page lists
RETURNED_SHOWN = 50


def waiting_for(actor: Any, account: Account) -> QuerySet[Step]:
    """待我处理: the open steps the person may act on — their department's 核实 (a
    liaison), 校对 (a proofreader), 签发 of routine (the office) or major information (a
    leader); emergency releases first, then the oldest."""
    role = role_for(actor, account)
    wanted = Q(pk__in=[])
    if permissions.role_has(role, "content.verify"):
        m = membership_of(actor, account)
        if m is not None and m.department_id:
            wanted |= Q(kind=Kind.VERIFY, department_id=m.department_id)
    if permissions.role_has(role, "content.proofread"):
        wanted |= Q(kind=Kind.PROOFREAD)
    if permissions.role_has(role, "content.approve"):
        wanted |= Q(kind=Kind.APPROVE, article__major=False)
    if permissions.role_has(role, "content.major"):
        wanted |= Q(kind=Kind.APPROVE, article__major=True)
    return (
        Step.objects.filter(wanted, outcome=Outcome.OPEN, article__account=account)
        .select_related("article", "article__source_department")
        # what the list shows (not the texts: a few KB each, a page of them)
        .only(
            "kind",
            "started_at",
            "due_at",
            "article__title",
            "article__emergency",
            "article__major",
            "article__status",
            "article__source_department__name",
        )
        .order_by("-article__emergency", "started_at", "id")
    )


def returned_to(actor: Any, account: Account, limit: int = RETURNED_SHOWN) -> QuerySet[Article]:
    """The drafts of this person (they wrote or submitted them) that were returned and
    wait for them, with the reason (`returned_reason`, `returned_kind`, `returned_at`):
    the `limit` returned last.

    Read from the returns (an index of their own: a few among the steps) that are still
    the last step of their article, not by looking for the last step of every draft."""
    later = Step.objects.filter(article=OuterRef("article_id"), pk__gt=OuterRef("pk"))
    submitted = Step.objects.filter(article=OuterRef("article_id"), kind=Kind.SUBMIT, actor=actor)
    newest = (
        Step.objects.filter(
            outcome=Outcome.RETURNED, article__account=account, article__status=Status.DRAFT
        )
        .filter(Q(article__created_by=actor) | Exists(submitted))
        .exclude(Exists(later))
        .order_by("-finished_at", "-id")
        .values("article_id")[:limit]
    )
    last = Step.objects.filter(article=OuterRef("pk")).order_by("-id")
    return (
        Article.objects.filter(pk__in=newest)
        .defer("body", "html")
        .annotate(
            returned_reason=Subquery(last.values("comment")[:1]),
            returned_kind=Subquery(last.values("kind")[:1]),
            returned_at=Subquery(last.values("finished_at")[:1]),
        )
        .order_by("-returned_at", "-pk")
    )


def duration_text(took: timedelta | None) -> str:
    """「3 分 20 秒」, 「1 小时 5 分」, 「2 天 3 小时」."""
    if took is None:
        return "—"
    seconds = max(0, int(took.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分"
    return f"{minutes} 分 {seconds} 秒"


@dataclass(frozen=True)
class StepRow:
    step: Step
    took: timedelta | None  # finished − started; for an open step, so far
    overdue: bool  # an emergency step finished (or still open) after its due time

    @property
    def took_text(self) -> str:
        return duration_text(self.took)


def history(article: Article, now: datetime | None = None) -> list[StepRow]:
    """Every step of the article, oldest first, with how long it took."""
    now = now or timezone.now()
    rows = []
    for step in Step.objects.filter(article=article).select_related("actor", "department"):
        end = step.finished_at or (now if step.outcome == Outcome.OPEN else None)
        took = end - step.started_at if end is not None and step.kind != Kind.SUBMIT else None
        overdue = bool(step.due_at and end and end > step.due_at)
        rows.append(StepRow(step, took, overdue))
    return rows


@dataclass(frozen=True)
class Clock:
    """An emergency release against its target: from its start to its approval (or
    now, while it runs)."""

    started_at: datetime
    deadline: datetime
    target_minutes: int
    took: timedelta
    finished: bool

    @property
    def met(self) -> bool:
        return self.took <= timedelta(minutes=self.target_minutes)

    @property
    def took_text(self) -> str:
        return duration_text(self.took)


def clock(article: Article, now: datetime | None = None) -> Clock | None:
    end = deadline(article)
    if end is None or article.submitted_at is None or article.target_minutes is None:
        return None
    now = now or timezone.now()
    approved = None
    if article.status not in (Status.DRAFT, *WAITING):
        approved = (
            Step.objects.filter(article=article, kind=Kind.APPROVE, outcome=Outcome.DONE)
            .order_by("-id")
            .values_list("finished_at", flat=True)
            .first()
        )
    stop = approved or now
    return Clock(article.submitted_at, end, article.target_minutes,
                 stop - article.submitted_at, approved is not None)  # fmt: skip


def actions_for(actor: Any, article: Article) -> list[str]:
    """What the person may do on the article now (the panel's buttons): submit,
    emergency, verify, proofread, approve, return, dismiss, withdraw, cancel."""
    account = article.account
    found: list[str] = []
    if article.status == Status.DRAFT:
        try:
            articles._require_edit(actor, article)
        except PermissionDenied:
            pass
        else:
            found += ["submit", "emergency"]
        return found
    if article.status in WAITING:
        step = Step.objects.filter(article=article, outcome=Outcome.OPEN).select_related(
            "department"
        ).order_by("-id").first()  # fmt: skip
        if step is not None and may_act(actor, article, step):
            found += [{Kind.VERIFY: "verify", Kind.PROOFREAD: "proofread",
                       Kind.APPROVE: "approve"}[Kind(step.kind)], "return"]  # fmt: skip
        if article.status != Status.VERIFYING and permissions.can(
            actor, account, "content.proofread"
        ):
            found.append("dismiss")
        if permissions.can(actor, account, "content.edit") and is_writer(actor, article):
            found.append("withdraw")
    elif article.status == Status.SCHEDULED and permissions.can(actor, account, "content.publish"):
        found.append("cancel")
    return found


def open_step(article: Article) -> Step | None:
    return (
        Step.objects.filter(article=article, outcome=Outcome.OPEN)
        .select_related("department")
        .order_by("-id")
        .first()
    )


def people_names(people: Iterable[Any]) -> str:
    return "、".join(p.get_full_name() or p.get_username() for p in people)
