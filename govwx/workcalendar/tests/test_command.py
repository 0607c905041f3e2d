"""`govwx calendar seed|status`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.core.management import call_command

from govwx.workcalendar.models import CalendarYear, SpecialDay
from govwx.workcalendar.signals import year_confirmed

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def run(*args: str) -> str:
    out = StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def heard() -> Iterator[list[int]]:
    years: list[int] = []

    def receiver(sender: Any, year: int, **kwargs: Any) -> int:
        years.append(year)
        return 0

    year_confirmed.connect(receiver, dispatch_uid="test-seed")
    yield years
    year_confirmed.disconnect(dispatch_uid="test-seed")


def test_seed_adds_the_years_the_database_lacks_once(heard: list[int]) -> None:
    # as if the installed package were newer than the database: 2025 and 2026 missing
    SpecialDay.objects.filter(date__year__in=(2025, 2026)).delete()
    CalendarYear.objects.filter(year=2026).delete()
    CalendarYear.objects.filter(year=2025).update(confirmed=False)
    out = run("seed")
    n2025 = sum(
        1 for d in [*chinese_calendar.holidays, *chinese_calendar.workdays] if d.year == 2025
    )
    assert out.splitlines() == [
        f"已添加并确认 2025 年（{n2025} 个特殊日期）/ added and confirmed 2025 ({n2025} special days)",
        "已添加并确认 2026 年（39 个特殊日期）/ added and confirmed 2026 (39 special days)",
    ]
    assert heard == [2025, 2026]
    assert CalendarYear.objects.get(year=2026).confirmed
    before = (SpecialDay.objects.count(), CalendarYear.objects.count())
    assert "没有要添加的年份" in run("seed")
    assert heard == [2025, 2026]  # nothing confirmed again
    assert (SpecialDay.objects.count(), CalendarYear.objects.count()) == before


def test_status_names_the_missing_year_from_november() -> None:
    with time_machine.travel(datetime(2026, 10, 31, 23, 59, tzinfo=SH), tick=False):
        assert run("status").splitlines() == [
            "已确认 / confirmed: 2004–2026",
            "没有缺少的年份 / nothing missing",
        ]
    with time_machine.travel(datetime(2026, 11, 1, 0, 1, tzinfo=SH), tick=False):
        assert "缺少 2027 年：截止时间为暂定" in run("status")
