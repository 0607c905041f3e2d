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

from govwx.lib.cells import safe_row
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
    working: bool
    special: str  # 国庆节, 调休上班 …
    # the year's holiday arrangement is not confirmed: `working` is the provisional
    # calendar's answer (weekends off, no holidays)
    provisional: bool = False
    cells: dict[str, list[Shift]] = field(default_factory=dict)  # column -> shifts
    gaps: list[Gap] = field(default_factory=list)
    row: list[list[Shift]] = field(default_factory=list)  # cells in column order

    @property
    def weekday(self) -> str:
        return str(WEEKDAYS[self.day.weekday()])

    @property
    def kind(self) -> str:
        if self.provisional:
            return str(_("工作日（暂定）") if self.working else _("休息日（暂定）"))
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

    @property
    def provisional_years(self) -> list[int]:
        """The years of the month's days, or of the shifts shown, planned provisionally."""
        years = {d.day.year for d in self.days if d.provisional}
        years.update(
            s.provisional_year for d in self.days for ss in d.cells.values() for s in ss
            if s.provisional_year
        )  # fmt: skip
        return sorted(years)

    @property
    def provisional_notes(self) -> list[str]:
        return [provisional_note(y) for y in self.provisional_years]


def provisional_note(year: int) -> str:
    return str(_("%(year)s 年节假日安排尚未确认，按暂定日历排班") % {"year": year})


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
    cal = calendar().provisional()
    specials = {
        s.date: (s.name or s.get_kind_display())
        if s.kind == SpecialDay.Kind.HOLIDAY
        else str(_("调休上班"))
        for s in SpecialDay.objects.filter(date__gte=first, date__lt=end)
    }
    days = []
    for n in range((end - first).days):
        d = first + timedelta(days=n)
        if d.year in cal.years:
            days.append(Day(d, cal.is_working_day(d), specials.get(d, "")))
        else:
            # special days entered for a year not yet confirmed are not used yet
            days.append(Day(d, cal.is_working_day(d), "", provisional=True))
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
    # Names (the rota's, the shifts', people's) are typed by people: kept as text.
    ws.append(
        safe_row(
            [
                f"{m.rota.name} "
                + _("%(y)s 年 %(m)s 月值班表") % {"y": m.first.year, "m": m.first.month}
            ]
        )
    )
    ws["A1"].font = Font(bold=True, size=14)
    for note in m.provisional_notes:
        ws.append([note])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, color="B54708")
    header = [_("日期"), _("星期"), _("类型"), *m.columns, _("空档")]
    ws.append(safe_row(header))
    head_row = ws.max_row
    for cell in ws[head_row]:
        cell.font = Font(bold=True)
    off = PatternFill("solid", fgColor="FDECEA")
    for d in m.days:
        row = [d.day, d.weekday, d.kind]
        for col in m.columns:
            row.append(
                "\n".join(
                    f"{who(s)} {s.starts_at.astimezone(tz):%H:%M}–{s.ends_at.astimezone(tz):%H:%M}"
                    + (str(_("（暂定）")) if s.provisional_year else "")
                    for s in d.cells.get(col, [])
                )
            )
        row.append(
            "\n".join(
                f"{g.starts_at.astimezone(tz):%H:%M}–{g.ends_at.astimezone(tz):%m-%d %H:%M}"
                for g in d.gaps
            )
        )
        ws.append(safe_row(row))
        if d.working is False:
            for cell in ws[ws.max_row][:3]:
                cell.fill = off
    for row in ws.iter_rows(min_row=head_row + 1):
        row[0].number_format = "yyyy-mm-dd"
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [12, 6, 12, *[22] * len(m.columns), 18]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"D{head_row + 1}"
    ws.page_setup.orientation = "landscape"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
