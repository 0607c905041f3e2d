"""Watching for a missing year of the working-day calendar (floor 3: it reads the desk's
cases and the rota's shifts, which `workcalendar` may not import).

A year is missing when it is not confirmed and either it is the current year, or it is
next year from 1 November (local time: the State Council publishes the arrangement in
November or December), or a provisional case or shift assumed it. While one is missing:

- `check_calendar(now)` (run by the desk's loop) alerts each account's admins and
  supervisors once per year (`Alert.Kind.CALENDAR`, subject `calendar:<year>`);
- the console shows a banner to those who may see the calendar page (`banner_years`,
  kept for BANNER_SECONDS in each process);
- the calendar page (`views.py`, `/calendar/`) counts what is provisional per year.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from govwx.accounts.models import Account, Membership
from govwx.desk.models import Case
from govwx.team.models import Alert, Shift
from govwx.team.services import raise_alert
from govwx.workcalendar.models import CalendarYear

ANNOUNCE_FROM = (11, 1)  # (month, day), local: from then on next year is expected
BANNER_SECONDS = 60.0
WATCHERS = (Membership.Role.ADMIN, Membership.Role.SUPERVISOR)


def provisional_years() -> set[int]:
    """Every year a provisional case or shift assumed (two index-only queries)."""
    years: set[int] = set()
    for model in (Case, Shift):
        found = model.objects.filter(provisional_year__isnull=False).values_list(
            "provisional_year", flat=True
        )
        years.update(y for y in found.distinct() if y is not None)
    return years


def missing_years(now: datetime | None = None) -> list[int]:
    """The years the calendar lacks and needs now, in order."""
    local = timezone.localtime(now or timezone.now())
    wanted = {local.year} | provisional_years()
    if (local.month, local.day) >= ANNOUNCE_FROM:
        wanted.add(local.year + 1)
    confirmed = set(
        CalendarYear.objects.filter(confirmed=True, year__in=wanted).values_list("year", flat=True)
    )
    return sorted(wanted - confirmed)


@dataclass(frozen=True)
class Provisional:
    cases: int = 0
    shifts: int = 0


def provisional_counts(account: Account | None = None) -> dict[int, Provisional]:
    """Per year: the provisional cases and shifts (of one account, or of all)."""
    cases = Case.objects.filter(provisional_year__isnull=False)
    shifts = Shift.objects.filter(provisional_year__isnull=False)
    if account is not None:
        cases = cases.filter(account=account)
        shifts = shifts.filter(rota__accounts=account)
    found: dict[int, Provisional] = {}
    for year, n in cases.values_list("provisional_year").annotate(n=Count("id", distinct=True)):
        found[year] = Provisional(cases=n)
    for year, n in shifts.values_list("provisional_year").annotate(n=Count("id", distinct=True)):
        found[year] = Provisional(found.get(year, Provisional()).cases, n)
    return found


def _per_account() -> dict[tuple[int, int], Provisional]:
    """(account, year) -> provisional cases and shifts, for every account at once."""
    found: dict[tuple[int, int], Provisional] = {}
    cases = (
        Case.objects.filter(provisional_year__isnull=False)
        .values_list("account_id", "provisional_year")
        .annotate(n=Count("id"))
    )
    for account_id, year, n in cases:
        found[(account_id, year)] = Provisional(cases=n)
    shifts = (
        Shift.objects.filter(provisional_year__isnull=False)
        .values_list("rota__accounts", "provisional_year")
        .annotate(n=Count("id", distinct=True))
    )
    for account_id, year, n in shifts:
        if account_id is not None:
            key = (account_id, year)
            found[key] = Provisional(found.get(key, Provisional()).cases, n)
    return found


def year_link(year: int) -> str:
    return f"{reverse('calendar:year')}?year={year}"


def alert_text(year: int) -> str:
    return f"{year} 年节假日安排尚未确认，截止时间为暂定"


def alert_detail(year: int, counts: Provisional) -> str:
    if counts.cases or counts.shifts:
        now = (
            f"本公众号有 {counts.cases} 件诉求的截止时间、{counts.shifts} 个班次按暂定日历计算"
            "（周末休息，不含节假日和调休）。"
        )
    else:
        now = f"此后截止时间落在 {year} 年的诉求，将按暂定日历计算（周末休息，不含节假日和调休）。"
    return (
        now + "国务院办公厅通常在 11 月发布下一年的节假日安排；发布后请管理员在「节假日安排」页"
        "录入并确认，暂定的截止时间和班次会自动重算。"
    )


def check_calendar(now: datetime | None = None) -> int:
    """Alert each active account's admins and supervisors (else whoever is on duty) once
    per missing year; idempotent (an alert is once per subject, and accounts already
    alerted are skipped before any write). Returns the alerts raised."""
    now = now or timezone.now()
    years = missing_years(now)
    if not years:
        return 0
    subjects = {f"calendar:{y}": y for y in years}
    done = set(
        Alert.objects.filter(kind=Alert.Kind.CALENDAR, subject__in=list(subjects)).values_list(
            "account_id", "subject"
        )
    )
    accounts = list(Account.objects.filter(is_active=True).order_by("pk"))
    todo = [(a, s) for a in accounts for s in subjects if (a.pk, s) not in done]
    if not todo:
        return 0
    watchers: dict[int, list[Any]] = {}
    for m in (
        Membership.objects.filter(
            account__in=[a for a, _ in todo], role__in=WATCHERS, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
    ):
        watchers.setdefault(m.account_id, []).append(m.user)
    counts = _per_account()
    raised = 0
    for account, subject in todo:
        year = subjects[subject]
        alert = raise_alert(
            account,
            Alert.Kind.CALENDAR,
            subject,
            alert_text(year),
            link=year_link(year),
            at=now,
            detail=alert_detail(year, counts.get((account.pk, year), Provisional())),
            to=watchers.get(account.pk) or None,  # nobody to watch: the usual chain
        )
        raised += alert is not None
    return raised


_lock = threading.Lock()
_banner: tuple[float, list[int]] | None = None


def banner_years() -> list[int]:
    """`missing_years()` as this process saw it at most BANNER_SECONDS ago."""
    global _banner
    at = time.monotonic()
    cached = _banner
    if cached is not None and at - cached[0] < BANNER_SECONDS:
        return cached[1]
    with _lock:
        years = missing_years()
        _banner = (at, years)
        return years


def forget() -> None:
    """Drop this process's banner (after a year is confirmed here, and in tests)."""
    global _banner
    _banner = None
