"""The workload page (工作量) and its exports: per person and per shift, for a period.
Thin: read the period, ask `workload.workload`, lay the rows out by one column list that
the page, the CSV and the Excel sheet share."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view
from govwx.lib.cells import safe_row

from . import workload as wl

TEXT, COUNT, DURATION, TIME = "text", "count", "duration", "time"


@dataclass(frozen=True)
class Column:
    label: Any
    attr: str
    kind: str = COUNT
    width: int = 12  # in the Excel sheet, in characters


PEOPLE = (
    Column(_lazy("姓名"), "name", TEXT, 16),
    Column(_lazy("角色"), "role", TEXT, 18),
    Column(_lazy("办理诉求"), "handled"),
    Column(_lazy("答复"), "replies"),
    Column(_lazy("首次响应"), "first_responses"),
    Column(_lazy("首次响应用时（中位数）"), "median_first_response", DURATION, 22),
    Column(_lazy("首次响应用时（平均）"), "mean_first_response", DURATION, 22),
    Column(_lazy("办结超时"), "breached"),
    Column(_lazy("首次响应超时"), "response_breached", width=14),
    Column(_lazy("确认提醒"), "alerts_acknowledged"),
    Column(_lazy("值班班次"), "shifts"),
)
SHIFTS = (
    Column(_lazy("值班表"), "rota", TEXT, 16),
    Column(_lazy("班次"), "pattern", TEXT, 12),
    Column(_lazy("层级"), "layer", TEXT, 10),
    Column(_lazy("值班人员"), "person", TEXT, 14),
    Column(_lazy("开始"), "starts_at", TIME, 17),
    Column(_lazy("结束"), "ends_at", TIME, 17),
    Column(_lazy("新诉求"), "opened"),
    Column(_lazy("首次响应"), "first_responses"),
    Column(_lazy("其中本班人员"), "first_responses_by_person", width=14),
    Column(_lazy("本班诉求首次响应用时（中位数）"), "median_first_response", DURATION, 30),
    Column(_lazy("办结超时"), "breached"),
    Column(_lazy("首次响应超时"), "response_breached", width=14),
    Column(_lazy("提醒"), "alerts_raised"),
    Column(_lazy("已确认提醒"), "alerts_acknowledged", width=12),
)
TABLES = {"people": PEOPLE, "shifts": SHIFTS}


def human_duration(value: timedelta | None) -> str:
    """2 小时 5 分 (whole minutes; days past 24 hours); — for no value."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return _("不到 1 分钟")
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)s 天") % {"n": days})
    if hours:
        parts.append(_("%(n)s 小时") % {"n": hours})
    if mins or not parts:
        parts.append(_("%(n)s 分") % {"n": mins})
    return " ".join(parts)


def minutes(value: timedelta | None) -> float | int | None:
    """A duration as a number of minutes, to a tenth (a whole number stays whole)."""
    if value is None:
        return None
    m = round(value.total_seconds() / 60, 1)
    return int(m) if m == int(m) else m


def local(value: datetime) -> datetime:
    return timezone.localtime(value, wl._tz())


def _header(col: Column) -> str:
    if col.kind == DURATION:
        return _("%(label)s（分钟）") % {"label": col.label}
    return str(col.label)


def _cell(col: Column, row: Any) -> str:
    """What the page shows."""
    value = getattr(row, col.attr)
    if col.kind == DURATION:
        return human_duration(value)
    if col.kind == TIME:
        return f"{local(value):%Y-%m-%d %H:%M}"
    return str(value)


def _export(col: Column, row: Any) -> Any:
    """What a spreadsheet gets: numbers as numbers, durations in minutes, local times."""
    value = getattr(row, col.attr)
    if col.kind == DURATION:
        return minutes(value)
    if col.kind == TIME:
        return local(value).replace(tzinfo=None)
    return value


def _period(request: HttpRequest) -> tuple[wl.Period, list[str]]:
    return wl.parse_period(request.GET.get("from"), request.GET.get("to"))


@console_view("workload.view")
def workload_page(request: HttpRequest, account: Account) -> HttpResponse:
    period, errors = _period(request)
    data = wl.workload(account, period)
    query = urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})
    return render(
        request,
        "desk/workload.html",
        {
            "account": account,
            "period": period,
            "errors": errors,
            "query": query,
            "people_head": [c.label for c in PEOPLE],
            "people": [[_cell(c, r) for c in PEOPLE] for r in data.people],
            "shifts_head": [c.label for c in SHIFTS],
            "shifts": [[_cell(c, r) for c in SHIFTS] for r in data.shifts],
        },
        status=400 if errors else 200,
    )


def _refuse(errors: list[str]) -> HttpResponse:
    return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")


def _filename(name: str, period: wl.Period, ext: str) -> str:
    return f"workload-{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.{ext}"


@console_view("workload.view")
def workload_csv(request: HttpRequest, account: Account) -> HttpResponse:
    """One table as CSV, UTF-8 with a BOM so that Excel reads the Chinese."""
    period, errors = _period(request)
    table = request.GET.get("table", "")
    if table not in TABLES:
        errors.append("table 应为 people 或 shifts / table must be people or shifts")
    if errors:
        return _refuse(errors)
    data = wl.workload(account, period)
    columns = TABLES[table]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([_header(c) for c in columns])
    for row in getattr(data, table):
        values = [_export(c, row) for c in columns]
        writer.writerow(
            safe_row(
                f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else ("" if v is None else v)
                for v in values
            )
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, period, "csv")}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@console_view("workload.view")
def workload_xlsx(request: HttpRequest, account: Account) -> HttpResponse:
    """Both tables in one workbook, a sheet each: bold header, set widths, durations in
    minutes as numbers, times as local date-times."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    period, errors = _period(request)
    if errors:
        return _refuse(errors)
    data = wl.workload(account, period)
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for title, columns, rows in (
        (_("按人员"), PEOPLE, data.people),
        (_("按班次"), SHIFTS, data.shifts),
    ):
        ws = wb.create_sheet(title)
        ws.append([_header(c) for c in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(safe_row(_export(c, row) for c in columns))
        for i, col in enumerate(columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = col.width
            if col.kind == TIME:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "yyyy-mm-dd hh:mm"
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename("all", period, "xlsx")}"'
    return response
