"""A period of whole local days, as report pages ask for one (?from=…&to=…)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

MAX_DAYS = 366


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), _tz())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), _tz())

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def parse_period(
    raw_first: str | None, raw_last: str | None, default: Period, max_days: int = MAX_DAYS
) -> tuple[Period, list[str]]:
    """The period a form asks for, or `default` with the reasons it was refused. An
    empty field takes the default's value."""
    values: list[date] = []
    errors: list[str] = []
    for raw, fallback in ((raw_first, default.first), (raw_last, default.last)):
        raw = (raw or "").strip()
        if not raw:
            values.append(fallback)
            continue
        try:
            values.append(date.fromisoformat(raw))
        except ValueError:
            errors.append(
                f"日期格式不正确：{raw[:20]}（应为 2026-11-01 这样的格式） / "
                f"not a date: {raw[:20]!r} (use YYYY-MM-DD)"
            )
    if errors:
        return default, errors
    first, last = values
    if last < first:
        return default, ["结束日期早于开始日期 / the end date is before the start date"]
    if (last - first).days + 1 > max_days:
        return default, [f"统计期最长 {max_days} 天 / a period is at most {max_days} days"]
    return Period(first, last), []
