"""The desk's pages: the citizen's rating page (no login: a signed link), and the
console's inbox and case page. Thin: `console_view` gives the current account and checks
the permission, cases load through the access helpers (a liaison: their department's),
one service call per action, render."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from govwx.accounts.models import Account, Department
from govwx.accounts.permissions import console_view
from govwx.lib import textcheck
from govwx.lib.cells import safe_row
from govwx.team.models import Alert
from govwx.workcalendar.services import calendar

from . import services
from .console import (
    EVENT_LABELS,
    CappedPaginator,
    deadline_nature,
    filtered,
    mask,
    parse_since,
    summary,
    topic_of,
)
from .media import with_media_links
from .models import Case, CaseType, Rating, Status
from .settings_services import canned_for_case

PAGE_SIZE = 50


def departments_of(account: Any) -> Any:
    if account.organisation_id is None:
        return Department.objects.none()
    # retired and merged departments are offered nowhere (accounts.departments)
    return Department.objects.of_account(account)


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    case = services.case_for_rating(token)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.rate_case(
                token, request.POST.get("score", ""), request.POST.get("comment", "")
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            return render(request, "desk/rated.html", {"case": case})
    existing = Rating.objects.filter(case=case).first()
    answers = case.messages.filter(direction="out").order_by("created_at", "id")
    return render(
        request,
        "desk/rate.html",
        {
            "case": case,
            "errors": errors,
            "existing": existing,
            "scores": Rating.Score.choices,
            "answers": answers,
        },
        status=400 if errors else 200,
    )


def _announced_by(request: HttpRequest, account: Account, seen: Any) -> dict[str, Any] | None:
    """`?alert=<id>`: the alert (of this account) and how many of the cases it announced
    this person may see (`seen`), for the inbox's header."""
    value = request.GET.get("alert", "")
    if not value.isdigit():
        return None
    pk = int(value)
    return {
        "pk": pk,
        "alert": Alert.objects.filter(pk=pk, account=account).first(),
        "count": seen.filter(announced_in_id=pk).count(),
    }


