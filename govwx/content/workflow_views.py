"""The workflow's console pages: 待我处理 (the steps waiting for the person), an
article's workflow panel (its step, the actions the person may take, the text checks, the
history with each step's time and an emergency release's clock) and the publishing policy
(发布规则). Thin: the services in workflow.py check and write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view

from . import articles, workflow, workflow_queries
from .articles import Conflict
from .models import Article, Step


def _account_of_article(pk: int) -> int | None:
    """The account an article belongs to: its page opens on that account."""
    return Article.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def _article(request: HttpRequest, account: Account, pk: int) -> Article:
    try:
        return articles.get_article(request.user, account, pk)
    except Article.DoesNotExist as exc:
        raise Http404("no such article") from exc


# 待我处理 lists this many steps (emergency releases first, then the oldest), and says so
# when more wait
WAITING_SHOWN = 100


@console_view("content.view")
def inbox(request: HttpRequest, account: Account) -> HttpResponse:
    now = timezone.now()
    steps = list(workflow_queries.waiting_for(request.user, account)[: WAITING_SHOWN + 1])
    more = len(steps) > WAITING_SHOWN
    steps = steps[:WAITING_SHOWN]
    rows = [
        {
            "step": s,
            "article": s.article,
            "waited": workflow_queries.duration_text(now - s.started_at),
            "overdue": bool(s.due_at and s.due_at < now),
        }
        for s in steps
    ]
    return render(
        request,
        "content/workflow_inbox.html",
        {
            "account": account,
            "rows": rows,
            "more": more,
            "shown": WAITING_SHOWN,
            "returned": list(workflow_queries.returned_to(request.user, account)),
        },
    )


def _panel(request: HttpRequest, article: Article) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    step = workflow_queries.open_step(article)
    actions = workflow_queries.actions_for(user, article)
    checked = article.status in (Article.Status.PROOFREADING, Article.Status.APPROVING)
    review = workflow.review(article) if checked else None
    dismissed = review.dismissed if review else {}
    last = Step.objects.filter(article=article).order_by("-id").first()
    returned = (
        last
        if article.status == Article.Status.DRAFT
        and last is not None
        and last.outcome == Step.Outcome.RETURNED
        else None
    )
    return {
        "article": article,
        "step": step,
        "owners": workflow_queries.people_names(workflow.owners(article, step)) if step else "",
        "actions": actions,
        "review": review,
        "findings": [
            {
                "finding": f,
                "dismissed": dismissed.get(f.key) if f.severity == workflow.ERROR else None,
            }
            for f in (review.findings if review else [])
        ],
        "history": workflow_queries.history(article, now),
        "clock": workflow_queries.clock(article, now),
        "returned": returned,
        "major_reason": workflow.major_reason(article, workflow.policy_for(article.account))
        if article.major
        else "",
        "now": now,
    }


@console_view("content.view", account_of=_account_of_article)
def article_workflow(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    article = _article(request, account, pk)
    return render(
        request, "content/workflow_article.html", {"account": account, **_panel(request, article)}
    )


def _when(post: Any) -> datetime | None:
    """The approval's time: none (now), or the form's local date and time."""
    if post.get("when") != "later":
        return None
    raw = (post.get("scheduled_for") or "").strip()
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(_("请填写定时发布的日期和时间 / a date and time")) from exc
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_current_timezone())
    return at


DONE = {
    "submit": gettext_lazy("已提交"),
    "verify": gettext_lazy("已核实，转校对"),
    "proofread": gettext_lazy("已校对，转签发"),
    "return": gettext_lazy("已退回撰稿人"),
    "dismiss": gettext_lazy("已忽略该检查项"),
    "withdraw": gettext_lazy("已撤回提交"),
    "cancel": gettext_lazy("已取消定时发布，等待重新签发"),
}


def _perform(request: HttpRequest, article: Article, action: str, revision: int) -> str:
    post, user = request.POST, request.user
    comment = post.get("comment", "")
    if action == "submit":
        workflow.submit(article, revision=revision, actor=user, comment=comment)
    elif action == "emergency":
        a = workflow.start_emergency(article, revision=revision, actor=user, comment=comment)
        return _("已启动权威发布，目标 %(n)s 分钟内签发") % {"n": a.target_minutes}
    elif action == "verify":
        workflow.verify(article, revision=revision, actor=user, comment=comment)
    elif action == "proofread":
        workflow.proofread(article, revision=revision, actor=user, comment=comment)
    elif action == "approve":
        a = workflow.approve(
            article, revision=revision, actor=user, comment=comment, at=_when(post)
        )
        assert a.scheduled_for is not None
        at = timezone.localtime(a.scheduled_for).strftime("%Y-%m-%d %H:%M")
        if post.get("when") == "later":
            return _("已签发，定于 %(at)s 发布") % {"at": at}
        return _("已签发，立即发布")
    elif action == "return":
        workflow.return_article(article, post.get("reason", ""), revision=revision, actor=user)
    elif action == "dismiss":
        workflow.dismiss(
            article, post.get("key", ""), post.get("reason", ""), revision=revision, actor=user
        )
    elif action == "withdraw":
        workflow.withdraw(article, revision=revision, actor=user, reason=comment)
    elif action == "cancel":
        workflow.cancel_schedule(article, revision=revision, actor=user, reason=comment)
    else:
        raise ValidationError(_("未知操作 / unknown action"))
    return str(DONE[action])


@console_view("content.view", account_of=_account_of_article)
@require_POST
def act(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    article = _article(request, account, pk)
    action = request.POST.get("action", "")
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = -1
    try:
        done = _perform(request, article, action, revision)
    except Conflict as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or _("操作不被允许"))
    else:
        messages.success(request, done)
    return redirect("content:workflow", pk=article.pk)


@console_view("content.policy")
def policy(request: HttpRequest, account: Account) -> HttpResponse:
    current = workflow.policy_for(account)
    errors: dict[str, list[str]] = {}
    categories: list[str] = list(current.major_categories or [])
    keywords = "\n".join(current.major_keywords or [])
    verify_required = current.verify_required
    minutes = str(current.emergency_minutes)
    if request.method == "POST":
        post = request.POST
        categories = post.getlist("major_categories")
        keywords = post.get("major_keywords", "")
        verify_required = post.get("verify_required") == "1"
        minutes = post.get("emergency_minutes", "").strip()
        try:
            workflow.update_policy(
                account,
                workflow.PolicyInput(
                    major_categories=categories,
                    major_keywords=workflow.split_keywords(keywords),
                    verify_required=verify_required,
                    emergency_minutes=int(minutes) if minutes.isdigit() else None,
                ),
                actor=request.user,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("发布规则已保存"))
            return redirect("content:policy")
    return render(
        request,
        "content/workflow_policy.html",
        {
            "account": account,
            "values": {
                "major_categories": categories,
                "major_keywords": keywords,
                "verify_required": verify_required,
                "emergency_minutes": minutes,
            },
            "errors": errors,
            "categories": Article.Category.choices,
        },
        status=400 if errors else 200,
    )
