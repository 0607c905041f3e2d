"""The duty rota in the console (the month, shifts, swaps, handoff notes, the print view
and the Excel and .ics exports) and the alerts page behind the bell."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.access import user_accounts
from govwx.accounts.models import Account
from govwx.accounts.permissions import can, console_view

from . import services, sheets
from .models import Alert, Layer, Rota, Shift, ShiftPattern


def _rota(account: Account, pk: int) -> Rota:
    rota = Rota.objects.filter(pk=pk, accounts=account).first()
    if rota is None:
        raise Http404("no such rota")
    return rota


def _done(request: HttpRequest, fn: Any, ok: str) -> bool:
    """Run a service write; its refusal becomes the page's error message."""
    try:
        fn()
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return False
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("操作不被允许"))
        return False
    messages.success(request, ok)
    return True


@console_view("rota.view")
def rota_list(request: HttpRequest, account: Account) -> HttpResponse:
    mine = [a for a in user_accounts(request) if can(request.user, a, "rota.manage")]
    if request.method == "POST":
        if not can(request.user, account, "rota.manage"):
            raise PermissionDenied
        chosen = [a for a in mine if str(a.pk) in request.POST.getlist("accounts")]
        created: list[Rota] = []
        if _done(
            request,
            lambda: created.append(
                services.create_rota(request.POST.get("name", ""), chosen, actor=request.user)
            ),
            _("值班表已建立"),
        ):
            return redirect("team:rota", pk=created[0].pk)
    now = timezone.now()
    rotas = [
        (r, services.on_duty(r, now), services.on_duty(r, now, Layer.LEADER))
        for r in Rota.objects.filter(accounts=account).prefetch_related("accounts")
    ]
    return render(
        request,
        "team/rota_list.html",
        {"rotas": rotas, "manage": bool(mine) and account in mine, "accounts": mine,
         "account": account},
    )  # fmt: skip


def _people(request: HttpRequest, rota: Rota, field: str) -> list[Any]:
    staff = {str(u.pk): u for u in services.staff_of(rota)}
    return [staff[pk] for pk in request.POST.getlist(field) if pk in staff]


@console_view("rota.view")
def rota_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    rota = _rota(account, pk)
    now = timezone.now()
    today = timezone.localdate()
    if request.method == "POST":
        _rota_action(request, rota)
        return redirect(request.get_full_path())
    first = sheets.month_start(request.GET.get("month"), today)
    try:
        month = sheets.month(rota, first)
    except Exception as exc:  # the calendar misses the year, etc.
        messages.error(request, str(exc))
        month = None
    manage = can(request.user, account, "rota.manage")
    upcoming = services.upcoming_gaps(rota, now)
    return render(
        request,
        "team/rota_detail.html",
        {
            "rota": rota,
            "month": month,
            "first": first,
            "prev": (first - timedelta(days=1)).strftime("%Y-%m"),
            "next": sheets.next_month(first).strftime("%Y-%m"),
            "on_duty": services.on_duty(rota, now),
            "leaders": services.on_duty(rota, now, Layer.LEADER),
            "upcoming_gaps": upcoming,
            "unconfirmed_years": services.unconfirmed_years(upcoming),
            "uncovered": services.uncovered_hours(rota),
            "handoffs": rota.handoffs.select_related("author", "shift")[:20],
            "manage": manage,
            "duty": can(request.user, account, "rota.duty"),
            "patterns": rota.patterns.all(),
            "staff": services.staff_of(rota),
            "layers": Layer.choices,
            "days": ShiftPattern.Days.choices,
            "today": today,
        },
    )


def _rota_action(request: HttpRequest, rota: Rota) -> None:
    post, user = request.POST, request.user
    action = post.get("action", "")
    if action == "handoff":
        _done(request, lambda: services.add_handoff(rota, user, post.get("text", "")),
              _("交班记录已保存"))  # fmt: skip
    elif action == "add_pattern":
        hours = post.get("hours", "")
        _done(
            request,
            lambda: services.add_pattern(
                rota,
                name=post.get("name", ""),
                start=parse_time(post.get("start", "") or "x"),
                hours=int(hours) if hours.isdigit() else 0,
                layer=post.get("layer", ""),
                days=post.get("days", ""),
                actor=user,
            ),
            _("班次已添加"),
        )
    elif action == "remove_pattern":
        pattern = rota.patterns.filter(pk=post.get("pattern") or 0).first()
        if pattern is not None:
            _done(request, lambda: services.remove_pattern(pattern, actor=user), _("班次已删除"))
    elif action == "add_shift":
        _done(request, lambda: _add_shift(request, rota), _("班次已添加"))
    elif action == "escalation":
        a, b = post.get("leader_after", ""), post.get("supervisor_after", "")
        _done(
            request,
            lambda: services.set_escalation(
                rota, int(a) if a.isdigit() else 0, int(b) if b.isdigit() else 0, actor=user
            ),
            _("升级时间已保存"),
        )
    elif action == "generate":
        _done(request, lambda: _generate(request, rota), _("排班已生成"))
    else:
        messages.error(request, _("未知操作"))


def _add_shift(request: HttpRequest, rota: Rota) -> None:
    """A shift by hand: a day, a local start time, hours, a layer and a person."""
    post = request.POST
    day, start = parse_date(post.get("day", "") or "x"), parse_time(post.get("start", "") or "x")
    hours = post.get("hours", "")
    person = services.staff_of(rota).filter(pk=post.get("person") or 0).first()
    if day is None or start is None or not hours.isdigit():
        raise ValidationError(_("请填写日期、开始时间和时长"))
    if person is None:
        raise ValidationError(_("请选择本值班表的人员"))
    starts = timezone.make_aware(datetime.combine(day, start))
    services.add_shift(
        rota, person, starts, starts + timedelta(hours=int(hours)),
        layer=post.get("layer", ""), note=post.get("note", ""), actor=request.user,
    )  # fmt: skip


