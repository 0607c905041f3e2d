"""Proofreading an article: its title, author, digest and the visible text of its body,
as the editor shows it while it is written and as the workflow checks it at each step.

The text is cut into *parts*, one per field the editor has: the title, the author, the
digest, and per block of the body its visible text — a text block's words as Quill holds
them (every paragraph, heading or list item ends with a line break; a picture written
into the HTML is one character, U+FFFC, as an embed is one position in Quill), a
picture's caption, a link card's title. Each part is checked on its own
(`proofread.check`, with the account's context), so a finding's offsets are offsets into
one field, in characters (code points; the editor's script turns them into Quill's
UTF-16 positions).

A dismissal is remembered for the *paragraph* the finding is in (the line of its part,
or the lines it spans): `dismiss_finding` is given that paragraph as the text, so the
same words in the same paragraph stay dismissed, in the editor, at every workflow step
and in any other article of the account; any change of that paragraph asks again;
changes elsewhere in the article do not. One `Dismissal` row is the truth for both the
editor and the workflow.

`record` keeps the article's findings for the report (`FindingRecord`, where
"article"); `mark_published` marks those still present when the article is published —
the warnings and the dismissed errors that reached the public.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from govwx.accounts.models import Account
from govwx.content.models import Article, Dismissal, FindingRecord

from . import ERROR, VETO, Context, Finding, check
from .context import context_for
from .services import dismiss_finding, key_of, record_findings, sha256

log = logging.getLogger(__name__)

EMBED = "\ufffc"  # one position in Quill, as an embed (a picture) is
FIELDS = ("title", "author", "digest")
FIELD_LABELS = {"title": "标题", "author": "作者", "digest": "摘要"}
# the blocks whose visible text is one field of the editor: (type, key) → what it is
BLOCK_TEXTS = {
    ("image", "caption"): "图片说明",
    ("h5", "title"): "链接标题",
    ("service", "title"): "办事指南标题",
    ("article", "title"): "相关文章标题",
}
# at most this much of a text is checked (an article's body is 20,000 characters at most)
CHECK_MAX = 50_000


# ------------------------------------------------------------------ visible text

# Elements that are a line of their own in Quill (a paragraph, a heading, a list item, a
# quote): each ends with a line break.
LINES = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "div", "section",
    "figure", "figcaption", "tr", "table", "ul", "ol", "hr",
}  # fmt: skip
EMBEDS = {"img", "video", "audio", "iframe"}
SKIPPED = {"script", "style", "template"}
SPACE = re.compile(r"[^\S\u00a0]")
SPACES = re.compile(r" {2,}")


class _Text(HTMLParser):
    """The text of HTML as Quill's clipboard reads it: spaces collapsed and trimmed at
    the edges of lines, `&nbsp;` a space, <br> a line break, every line element ended by
    one (unless its text already ends with one), an embed one character."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.starts: list[int] = []  # where each open line element's text began
        self.pre = 0
        self.skip = 0

    def _ends_line(self) -> bool:
        return not self.out or self.out[-1].endswith("\n")

    def _trim(self) -> None:
        if self.out and self.out[-1].endswith(" ") and not self.pre:
            self.out[-1] = self.out[-1][:-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skip += 1
        elif tag in LINES:
            if not self._ends_line():  # text before it, not in a line of its own
                self._trim()
                self.out.append("\n")
            self.starts.append(len(self.out))
            if tag == "pre":
                self.pre += 1
        elif tag == "br":
            self._trim()
            self.out.append("\n")
        elif tag in EMBEDS:
            self.out.append(EMBED)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in LINES or tag in SKIPPED:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in LINES and self.starts:
            start = self.starts.pop()
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._trim()
            inner = "".join(self.out[start:])
            if not inner.endswith("\n") and (inner or tag not in ("ul", "ol", "table", "tr")):
                self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            if not data.strip() and "\n" in data:  # the layout between elements
                return
            data = SPACES.sub(" ", SPACE.sub(" ", data))
            if self._ends_line():
                data = data.lstrip(" ")
            data = data.replace("\u00a0", " ")
        if data:
            self.out.append(data)


def visible_text(html: str) -> str:
    """The text of a text block's HTML, position for position as Quill holds it (the
    trailing line break included); "" for an empty block."""
    reader = _Text()
    reader.feed(html or "")
    reader.close()
    reader._trim()
    text = "".join(reader.out)
    if text and not text.endswith("\n"):
        text += "\n"
    return text if text.strip() else ""


# ------------------------------------------------------------------ parts


@dataclass(frozen=True)
class Part:
    """One field of the article as the editor shows it: `field` is "title", "author",
    "digest" or "body"; a part of the body names its block (from 0) and the block's key
    ("html" for a text block, "caption", "title")."""

    field: str
    text: str
    block: int | None = None
    key: str = ""
    kind: str = ""  # the block's type

    @property
    def ref(self) -> str:
        """How the editor names the part: "title", "body.3.html"."""
        return self.field if self.block is None else f"body.{self.block}.{self.key}"

    @property
    def label(self) -> str:
        """Where it is, in words: 标题, 第 3 段, 第 4 段图片说明."""
        if self.block is None:
            return FIELD_LABELS.get(self.field, self.field)
        where = f"第 {self.block + 1} 段"
        return where + BLOCK_TEXTS.get((self.kind, self.key), "")


def parts_of(title: str, author: str, digest: str, body: Sequence[Mapping[str, Any]]) -> list[Part]:
    """The article's parts with text, in the order of the page."""
    found = [Part(name, value) for name, value in zip(FIELDS, (title, author, digest), strict=True)]
    for i, block in enumerate(body):
        kind = str(block.get("type") or "")
        if kind == "text":
            found.append(Part("body", visible_text(str(block.get("html") or "")), i, "html", kind))
        for (typ, key), _label in BLOCK_TEXTS.items():
            if typ == kind:
                found.append(Part("body", str(block.get(key) or ""), i, key, kind))
    return [p for p in found if p.text.strip()]


def article_parts(article: Article) -> list[Part]:
    return parts_of(article.title, article.author, article.digest, article.body or [])


# ------------------------------------------------------------------ locating


@lru_cache(maxsize=256)
def _checked(text: str, context: Context) -> tuple[Finding, ...]:
    """The checker's findings in one part (kept: the editor sends every part each time,
    and a workflow step checks the same text more than once)."""
    return tuple(check(text[:CHECK_MAX], context))


def paragraph(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the line (or lines) of `text` that `start`..`end` is in."""
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    return a, (len(text) if b < 0 else b)


@dataclass(frozen=True)
class Located:
    """A finding in one part of the article, with the paragraph a dismissal of it is
    remembered for, and the dismissal if there is one."""

    part: Part
    finding: Finding  # offsets in the part's text
    unit_start: int  # where the paragraph begins in the part's text
    unit: str  # the paragraph
    dismissal: Dismissal | None = None

    @property
    def key(self) -> str:
        return key_of(self.finding)

    @property
    def unit_sha(self) -> str:
        return sha256(self.unit)

    @property
    def code(self) -> str:
        """The workflow's stable name for it: its paragraph and its key (the same words
        found in two paragraphs are two things to dismiss)."""
        return f"proofread:{self.unit_sha[:12]}:{self.key}"

    @property
    def in_unit(self) -> Finding:
        """The finding with offsets into its paragraph (what a dismissal is given)."""
        return dataclasses.replace(
            self.finding,
            start=self.finding.start - self.unit_start,
            end=self.finding.end - self.unit_start,
        )

    @property
    def shown(self) -> str:
        """The text found, as a message may repeat it: personal data masked."""
        if self.finding.family == "personal_data" and self.finding.suggestion:
            return self.finding.suggestion
        return self.finding.text

    @property
    def blocks(self) -> bool:
        """A veto always blocks; an error until it is dismissed."""
        return self.finding.severity == VETO or (
            self.finding.severity == ERROR and self.dismissal is None
        )

    def as_json(self) -> dict[str, Any]:
        d = self.dismissal
        return {
            **self.finding.as_json(),
            "rule": self.finding.rule,
            "part": self.part.ref,
            "field": self.part.field,
            "block": self.part.block,
            "where": self.part.label,
            "key": self.key,
            "dismissed": None
            if d is None
            else {
                "reason": d.reason,
                "by": (d.by.get_full_name() or d.by.get_username()) if d.by else "",
                "at": d.at.isoformat(),
            },
        }


def locate(account: Account | None, parts: Iterable[Part]) -> list[Located]:
    """Every finding in the parts, each with its paragraph and its dismissal (one query
    for the dismissals of all the paragraphs)."""
    context = context_for(account)
    found: list[Located] = []
    for part in parts:
        for f in _checked(part.text, context):
            a, b = paragraph(part.text, f.start, f.end)
            found.append(Located(part, f, a, part.text[a:b]))
    errors = [x for x in found if x.finding.severity != VETO]
    if account is None or not errors:
        return found
    wanted = {(x.unit_sha, x.key) for x in errors}
    rows = Dismissal.objects.filter(
        account=account,
        text_sha256__in={sha for sha, _k in wanted},
        rule__in={k for _s, k in wanted},
    ).select_related("by")
    held = {(d.text_sha256, d.rule): d for d in rows}
    return [
        dataclasses.replace(x, dismissal=held.get((x.unit_sha, x.key)))
        if x.finding.severity != VETO
        else x
        for x in found
    ]


def locate_article(article: Article) -> list[Located]:
    return locate(article.account, article_parts(article))


def dismiss(account: Account, located: Located, reason: str, *, actor: Any) -> Dismissal:
    """Dismiss a finding for its paragraph (`proofread.dismiss`, with a reason; audited;
    a veto never)."""
    return dismiss_finding(account, located.in_unit, located.unit, reason, actor=actor)


def describe(x: Located) -> str:
    """The finding in words, with where it is: 第 1 段「,」：中文语句中的逗号应……"""
    f = x.finding
    words = f"{x.part.label}「{x.shown}」：{f.message}"
    if f.suggestion and f.family != "personal_data":
        words += f"（建议改为「{f.suggestion}」）"
    return words


# ------------------------------------------------------------------ the report's records


def record(article: Article, *, published: bool = False) -> list[FindingRecord]:
    """Keep the article's findings for the report (one row per family, rule and text
    found; a row is dismissed when every paragraph it is found in dismissed it).
    `published`: the article reached the public with them."""
    found = locate_article(article)
    if not found:
        return []
    rows: dict[tuple[str, str, str], Located] = {}
    for x in found:  # an occurrence not dismissed speaks for the row
        k = (x.finding.family, x.finding.rule, x.key)
        if k not in rows or (rows[k].dismissal is not None and x.dismissal is None):
            rows[k] = x
    kept: list[FindingRecord] = []
    # not dismissed: as the dismissals of a text no finding was ever dismissed in say
    open_ = [x.finding for x in rows.values() if x.dismissal is None]
    if open_:
        kept += record_findings(article.account, "article", article.pk, open_, published, text="")
    by_unit: dict[str, list[Located]] = {}
    for x in rows.values():
        if x.dismissal is not None:
            by_unit.setdefault(x.unit, []).append(x)
    for unit, xs in by_unit.items():
        kept += record_findings(
            article.account, "article", article.pk, [x.in_unit for x in xs], published,
            text=unit,
        )  # fmt: skip
    return kept


def mark_published(pk: int) -> None:
    """After an article is published: what is still found in it reached the public.
    Never lets a failure here undo or hide the publication (it is logged)."""
    try:
        article = Article.objects.select_related("account").get(pk=pk)
        record(article, published=True)
    except Exception:
        log.exception("recording the published findings of article %s failed", pk)


def published_dismissals(
    account: Account, articles: Iterable[Article], keys: Iterable[str]
) -> dict[tuple[int, str], Dismissal]:
    """For the report: the dismissal that let each (article, key) through — the one
    made for a paragraph of that article."""
    units: dict[int, set[str]] = {}
    for a in articles:
        units[a.pk] = {
            sha256(line) for p in article_parts(a) for line in p.text.split("\n") if line.strip()
        }
    keys = set(keys)
    shas = set().union(*units.values()) if units else set()
    if not keys or not shas:
        return {}
    rows = (
        Dismissal.objects.filter(account=account, rule__in=keys, text_sha256__in=shas)
        .select_related("by")
        .order_by("at", "id")
    )
    found: dict[tuple[int, str], Dismissal] = {}
    for d in rows:
        for pk, own in units.items():
            if d.text_sha256 in own:
                found[(pk, d.rule)] = d
    return found
