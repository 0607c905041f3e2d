"""The rota as people read it: a month laid out day by day (the console page, the print
view for the office wall, the Excel sheet). Reads only."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from govwx.lib.workdays import CalendarMissing
from govwx.workcalendar.models import SpecialDay
from govwx.workcalendar.services import calendar

from .models import Layer, Rota, Shift
from .services import Gap, gaps

WEEKDAYS = [
    _lazy("周一"),
    _lazy("周二"),
    _lazy("周三"),
    _lazy("周四"),
    _lazy("周五"),
    _lazy("周六"),
    _lazy("周日"),
]


@dataclass
class Day:
    day: date
    working: bool | None  # None: the calendar does not know the year
    special: str  # 国庆节, 调休上班 …
    cells: dict[str, list[Shift]] = field(default_factory=dict)  # column -> shifts
    gaps: list[Gap] = field(default_factory=list)
    row: list[list[Shift]] = field(default_factory=list)  # cells in column order

    @property
    def weekday(self) -> str:
        return str(WEEKDAYS[self.day.weekday()])

    @property
    def kind(self) -> str:
        if self.working is None:
            return str(_("未知"))
        if self.special:
            return self.special
        return str(_("工作日") if self.working else _("休息日"))


@dataclass
class Month:
    rota: Rota
    first: date
    columns: list[str]
    days: list[Day]

    @property
    def gap_count(self) -> int:
        return sum(len(d.gaps) for d in self.days)


def month_start(value: str | None, today: date) -> date:
    """'2026-10' → 1 October 2026; anything else → this month."""
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def _column(shift: Shift) -> str:
    if shift.pattern_id:
        return f"{shift.get_layer_display()}·{shift.pattern.name}"  # type: ignore[union-attr]
    return f"{shift.get_layer_display()}·{_('加班')}"


def month(rota: Rota, first: date) -> Month:
    tz = ZoneInfo(settings.TIME_ZONE)
    end = next_month(first)
    start_at = datetime.combine(first, datetime.min.time(), tz)
    end_at = datetime.combine(end, datetime.min.time(), tz)
    cal = calendar()
    specials = {
        s.date: (s.name or s.get_kind_display())
        if s.kind == SpecialDay.Kind.HOLIDAY
        else str(_("调休上班"))
        for s in SpecialDay.objects.filter(date__gte=first, date__lt=end)
    }
    days = []
    for n in range((end - first).days):
        d = first + timedelta(days=n)
        try:
            working: bool | None = cal.is_working_day(d)
        except CalendarMissing:
            working = None
        days.append(Day(d, working, specials.get(d, "")))
    by_date = {d.day: d for d in days}
    order = {Layer.OPERATOR: 0, Layer.LEADER: 1}
    columns = [
        f"{p.get_layer_display()}·{p.name}"
        for p in sorted(rota.patterns.all(), key=lambda p: (order[p.layer], p.start))  # type: ignore[index]
    ]
    for shift in (
        Shift.objects.filter(rota=rota, starts_at__lt=end_at, ends_at__gt=start_at)
        .select_related("person", "pattern")
        .order_by("starts_at", "id")
    ):
        local = shift.starts_at.astimezone(tz).date()
        if local not in by_date:
            continue  # started the month before
        col = _column(shift)
        if col not in columns:
            columns.append(col)
        by_date[local].cells.setdefault(col, []).append(shift)
    for layer in Layer:
        for gap in gaps(rota, start_at, end_at, layer):
            local = gap.starts_at.astimezone(tz).date()
            if local in by_date:
                by_date[local].gaps.append(gap)
    for each in days:
        each.row = [each.cells.get(c, []) for c in columns]
    return Month(rota, first, columns, days)


def who(shift: Shift) -> str:
    if shift.person is None:
        return str(_("（空缺）"))
    return str(shift.person.get_full_name() or shift.person.get_username())


def xlsx(m: Month) -> bytes:
    """The month as an Excel sheet, laid out like the print view."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    tz = ZoneInfo(settings.TIME_ZONE)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"{m.first:%Y-%m}"
    ws.append(
        [f"{m.rota.name} " + _("%(y)s 年 %(m)s 月值班表") % {"y": m.first.year, "m": m.first.month}]
    )
    ws["A1"].font = Font(bold=True, size=14)
    header = [_("日期"), _("星期"), _("类型"), *m.columns, _("空档")]
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    off = PatternFill("solid", fgColor="FDECEA")
    for d in m.days:
        row = [d.day, d.weekday, d.kind]
        for col in m.columns:
            row.append(
                "\n".join(
                    f"{who(s)} {s.starts_at.astimezone(tz):%H:%M}–{s.ends_at.astimezone(tz):%H:%M}"
                    for s in d.cells.get(col, [])
                )
            )
        row.append(
            "\n".join(
                f"{g.starts_at.astimezone(tz):%H:%M}–{g.ends_at.astimezone(tz):%m-%d %H:%M}"
                for g in d.gaps
            )
        )
        ws.append(row)
        if d.working is False:
            for cell in ws[ws.max_row][:3]:
                cell.fill = off
    for row in ws.iter_rows(min_row=3):
        row[0].number_format = "yyyy-mm-dd"
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [12, 6, 12, *[22] * len(m.columns), 18]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "D3"
    ws.page_setup.orientation = "landscape"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