def _generate(request: HttpRequest, rota: Rota) -> None:
    if not any(can(request.user, a, "rota.manage") for a in rota.accounts.all()):
        raise PermissionDenied(_("没有排班权限"))
    first = parse_date(request.POST.get("first", "") or "x")
    days = request.POST.get("days", "")
    if first is None:
        raise ValidationError(_("请填写开始日期"))
    n = int(days) if days.isdigit() else 0
    services.check_generate(rota, first, n)
    people = {
        Layer.OPERATOR.value: _people(request, rota, "operators"),
        Layer.LEADER.value: _people(request, rota, "leaders"),
    }
    services.generate(rota, first, n, people, actor=request.user)


@console_view("rota.view")
def shift_detail(request: HttpRequest, account: Account, pk: int, shift_pk: int) -> HttpResponse:
    rota = _rota(account, pk)
    shift = Shift.objects.filter(pk=shift_pk, rota=rota).select_related("person", "pattern").first()
    if shift is None:
        raise Http404("no such shift")
    if request.method == "POST":
        if _shift_action(request, rota, shift):
            return redirect("team:rota", pk=rota.pk)
        return redirect("team:shift", pk=rota.pk, shift_pk=shift.pk)
    now = timezone.now()
    candidates = (
        Shift.objects.filter(rota=rota, layer=shift.layer, ends_at__gt=now, person__isnull=False)
        .exclude(pk=shift.pk)
        .exclude(person_id=shift.person_id)
        .filter(starts_at__lt=shift.starts_at + timedelta(days=31))
        .select_related("person", "pattern")[:200]
    )
    return render(
        request,
        "team/shift_detail.html",
        {
            "rota": rota,
            "shift": shift,
            "over": shift.ends_at <= now,
            "history": services.shift_history(shift),
            "candidates": candidates,
            "staff": services.staff_of(rota),
            "manage": can(request.user, account, "rota.manage"),
            "mine": shift.person_id == request.user.pk,
            "duty": can(request.user, account, "rota.duty"),
        },
    )


def _shift_action(request: HttpRequest, rota: Rota, shift: Shift) -> bool:
    """True when the shift is gone (removed)."""
    post, user = request.POST, request.user
    action = post.get("action", "")
    if action == "override":
        person = get_user_model().objects.filter(pk=post.get("person") or 0).first()
        staff = services.staff_of(rota)
        if person is None or not staff.filter(pk=person.pk).exists():
            messages.error(request, _("请选择本值班表的人员"))
        elif not any(can(user, a, "rota.manage") for a in rota.accounts.all()):
            messages.error(request, _("没有替班安排权限"))
        else:
            _done(request, lambda: services.override(shift, person, actor=user,
                  note=post.get("note", "")), _("已安排替班"))  # fmt: skip
    elif action == "swap":
        other = Shift.objects.filter(pk=post.get("other") or 0, rota=rota).first()
        if other is None:
            messages.error(request, _("请选择要互换的班次"))
        else:
            _done(request, lambda: services.swap(shift, other, actor=user), _("已换班"))
    elif action == "release":
        _done(request, lambda: services.release(shift, post.get("reason", ""), actor=user),
              _("班次已空出，已提醒值班人员"))  # fmt: skip
    elif action == "remove":
        return _done(request, lambda: services.remove_shift(shift, actor=user), _("班次已删除"))
    else:
        messages.error(request, _("未知操作"))
    return False


@console_view("rota.view")
def rota_print(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    rota = _rota(account, pk)
    first = sheets.month_start(request.GET.get("month"), timezone.localdate())
    return render(
        request,
        "team/rota_print.html",
        {"rota": rota, "month": sheets.month(rota, first), "first": first,
         "printed": timezone.localtime()},
    )  # fmt: skip


@console_view("rota.view")
def rota_xlsx(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    rota = _rota(account, pk)
    first = sheets.month_start(request.GET.get("month"), timezone.localdate())
    response = HttpResponse(
        sheets.xlsx(sheets.month(rota, first)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}-{first:%Y-%m}.xlsx"'
    return response


@console_view("rota.view")
def rota_ics(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """The next 30 days of the rota, as .ics."""
    rota = _rota(account, pk)
    start = timezone.now()
    body = services.rota_ics(rota, start, start + timedelta(days=30))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rota-{rota.pk}.ics"'
    return response


@console_view("alerts.view")
def alert_list(request: HttpRequest, account: Account) -> HttpResponse:
    """The alerts addressed to the person; for those who oversee the account (带班领导,
    admin: `alerts.account`) its other alerts too, to read: only a recipient confirms."""
    mine = Alert.objects.filter(recipients__id=request.user.pk or 0)
    addressed = set(mine.values_list("pk", flat=True))
    shown = mine
    if can(request.user, account, "alerts.account"):
        shown = Alert.objects.filter(Q(pk__in=mine.values("pk")) | Q(account=account))
    alerts = shown.select_related("account", "acknowledged_by").order_by("-created_at", "-id")
    return render(
        request,
        "team/alerts.html",
        {"alerts": alerts[:100], "addressed": addressed, "oversee": shown is not mine},
    )


@console_view("alerts.view")
@require_POST
def acknowledge(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    alert = Alert.objects.filter(pk=pk, recipients__id=request.user.pk or 0).first()
    if alert is None:
        raise Http404("no such alert")
    _done(request, lambda: services.acknowledge(alert, request.user), _("已确认"))
    return redirect("team:alerts")
