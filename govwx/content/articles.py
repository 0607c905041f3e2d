"""Writing an article: create, save (a new revision each time), lock to one editor at a
time, compare and restore revisions. Every write checks the article against WeChat's
limits first (nothing is saved when something is wrong), is audited, and names the
revision it saw, so that of two saves at once the second gets a conflict."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from govwx.accounts import permissions
from govwx.accounts.models import Account, Department, Membership
from govwx.accounts.services import record, role_for

from . import limits
from .html import problems
from .models import Article, Material, Revision
from .render import BLOCK_TYPES, material_ids, render

# An editor's lock lapses this long after their last save or renewal (a closed tab).
LOCK_FOR = timedelta(minutes=15)
# what a revision keeps of the article
FIELDS = (
    "title", "author", "digest", "cover_id", "source_department_id", "original",
    "source_name", "source_url", "locality", "category", "body",
)  # fmt: skip


class Conflict(Exception):
    """The article changed since the editor loaded it."""


class Locked(Exception):
    """Another editor holds the article."""

    def __init__(self, article: Article) -> None:
        self.holder = article.locked_by
        self.since = article.locked_at
        name = getattr(self.holder, "username", "?")
        super().__init__(f"「{article.title}」正由 {name} 编辑 / being edited by {name}")


@dataclass
class ArticleInput:
    title: str
    body: list[dict[str, Any]] = field(default_factory=list)
    author: str = ""
    digest: str = ""
    cover: Material | None = None
    source_department: Department | None = None
    original: bool = True
    source_name: str = ""
    source_url: str = ""
    locality: str = Article.Locality.CITY
    category: str = Article.Category.ROUTINE


def _liaison_department(actor: Any, account: Account) -> int | None:
    m = Membership.objects.filter(user=actor, account=account).first()
    if m is None or m.role not in permissions.DEPARTMENT_SCOPED:
        return None
    return m.department_id


def visible_articles(actor: Any, account: Account) -> Any:
    """The articles a person may see on the account: all of them, or for a department
    liaison those of their own department."""
    permissions.require(actor, account, "content.view")
    qs = Article.objects.filter(account=account)
    if role_for(actor, account) in permissions.DEPARTMENT_SCOPED:
        qs = qs.filter(source_department_id=_liaison_department(actor, account))
    return qs


def get_article(actor: Any, account: Account, pk: int) -> Article:
    article = visible_articles(actor, account).filter(pk=pk).first()
    if article is None:
        raise Article.DoesNotExist(f"no article {pk}")
    return article


def _require_edit(actor: Any, article: Article) -> None:
    permissions.require(actor, article.account, "content.edit")
    if role_for(actor, article.account) in permissions.DEPARTMENT_SCOPED:
        dept = _liaison_department(actor, article.account)
        if dept is None or article.source_department_id != dept:
            raise PermissionDenied("部门联络员只能编辑本部门的稿件 / only your department's drafts")
        if article.status != Article.Status.DRAFT:
            raise PermissionDenied(
                "稿件已提交，部门联络员不能再修改 / submitted: no longer yours to edit"
            )


def check(values: ArticleInput, account: Account) -> list[str]:
    """Everything wrong with an article before it is saved or sent, in words."""
    errors: list[str] = []
    title = values.title.strip()
    if not title:
        errors.append("标题不能为空 / a title is required")
    if len(title) > limits.TITLE_MAX:
        errors.append(f"标题最多 {limits.TITLE_MAX} 字，现为 {len(title)} 字 / title too long")
    if len(values.author) > limits.AUTHOR_MAX:
        errors.append(f"作者最多 {limits.AUTHOR_MAX} 字 / author too long")
    if len(values.digest) > limits.DIGEST_MAX:
        errors.append(f"摘要最多 {limits.DIGEST_MAX} 字 / digest too long")
    if values.locality not in Article.Locality.values:
        errors.append(f"未知的内容属地 {values.locality!r} / unknown locality")
    if values.category not in Article.Category.values:
        errors.append(f"未知的类别 {values.category!r} / unknown category")
    if not values.original and not values.source_name.strip():
        errors.append("转载须注明来源 / a repost names its source")
    own = str(getattr(settings, "GOVWX_PUBLIC_URL", "") or "").rstrip("/")
    if (
        values.source_url
        and not values.source_url.startswith("https://")
        # a repost names its source's page on this site, whatever its scheme
        and not (own and values.source_url.startswith(own + "/"))
    ):
        errors.append("原文链接须为 HTTPS / the source link must be HTTPS")
    if values.cover is not None and (
        values.cover.account_id != account.pk or values.cover.kind != Material.Kind.IMAGE
    ):
        errors.append("封面须为本公众号素材库中的图片 / the cover is a picture of this account")
    if values.source_department is not None and (
        values.source_department.organisation_id != account.organisation_id
    ):
        errors.append("来源部门不属于本公众号的主办组织 / department of another organisation")
    if not isinstance(values.body, list):
        return errors + ["正文格式不正确 / the body is a list of blocks"]
    used = material_ids(values.body)
    materials = {m.pk: m for m in Material.objects.filter(account=account, pk__in=used)}
    for i, block in enumerate(values.body, 1):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            errors.append(f"第 {i} 段：未知的内容类型 {kind!r} / block {i}: unknown type")
            continue
        if kind == "text":
            errors += [f"第 {i} 段：{p.message}" for p in problems(str(block.get("html") or ""))]
        elif kind in ("image", "audio") or (kind == "video" and block.get("material")):
            want = {"image": Material.Kind.IMAGE, "audio": Material.Kind.VOICE,
                    "video": Material.Kind.VIDEO}[kind]  # fmt: skip
            m = materials.get(int(block.get("material") or 0))
            if m is None or m.kind != want:
                errors.append(f"第 {i} 段：素材不存在或类型不符 / block {i}: no such material")
        elif kind == "video":
            url = str(block.get("url") or "")
            host = url.split("://", 1)[-1].split("/", 1)[0].lower()
            if not url.startswith("https://") or not any(
                host == h or host.endswith("." + h) for h in limits.VIDEO_HOSTS
            ):
                errors.append(
                    f"第 {i} 段：视频须为素材库中的视频或腾讯视频（v.qq.com）的 HTTPS 链接 / "
                    f"block {i}: videos come from the library or v.qq.com"
                )
        else:  # h5, service, article: a link
            url = str(block.get("url") or "")
            if not url.startswith("https://") and not url.startswith("/"):
                errors.append(
                    f"第 {i} 段：链接须为 HTTPS：{url[:80]} / block {i}: links must be HTTPS"
                )
    html = render(values.body, materials, lambda m: f"/content/materials/{m.pk}/file")
    if len(html) >= limits.CONTENT_MAX_CHARS:
        errors.append(
            f"正文须少于 {limits.CONTENT_MAX_CHARS} 字符（含排版），现为 {len(html)} / body too long"
        )
    elif len(html.encode()) >= limits.CONTENT_MAX_BYTES:
        errors.append("正文须小于 1 MB / body over 1 MB")
    return errors


def _values(article: Article) -> dict[str, Any]:
    return {name: getattr(article, name) for name in FIELDS}


def _apply(article: Article, values: ArticleInput) -> None:
    article.title = values.title.strip()
    article.author = values.author.strip()
    article.digest = values.digest.strip()
    article.cover = values.cover
    article.source_department = values.source_department
    article.original = values.original
    article.source_name = values.source_name.strip()
    article.source_url = values.source_url.strip()
    article.locality = values.locality
    article.category = values.category
    article.body = values.body
    used = material_ids(values.body)
    materials = {m.pk: m for m in Material.objects.filter(account=article.account, pk__in=used)}
    # the WeChat article: pictures at their in-article URLs once uploaded (until then
    # this site's, replaced when it is sent)
    article.html = render(
        values.body, materials, lambda m: m.article_url or f"/content/materials/{m.pk}/file"
    )


def _snapshot(article: Article, actor: Any, note: str = "") -> Revision:
    return Revision.objects.create(
        article=article,
        number=article.revision,
        data={**_values(article), "html": article.html},
        author=actor if getattr(actor, "is_authenticated", False) else None,
        note=note,
    )


def create_article(account: Account, values: ArticleInput, *, actor: Any) -> Article:
    """A new draft, locked to its writer. A department liaison writes for their own
    department (information it provides)."""
    permissions.require(actor, account, "content.edit")
    if role_for(actor, account) in permissions.DEPARTMENT_SCOPED:
        dept = _liaison_department(actor, account)
        if values.source_department is None and dept is not None:
            values.source_department = Department.objects.get(pk=dept)
        if values.source_department is None or values.source_department.pk != dept:
            raise PermissionDenied(
                "部门联络员只能提交本部门的信息 / only your department's information"
            )
    errors = check(values, account)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        article = Article(account=account, created_by=actor, locked_by=actor, locked_at=now)
        _apply(article, values)
        article.save()
        _snapshot(article, actor, "新建")
        record("article.created", account=account, actor=actor, article=article.pk)
    return article


def lock_article(article: Article, *, actor: Any) -> Article:
    """Take (or renew) the article's lock for the actor: refused while another editor
    holds it and has saved or renewed within LOCK_FOR."""
    _require_edit(actor, article)
    now = timezone.now()
    with transaction.atomic():
        taken = (
            Article.objects.filter(pk=article.pk)
            .exclude(locked_by__isnull=False, locked_at__gt=now - LOCK_FOR, **{})
            .update(locked_by=actor, locked_at=now)
        ) or Article.objects.filter(pk=article.pk, locked_by=actor).update(locked_at=now)
    article.refresh_from_db()
    if not taken:
        raise Locked(article)
    return article


def unlock_article(article: Article, *, actor: Any, force: bool = False) -> None:
    """Let the article go (its editor), or take it from a lapsed or absent editor (an
    admin, `force`; audited)."""
    if force:
        permissions.require(actor, article.account, "content.publish")
        with transaction.atomic():
            Article.objects.filter(pk=article.pk).update(locked_by=None, locked_at=None)
            record("article.unlocked", account=article.account, actor=actor, article=article.pk,
                   holder=article.locked_by_id)  # fmt: skip
    else:
        Article.objects.filter(pk=article.pk, locked_by=actor).update(
            locked_by=None, locked_at=None
        )
    article.refresh_from_db()


def save_article(
    article: Article, values: ArticleInput, *, revision: int, actor: Any, note: str = ""
) -> Article:
    """Save the editor's text as a new revision. The editor must hold the lock (taken
    here when free) and name the revision they loaded."""
    _require_edit(actor, article)
    if article.status in (Article.Status.PUBLISHING, Article.Status.PUBLISHED):
        raise ValidationError("已发布的文章不能修改 / a published article cannot be changed")
    errors = check(values, article.account)
    if errors:
        raise ValidationError(errors)
    lock_article(article, actor=actor)
    with transaction.atomic():
        current = Article.objects.select_for_update().get(pk=article.pk)
        if current.revision != revision:
            raise Conflict(f"文章已被修改（第 {current.revision} 版）/ changed meanwhile")
        _apply(current, values)
        if current.status == Article.Status.FAILED:
            # changed after its approval: it goes through the workflow again
            current.status = Article.Status.DRAFT
        current.revision = F("revision") + 1
        current.locked_at = timezone.now()
        current.save()
        current.refresh_from_db()
        _snapshot(current, actor, note)
        record("article.saved", account=current.account, actor=actor, article=current.pk,
               revision=current.revision)  # fmt: skip
    return current


def restore_revision(article: Article, number: int, *, revision: int, actor: Any) -> Article:
    """Make an earlier revision the current text again (as a new revision)."""
    old = Revision.objects.filter(article=article, number=number).first()
    if old is None:
        raise ValidationError(f"没有第 {number} 版 / no revision {number}")
    d = old.data
    values = ArticleInput(
        title=d["title"], body=d["body"], author=d["author"], digest=d["digest"],
        cover=Material.objects.filter(pk=d["cover_id"]).first() if d["cover_id"] else None,
        source_department=Department.objects.filter(pk=d["source_department_id"]).first()
        if d["source_department_id"] else None,
        original=d["original"], source_name=d["source_name"], source_url=d["source_url"],
        locality=d["locality"], category=d["category"],
    )  # fmt: skip
    return save_article(article, values, revision=revision, actor=actor, note=f"恢复第 {number} 版")


def compare(article: Article, a: int, b: int) -> list[tuple[str, list[str]]]:
    """What changed from revision a to b: per field, a unified diff of its lines (the
    body as its HTML, one tag or sentence a line)."""
    revs = {r.number: r.data for r in Revision.objects.filter(article=article, number__in=[a, b])}
    if a not in revs or b not in revs:
        raise ValidationError("没有这两个版本 / no such revisions")
    out = []
    for name in ("title", "author", "digest", "source_name", "locality", "category", "html"):
        old, new = str(revs[a].get(name, "")), str(revs[b].get(name, ""))
        if old != new:
            split = (lambda s: s.replace("><", ">\n<").splitlines()) if name == "html" else (
                lambda s: [s]
            )  # fmt: skip
            lines = difflib.unified_diff(split(old), split(new), lineterm="", n=1)
            out.append((name, [x for x in list(lines)[2:] if not x.startswith("@@")]))
    return out
