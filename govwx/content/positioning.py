"""Positioning, measured: what an account published over the last 30 days against what it
says it is for.

- Locality: the share of its published articles about this city (本市), this province
  (本省) and the country (全国), beside the account's positioning statement — the study
  found accounts pushing national policy instead of local information citizens can act on.
- Meeting pictures: the share of its published articles whose pictures show only
  meetings. A picture is a meeting picture when the caption the editor gave it (the
  image block's caption, else the material's) contains one of MEETING_WORDS; an article
  counts when it has pictures (its body's and its cover) and every one of them is a
  meeting picture. A picture without a caption is not known to be a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from govwx.accounts.models import Account

from .models import Article, Material

WINDOW = timedelta(days=30)
MEETING_WORDS = (
    "会议", "座谈", "调研", "召开", "主持", "出席", "讲话", "部署会", "推进会", "动员会",
    "调度会", "专题会", "常务会", "研讨会", "汇报会", "视频会", "听取汇报", "会见", "会上",
    "主席台", "致辞", "发言",
)  # fmt: skip


def is_meeting(caption: str) -> bool:
    """Whether a picture's caption says it shows a meeting."""
    return any(word in caption for word in MEETING_WORDS)


@dataclass(frozen=True)
class Share:
    value: str
    label: str
    count: int
    percent: int  # of the published articles, rounded


@dataclass(frozen=True)
class Positioning:
    account: Account
    since: datetime
    until: datetime
    statement: str  # the account's positioning statement, as written
    published: int
    locality: list[Share]  # 本市, 本省, 全国 in that order
    with_pictures: int
    meeting_only: int
    meeting_percent: int  # of the published articles
    meeting_articles: list[Article]  # the newest few of them, to look at

    @property
    def local_percent(self) -> int:
        return self.locality[0].percent


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _captions(article: Article, materials: dict[int, Material]) -> list[str] | None:
    """The captions of the article's pictures, one per image block and the cover when
    the body does not show it (None: the article has no pictures)."""
    captions: list[str] = []
    shown: set[int] = set()
    for block in article.body if isinstance(article.body, list) else []:
        if not isinstance(block, dict) or block.get("type") != "image":
            continue
        m = materials.get(_int(block.get("material")))
        if m is not None and m.kind == Material.Kind.IMAGE:
            captions.append(str(block.get("caption") or "").strip() or m.caption)
            shown.add(m.pk)
    cover = materials.get(article.cover_id or 0)
    if cover is not None and cover.pk not in shown:
        captions.append(cover.caption)
    return captions or None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def measure(account: Account, *, now: datetime | None = None, examples: int = 10) -> Positioning:
    """The account's figures over the 30 days up to `now`: two queries."""
    until = now or timezone.now()
    since = until - WINDOW
    articles = list(
        Article.objects.filter(
            account=account,
            status=Article.Status.PUBLISHED,
            published_at__gt=since,
            published_at__lte=until,
        )
        .only("pk", "title", "token", "locality", "body", "cover_id", "published_at", "account")
        .order_by("-published_at", "-id")
    )
    wanted: set[int] = set()
    for a in articles:
        for block in a.body if isinstance(a.body, list) else []:
            if isinstance(block, dict) and block.get("type") == "image":
                wanted.add(_int(block.get("material")))
        if a.cover_id:
            wanted.add(a.cover_id)
    materials = {
        m.pk: m
        for m in Material.objects.filter(account=account, pk__in=wanted).only(
            "pk", "kind", "caption"
        )
    }
    total = len(articles)
    counts = {value: 0 for value in Article.Locality.values}
    with_pictures = 0
    meeting: list[Article] = []
    for a in articles:
        counts[a.locality] = counts.get(a.locality, 0) + 1
        captions = _captions(a, materials)
        if captions is None:
            continue
        with_pictures += 1
        if all(is_meeting(c) for c in captions):
            meeting.append(a)
    return Positioning(
        account=account,
        since=since,
        until=until,
        statement=account.positioning.strip(),
        published=total,
        locality=[
            Share(value, str(label), counts[value], _percent(counts[value], total))
            for value, label in Article.Locality.choices
        ],
        with_pictures=with_pictures,
        meeting_only=len(meeting),
        meeting_percent=_percent(len(meeting), total),
        meeting_articles=meeting[:examples],
    )