@console_view("cases.view")
def case_list(request: HttpRequest, account: Account) -> HttpResponse:
    seen = services.cases_for_user(request.user, account)
    qs = filtered(seen, request.GET, request.user, account)
    page = CappedPaginator(
        qs.select_related("department").order_by("-opened_at", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [{"case": c, "subject": mask(c.subject)} for c in page]
    query = request.GET.copy()
    query.pop("page", None)
    topic = topic_of(request.GET)
    return render(
        request,
        "desk/case_list.html",
        {
            "account": account,
            "page": page,
            "rows": rows,
            "now": timezone.now(),
            "statuses": Status.choices,
            "types": CaseType.choices,
            "departments": departments_of(account),
            "params": request.GET,
            "query": query.urlencode(),
            "announced": _announced_by(request, account, seen),
            "topic": topic,
            "since": parse_since(request.GET.get("since")) if topic else None,
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@console_view("cases.export")
def case_export(request: HttpRequest, account: Account) -> StreamingHttpResponse | HttpResponse:
    """The inbox's cases (same filters) as CSV, streamed; phone and ID numbers masked."""
    qs = (
        filtered(services.cases_for_user(request.user, account), request.GET, request.user, account)
        .select_related("department", "rating")
        .order_by("-opened_at", "-id")
    )
    tz = timezone.get_current_timezone()

    def when(value: Any) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def rows() -> Any:
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(
            [
                _("编号"),
                _("标题"),
                _("类型"),
                _("状态"),
                _("主办部门"),
                _("受理时间"),
                _("首次响应时限"),
                _("办结时限"),
                _("首次响应"),
                _("办结时间"),
                _("评价"),
                _("截止时间性质"),
                _("附件"),
            ]
        )  # a BOM, so that spreadsheet programs read the UTF-8
        for c, links in with_media_links(qs.iterator(chunk_size=2000)):
            rating = getattr(c, "rating", None)
            # A citizen's words may begin with = + - @: kept as text (lib/cells.py).
            yield writer.writerow(
                safe_row(
                    [
                        c.pk,
                        mask(c.subject),
                        c.get_case_type_display(),
                        c.get_status_display(),
                        c.department.name if c.department else "",
                        when(c.opened_at),
                        when(c.first_response_due),
                        when(c.resolve_due),
                        when(c.first_responded_at),
                        when(c.resolved_at),
                        rating.get_score_display() if rating else "",
                        deadline_nature(c.provisional_year),
                        links,
                    ]
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    return response


@console_view("cases.export")
def case_summary(request: HttpRequest, account: Account) -> HttpResponse:
    """响应率 · 按时办结率 · 解决率 · 满意率 for a period, overall and per department."""
    today = timezone.localdate()
    try:
        first = date.fromisoformat(request.GET.get("from") or "")
    except ValueError:
        first = today - timedelta(days=29)
    try:
        last = date.fromisoformat(request.GET.get("to") or "")
    except ValueError:
        last = today
    if last < first:
        first, last = last, first
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    total, rows = summary(services.cases_for_user(request.user, account), start, end)
    chart = {
        "departments": [r.name for r in rows],
        "series": [
            {"name": str(label), "data": [getattr(r, attr) for r in rows]}
            for attr, label in (
                ("response_rate", _("响应率")),
                ("on_time_rate", _("按时办结率")),
                ("resolution_rate", _("解决率")),
                ("satisfaction_rate", _("满意率")),
            )
        ],
    }
    return render(
        request,
        "desk/summary.html",
        {
            "account": account,
            "first": first,
            "last": last,
            "total": total,
            "rows": rows,
            "chart": chart,
        },
    )


def _account_of_case(pk: int) -> int | None:
    """The account a case belongs to: its page opens on that account."""
    return Case.objects.filter(pk=pk).values_list("account_id", flat=True).first()


@console_view("cases.view", account_of=_account_of_case)
def case_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    case = services.get_case_for_user(request.user, pk)
    return _render_case(request, case)


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    draft: str = "",
    refused: textcheck.TextRefused | None = None,
    action: str = "",
) -> HttpResponse:
    """The case page; after a reply the text checker stopped, with the reply as typed
    (`draft`), what stopped it and the action to send it with."""
    tz = timezone.get_current_timezone()
    today = timezone.localtime().date()
    try:
        left = calendar().working_days_between(today, case.resolve_due.astimezone(tz).date())
    except Exception:  # no calendar for that year: the page still opens, without a count
        left = None
    return render(
        request,
        "desk/case_detail.html",
        {
            "case": case,
            "conversation": case.messages.select_related(
                "outbound", "author", "inbound__media", "outbound__media"
            ),
            "events": [
                (e, EVENT_LABELS.get(e.name, e.name)) for e in case.events.select_related("actor")
            ],
            "working_days_left": left,
            "handler": services.handler_of(case),
            "departments": departments_of(case.account),
            "types": CaseType.choices,
            "rating": Rating.objects.filter(case=case).first(),
            "canned": canned_for_case(case),
            "draft": draft,
            "refused": refused,
            "refused_action": action,
        },
        status=400 if refused else 200,
    )


@console_view("cases.handle", account_of=_account_of_case)
@require_POST
def case_action(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    case = services.get_case_for_user(request.user, pk)
    post = request.POST
    # 「仍然发送」 sends the reply (or the question) the checker stopped
    action = post.get(textcheck.CONFIRM_FIELD) or post.get("action", "")
    try:
        revision = int(post.get("revision", ""))
    except ValueError:
        revision = -1
    try:
        _perform(request, case, action, post, revision)
    except textcheck.TextRefused as exc:
        # the page again, with the reply as typed: fix it there, or send it anyway
        return _render_case(request, case, draft=post.get("text", ""), refused=exc, action=action)
    except services.Conflict as exc:
        messages.error(request, str(exc))
    except (ValidationError, PermissionDenied) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or _("操作不被允许"))
    else:
        messages.success(request, _confirmation(action, case, post))
    return redirect("desk:case", pk=case.pk)


def _confirmation(action: str, case: Any, post: Any) -> str:
    """What the page says once an action is done: what was done, not 「已完成」 (`case`
    as the action left it)."""
    if action == "assign":
        return _("已转办至 %(department)s") % {"department": case.department.name}
    if action == "assist":
        department = _chosen_department(case, post).name
        return _("已增加协办部门 %(department)s") % {"department": department}
    if action == "extend":
        due = timezone.localtime(case.resolve_due).strftime("%Y-%m-%d %H:%M")
        return _("已延期，办结时限改为 %(due)s") % {"due": due}
    done = {
        "take": _("已领取，由您办理"),
        "accept": _("已接收"),
        "return": _("已退回，诉求回到待分派"),
        "reassign": _("已申请改派"),
        "reply": _("已答复群众"),
        "ask": _("已请群众补充"),
        "note": _("已记为内部备注"),
        "resolve": _("已办结"),
        "close": _("已关闭"),
        "supervise": _("已督办"),
        "urge": _("已催办"),
    }
    return done.get(action, _("已完成"))


def _chosen_department(case: Any, post: Any) -> Department:
    """The department a form names, among those of the case's organisation."""
    dept = (
        Department.objects.of_account(case.account).filter(pk=post.get("department") or 0).first()
    )
    if dept is None:
        raise ValidationError(_("请选择部门"))
    return dept


def _perform(request: HttpRequest, case: Any, action: str, post: Any, revision: int) -> None:
    user = request.user
    if action == "assign":
        dept = _chosen_department(case, post)
        services.assign_case(
            case, dept, revision=revision, actor=user, case_type=post.get("case_type") or None
        )
    elif action == "take":
        services.take_case(case, revision=revision, actor=user)
    elif action == "accept":
        services.accept_case(case, revision=revision, actor=user)
    elif action == "return":
        services.return_case(case, post.get("reason", ""), revision=revision, actor=user)
    elif action == "reassign":
        services.request_reassign(case, post.get("reason", ""), revision=revision, actor=user)
    elif action == "assist":
        dept = _chosen_department(case, post)
        services.add_assisting(case, dept, actor=user)
    elif action in ("reply", "ask"):
        services.reply_to_case(
            case,
            post.get("text", ""),
            revision=revision,
            actor=user,
            ask=action == "ask",
            confirmed=textcheck.posted_confirm(post),
        )
    elif action == "close":
        services.close_case(case, revision=revision, actor=user)
    elif action == "note":
        services.add_note(case, post.get("text", ""), actor=user)
    elif action == "resolve":
        services.resolve_case(case, revision=revision, actor=user)
    elif action == "extend":
        days = post.get("working_days", "")
        services.extend_case(
            case,
            int(days) if days.isdigit() else 0,
            post.get("reason", ""),
            revision=revision,
            actor=user,
        )
    elif action == "supervise":
        services.supervise_case(case, post.get("note", ""), actor=user)
    elif action == "urge":
        services.urge_case(case, post.get("note", ""), actor=user)
    else:
        raise ValidationError(_("未知操作"))
