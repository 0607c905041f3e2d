"""`govwx calendar seed|status`: the working-day calendar from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from govwx.workcalendar import services
from govwx.workcalendar.models import CalendarYear, SpecialDay

ANNOUNCE_MONTH = 11  # from November, next year's arrangement is expected


def _spans(years: list[int]) -> str:
    """[2004, 2005, 2006, 2010] -> "2004–2006, 2010"."""
    out: list[str] = []
    for y in sorted(years):
        if out and out[-1].endswith(str(y - 1)):
            start = out[-1].split("–")[0]
            out[-1] = f"{start}–{y}"
        else:
            out.append(str(y))
    return ", ".join(out)


class Command(BaseCommand):
    help = "The working-day calendar: add the installed chinesecalendar's years, or show status."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "seed",
            help="add and confirm the years the installed chinesecalendar has and the database lacks",
        )
        sub.add_parser("status", help="the confirmed years and what is missing")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "seed":
            seeded = services.seed_from_package()
            if not seeded.years:
                self.stdout.write(
                    "没有要添加的年份：已安装的 chinesecalendar 的年份都已确认 / "
                    "nothing to add: every year of the installed chinesecalendar is confirmed"
                )
                return
            for year in seeded.years:
                n = SpecialDay.objects.filter(date__year=year).count()
                self.stdout.write(
                    f"已添加并确认 {year} 年（{n} 个特殊日期）/ added and confirmed {year} ({n} special days)"
                )
            return
        confirmed = list(CalendarYear.objects.filter(confirmed=True).values_list("year", flat=True))
        self.stdout.write(f"已确认 / confirmed: {_spans(confirmed) or '—'}")
        today = timezone.localdate()
        wanted = [today.year] + ([today.year + 1] if today.month >= ANNOUNCE_MONTH else [])
        missing = [y for y in wanted if y not in confirmed]
        for year in missing:
            self.stdout.write(
                f"缺少 {year} 年：截止时间为暂定，请在控制台「节假日安排」页录入 / "
                f"{year} is missing: deadlines are provisional; enter it on the console's calendar page"
            )
        if not missing:
            self.stdout.write("没有缺少的年份 / nothing missing")
