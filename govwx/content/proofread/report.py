"""What the proofreading report reads (no writes): per month — the last 12, local
(Asia/Shanghai) — the findings recorded by family and severity, and the errors that
reached publication with the dismissal that let each through (who, why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.content import articles
from govwx.content.models import Article, Dismissal, FindingRecord

from . import ERROR, FAMILY_NAMES, SEVERITIES, VETO
from .article import published_dismissals
from .views import FAMILY_LABELS, SEVERITY_LABELS

MONTHS = 12
PUBLISHED_MAX = 200


def months(today: date, n: int = MONTHS) -> list[date]:
    """The first days of the last `n` months, oldest first, this month last."""
    found: list[date] = []
    y, m = today.year, today.month
    for _i in range(n):
        found.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return found[::-1]


@dataclass
class MonthRow:
    month: date
    families: list[int]
    severities: list[int]
    total: int
    published: int  # errors still there when their object was published


@dataclass
class Published:
    article: Article
    found: str
    family: str
    family_label: str
    severity: str
    severity_label: str
    rule: str
    dismissal: Dismissal | None


def build(user: Any, account: Account, where: str = "") -> dict[str, Any]:
    """The report's table, chart and list (four queries)."""
    span = months(timezone.localdate())
    rows = FindingRecord.objects.filter(account=account, month__gte=span[0], month__lte=span[-1])
    if where:
        rows = rows.filter(where=where)
    counts = (
        rows.values("month", "family", "severity")
        .annotate(n=Count("id"), published=Count("id", filter=Q(published=True)))
        .order_by()
    )
    table = {m: MonthRow(m, [0] * len(FAMILY_NAMES), [0] * len(SEVERITIES), 0, 0) for m in span}
    for c in counts:
        row = table[c["month"]]
        if c["family"] in FAMILY_NAMES:
            row.families[FAMILY_NAMES.index(c["family"])] += c["n"]
        if c["severity"] in SEVERITIES:
            row.severities[SEVERITIES.index(c["severity"])] += c["n"]
        row.total += c["n"]
        if c["severity"] in (ERROR, VETO):
            row.published += c["published"]
    month_rows = [table[m] for m in span]
    totals = MonthRow(
        span[-1],
        [sum(r.families[i] for r in month_rows) for i in range(len(FAMILY_NAMES))],
        [sum(r.severities[i] for r in month_rows) for i in range(len(SEVERITIES))],
        sum(r.total for r in month_rows),
        sum(r.published for r in month_rows),
    )
    labels = [f"{m:%Y-%m}" for m in span]
    chart = {
        "months": labels,
        "series": [
            {
                "name": str(FAMILY_LABELS.get(name, name)),
                "data": [r.families[i] for r in month_rows],
            }
            for i, name in enumerate(FAMILY_NAMES)
            if any(r.families[i] for r in month_rows)
        ],
    }
    return {
        "rows": month_rows[::-1],  # the newest month first in the table
        "totals": totals,
        "families": [str(FAMILY_LABELS.get(n, n)) for n in FAMILY_NAMES],
        "severities": [str(SEVERITY_LABELS.get(s, s)) for s in SEVERITIES],
        "severity_totals": [
            (s, str(SEVERITY_LABELS.get(s, s)), n)
            for s, n in zip(SEVERITIES, totals.severities, strict=True)
        ],
        "chart": chart,
        "published": published_errors(user, account, span[0]),
        "first": span[0],
        "where": where,
        "places": FindingRecord.Where.choices,
    }


def published_errors(user: Any, account: Account, since: date) -> list[Published]:
    """The errors found in articles when they were published (newest first), those of
    the articles the person may see, each with who dismissed it and why."""
    try:
        visible = articles.visible_articles(user, account)  # a liaison: their department's
    except PermissionDenied:
        return []
    records = list(
        FindingRecord.objects.filter(
            account=account, where=FindingRecord.Where.ARTICLE, published=True,
            severity__in=(ERROR, VETO), month__gte=since,
        ).order_by("-seen_at", "-id")[:PUBLISHED_MAX]
    )  # fmt: skip
    ids = {int(r.object_id) for r in records if r.object_id.isdigit()}
    found = {
        a.pk: a
        for a in visible.filter(pk__in=ids).only(
            "id", "title", "body", "author", "digest", "published_at", "account_id"
        )
    }
    dismissals = published_dismissals(
        account, found.values(), {f"{r.family}:{r.rule}:{r.found}" for r in records}
    )
    out: list[Published] = []
    for r in records:
        a = found.get(int(r.object_id)) if r.object_id.isdigit() else None
        if a is None:
            continue
        out.append(
            Published(
                article=a, found=r.found, family=r.family,
                family_label=str(FAMILY_LABELS.get(r.family, r.family)), severity=r.severity,
                severity_label=str(SEVERITY_LABELS.get(r.severity, r.severity)), rule=r.rule,
                dismissal=dismissals.get((a.pk, f"{r.family}:{r.rule}:{r.found}")),
            )
        )  # fmt: skip
    return out
