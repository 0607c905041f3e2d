"""The article editor's form: what the page posts, read into an `ArticleInput`.

The page posts the article's fields and its body as JSON (a list of blocks, built by the
editor's script). Reading it checks only its shape (numbers are numbers, a block is an
object); what WeChat would refuse is `articles.check`'s to say, in the same words
wherever it is asked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from govwx.accounts.models import Account, Department

from .articles import ArticleInput
from .models import Article, Material

# the keys each kind of block keeps (anything else the page sent is dropped)
BLOCK_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("html",),
    "image": ("material", "caption"),
    "audio": ("material",),
    "video": ("material", "url"),
    "h5": ("url", "title"),
    "service": ("url", "title", "guide"),
    "article": ("url", "title", "article"),
}
NUMBERS = ("material", "article")
# Not more blocks than an article can hold: each is a paragraph at least.
MAX_BLOCKS = 500


@dataclass
class Posted:
    """The form as posted: the input for the services, and what is wrong with its shape."""

    values: ArticleInput
    errors: list[str] = field(default_factory=list)
    note: str = ""
    revision: int | None = None


def _number(raw: Any) -> int | None:
    """A posted id: None when empty, -1 when not a number (matches nothing)."""
    if raw in (None, ""):
        return None
    if isinstance(raw, bool):
        return -1
    if isinstance(raw, int):
        return raw if raw > 0 else -1
    text = str(raw).strip()
    return int(text) if text.isdigit() and int(text) > 0 else -1


def read_blocks(raw: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The body's blocks from the posted JSON, each reduced to the keys of its kind."""
    if not raw.strip():
        return [], []
    try:
        data = json.loads(raw)
    except ValueError:
        return [], ["正文数据不是有效的 JSON / the body is not valid JSON"]
    if not isinstance(data, list):
        return [], ["正文格式不正确 / the body is a list of blocks"]
    if len(data) > MAX_BLOCKS:
        return [], [f"正文最多 {MAX_BLOCKS} 段 / at most {MAX_BLOCKS} blocks"]
    blocks: list[dict[str, Any]] = []
    errors: list[str] = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict):
            errors.append(f"第 {i} 段格式不正确 / block {i} is not an object")
            continue
        kind = item.get("type")
        if kind not in BLOCK_KEYS:
            blocks.append({"type": str(kind)})  # `check` names the unknown type
            continue
        block: dict[str, Any] = {"type": kind}
        for key in BLOCK_KEYS[kind]:
            value = item.get(key)
            if key in NUMBERS:
                number = _number(value)
                if number == -1:
                    errors.append(f"第 {i} 段：编号不正确 {value!r} / block {i}: bad {key}")
                elif number is not None:
                    block[key] = number
            elif value not in (None, ""):
                block[key] = str(value)
        if kind == "text":
            block.setdefault("html", "")
            if item.get("source") is True:  # written as HTML: the editor reopens it so
                block["source"] = True
        blocks.append(block)
    return blocks, errors


def read(post: QueryDict, account: Account) -> Posted:
    """The editor's POST as an `ArticleInput` (the cover and department loaded from
    this account's rows; one of another account's is left for `check` to refuse)."""
    errors: list[str] = []
    body, body_errors = read_blocks(post.get("body", ""))
    errors += body_errors
    cover: Material | None = None
    cover_id = _number(post.get("cover"))
    if cover_id is not None:
        cover = Material.objects.filter(pk=cover_id).first()
        if cover is None:
            errors.append("所选封面不存在 / no such cover picture")
    department: Department | None = None
    department_id = _number(post.get("source_department"))
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            errors.append("所选来源部门不存在 / no such department")
    original = post.get("original", "1") != "0"
    values = ArticleInput(
        title=post.get("title", ""),
        body=body,
        author=post.get("author", ""),
        digest=post.get("digest", ""),
        cover=cover,
        source_department=department,
        original=original,
        source_name="" if original else post.get("source_name", ""),
        source_url="" if original else post.get("source_url", "").strip(),
        locality=post.get("locality", Article.Locality.CITY),
        category=post.get("category", Article.Category.ROUTINE),
    )
    revision = _number(post.get("revision"))
    note = post.get("note", "").strip()
    if len(note) > 200:
        errors.append("修订说明最多 200 字 / the note is at most 200 characters")
    return Posted(values, errors, note, revision)


def initial(article: Article | None) -> dict[str, Any]:
    """The editor's fields for an article (or a new one), as the page shows them."""
    if article is None:
        return {
            "title": "", "author": "", "digest": "", "cover": None, "source_department": None,
            "original": True, "source_name": "", "source_url": "",
            "locality": Article.Locality.CITY, "category": Article.Category.ROUTINE, "body": [],
        }  # fmt: skip
    return {
        "title": article.title,
        "author": article.author,
        "digest": article.digest,
        "cover": article.cover,
        "source_department": article.source_department,
        "original": article.original,
        "source_name": article.source_name,
        "source_url": article.source_url,
        "locality": article.locality,
        "category": article.category,
        "body": article.body,
    }


def posted_fields(posted: Posted) -> dict[str, Any]:
    """The editor's fields as posted (shown again with what is wrong)."""
    v = posted.values
    return {
        "title": v.title, "author": v.author, "digest": v.digest, "cover": v.cover,
        "source_department": v.source_department, "original": v.original,
        "source_name": v.source_name, "source_url": v.source_url, "locality": v.locality,
        "category": v.category, "body": v.body,
    }  # fmt: skip
