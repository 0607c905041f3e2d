"""The calendar pages (/calendar/): the years, a year (paste the State Council's notice,
preview it as twelve months, confirm it), and the console's banner while a year is
missing. Thin: `workcalendar.notice` reads, `workcalendar.services` writes; here because
the page counts the desk's and the rota's provisional rows, which the calendar's own
floor may not import."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from govwx.accounts.models import Account
from govwx.accounts.permissions import can, console_view, denied
from govwx.workcalendar import notice, services
from govwx.workcalendar.forms import NoticeForm
from govwx.workcalendar.grid import year_grid

from . import Provisional, banner_years, forget, missing_years, provisional_counts, year_link

# The receivers' apps, as the message after a confirmation names what they recomputed.
RECOMPUTED = {"desk": _lazy("件诉求的截止时间"), "team": _lazy("个班次")}
WEEKDAYS = [_lazy("周一"), _lazy("周二"), _lazy("周三"), _lazy("周四"), _lazy("周五"),
            _lazy("周六"), _lazy("周日")]  # fmt: skip


@dataclass(frozen=True)
class YearRow:
    year: int
    confirmation: services.Confirmation | None
    provisional: Provisional


@console_view("calendar.view")
def years(request: HttpRequest, account: Account) -> HttpResponse:
    missing = missing_years()
    done = services.confirmations()
    counts = provisional_counts(account)
    rows = [
        YearRow(y, done.get(y), counts.get(y, Provisional()))
        for y in sorted(set(done) | set(missing), reverse=True)
    ]
    return render(
        request,
        "workcalendar/years.html",
        {
            "rows": rows,
            "missing": missing,
            "can_manage": can(request.user, account, "calendar.manage"),
        },
    )


def _year(request: HttpRequest) -> int:
    raw = request.POST.get("year") or request.GET.get("year")
    if not raw:
        missing = missing_years()
        return missing[0] if missing else timezone.localdate().year + 1
    try:
        year = int(raw)
    except ValueError:
        raise Http404("no such year") from None
    if not 2000 <= year <= 2100:
        raise Http404("no such year")
    return year


@console_view("calendar.view")
def year(request: HttpRequest, account: Account) -> HttpResponse:
    the_year = _year(request)
    manage = can(request.user, account, "calendar.manage")
    done = services.confirmations([the_year]).get(the_year)
    form = NoticeForm(request.POST or None)
    arrangement: notice.Arrangement | None = None
    refused: list[str] = []
    status = 200
    if request.method == "POST":
        if not manage:
            raise denied("calendar.manage")
        if form.is_valid():
            arrangement = notice.parse(form.cleaned_data["text"], the_year)
            if request.POST.get("action") == "confirm" and not arrangement.problems:
                try:
                    entered = services.enter_year(
                        the_year,
                        arrangement.periods,
                        arrangement.workdays,
                        form.cleaned_data["source"],
                        actor=request.user,
                    )
                except ValidationError as exc:
                    refused = exc.messages
                else:
                    forget()
                    messages.success(request, _confirmed_message(the_year, entered))
                    return redirect(year_link(the_year))
        if refused or (arrangement and arrangement.problems) or not form.is_valid():
            status = 400
    if arrangement is not None:
        holidays, workdays = arrangement.holidays, arrangement.workday_names
        periods, make_up = list(arrangement.periods), list(arrangement.workdays)
    elif done is not None:
        holidays, workdays = services.year_days(the_year)
        periods, make_up = services.stored_periods(the_year)
    else:
        holidays, workdays, periods, make_up = {}, {}, [], []
    counts = provisional_counts(account).get(the_year, Provisional())
    return render(
        request,
        "workcalendar/year.html",
        {
            "year": the_year,
            "done": done,
            "can_manage": manage,
            "form": form,
            "arrangement": arrangement,
            "refused": refused,
            "months": year_grid(the_year, holidays, workdays),
            "weekdays": WEEKDAYS,
            "periods": periods,
            "make_up": make_up,
            "provisional": counts,
            "ready": arrangement is not None and not arrangement.problems and done is None,
        },
        status=status,
    )


def _confirmed_message(year: int, entered: services.Entered) -> str:
    text = _("已确认 %(year)s 年节假日安排（来源：%(source)s）。") % {
        "year": year,
        "source": entered.row.source,
    }
    done = [f"{n} {RECOMPUTED.get(app, app)}" for app, n in sorted(entered.recomputed.items()) if n]
    if done:
        text += _("已按新日历重新计算：%(what)s。") % {"what": _("、").join(done)}
    elif entered.recomputed:
        text += _("没有需要重新计算的暂定截止时间。")
    return text


@console_view("calendar.view")
def banner(request: HttpRequest, account: Account) -> HttpResponse:
    """The banner every console page loads (htmx) for those who may see the calendar:
    a separate request, so that no page pays the queries (cached per process)."""
    return render(request, "workcalendar/_banner.html", {"years": banner_years()})
