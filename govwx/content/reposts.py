"""转载 in the matrix: an account reposts a published article of another account of its
family, and the family sees where its articles travelled.

The matrix (矩阵) of an account is the tree of organisations it belongs to, from the top
of its parent chain down: a province, its cities and their counties. Any account of the
tree may repost from any other (a county from its city or province, a city from a
county, one county from another), never from an account outside it, nor from itself,
nor an account with no organisation.

A repost is a new draft on the reposting account, written by `create_article` (so it is
checked, locked to its writer, revised and audited like any article): the body copied,
marked not original with the source account named and its H5 page linked, and the
pictures, audio and video it shows copied into the reposting account's material library
(the same stored file, a new row; one already there with the same SHA-256 is reused)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from govwx.accounts import permissions
from govwx.accounts.models import Account, Organisation
from govwx.accounts.services import record

from . import public
from .articles import ArticleInput, create_article
from .models import Article, Material

MAX_DEPTH = 10  # a parent chain longer than this is a loop in the data, not a matrix


def matrix_root(organisation_id: int) -> int:
    """The top organisation of the tree the organisation belongs to."""
    current = organisation_id
    for _ in range(MAX_DEPTH):
        parent = Organisation.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        if parent is None:
            return current
        current = parent
    return current


def matrix_organisations(account: Account) -> set[int]:
    """The organisations of the account's matrix (none without an organisation): one
    query per level of the tree."""
    if account.organisation_id is None:
        return set()
    found = {matrix_root(account.organisation_id)}
    level = set(found)
    for _ in range(MAX_DEPTH):
        level = (
            set(Organisation.objects.filter(parent_id__in=level).values_list("pk", flat=True))
            - found
        )
        if not level:
            break
        found |= level
    return found


def same_matrix(a: Account, b: Account) -> bool:
    if a.organisation_id is None or b.organisation_id is None:
        return False
    return matrix_root(a.organisation_id) == matrix_root(b.organisation_id)


def matrix_accounts(account: Account) -> Any:
    """The other active accounts of the account's matrix."""
    return (
        Account.objects.filter(organisation_id__in=matrix_organisations(account), is_active=True)
        .exclude(pk=account.pk)
        .order_by("name", "pk")
    )


def repostable(account: Account, limit: int = 50) -> list[Article]:
    """The latest published articles of the other accounts of the matrix (not their
    reposts of this account's own articles)."""
    return list(
        public.published()
        .filter(account__in=matrix_accounts(account))
        .exclude(reposted_from__account=account)
        .select_related("account")[:limit]
    )


def _copy_material(m: Material, to: Account, actor: Any) -> Material:
    copy, _created = Material.objects.get_or_create(
        account=to,
        sha256=m.sha256,
        defaults={
            "kind": m.kind, "title": m.title, "caption": m.caption, "tags": m.tags,
            "file": m.file.name, "content_type": m.content_type, "size": m.size,
            "width": m.width, "height": m.height, "thumbnail": m.thumbnail.name,
            "uploaded_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )  # fmt: skip
    return copy


def _refused(message: str) -> ValidationError:
    return ValidationError(message, code="repost")


def repost(source: Article, to_account: Account, *, actor: Any) -> Article:
    """转载: a draft on `to_account` copying a published article of another account of
    its matrix. Needs content.edit on `to_account`."""
    permissions.require(actor, to_account, "content.edit")
    if source.account_id == to_account.pk:
        raise _refused("不能转载本公众号自己的文章 / an account does not repost its own article")
    if not same_matrix(source.account, to_account):
        raise _refused(
            f"「{source.account.name}」不在本公众号的矩阵中，不能转载 / "
            "only articles of accounts of the same matrix can be reposted"
        )
    with transaction.atomic():
        # the source's row, locked: two reposts of it at once are one after the other
        current = Article.objects.select_for_update().filter(pk=source.pk).first()
        if (
            current is None
            or current.status != Article.Status.PUBLISHED
            or current.published_at is None
        ):
            raise _refused("只能转载已发布的文章 / only a published article can be reposted")
        back = current.reposted_from_id
        if back is not None and Article.objects.filter(pk=back, account=to_account).exists():
            raise _refused(
                "这篇文章转载自本公众号，不能再转载回来 / this repost is of this account's own article"
            )
        already = (
            Article.objects.filter(reposted_from=current, account=to_account)
            .exclude(status=Article.Status.WITHDRAWN)
            .first()
        )
        if already is not None:
            raise _refused(
                f"已转载过这篇文章（「{already.title}」，{already.get_status_display()}） / "
                "already reposted to this account"
            )
        used = public.used_materials(current)
        copies = {
            m.pk: _copy_material(m, to_account, actor)
            for m in Material.objects.filter(pk__in=used, account_id=current.account_id)
        }
        body = [_remap(block, copies) for block in current.body]
        cover = copies.get(current.cover_id) if current.cover_id else None
        draft = create_article(
            to_account,
            ArticleInput(
                title=current.title, body=body, author=current.author, digest=current.digest,
                cover=cover, original=False, source_name=source.account.name,
                source_url=public.page_url(current), locality=current.locality,
                category=current.category,
            ),
            actor=actor,
        )  # fmt: skip
        Article.objects.filter(pk=draft.pk).update(reposted_from=current)
        draft.reposted_from = current
        record(
            "article.reposted", account=to_account, actor=actor, article=draft.pk,
            source=current.pk, source_account=current.account_id,
            materials=sorted(c.pk for c in copies.values()),
        )  # fmt: skip
    return draft


def _remap(block: Any, copies: dict[int, Material]) -> Any:
    if not isinstance(block, dict) or "material" not in block:
        return block
    try:
        pk = int(block["material"])
    except (TypeError, ValueError):
        return block
    copy = copies.get(pk)
    return {**block, "material": copy.pk} if copy is not None else block


# ------------------------------------------------------------------ where it travelled


@dataclass(frozen=True)
class Hop:
    """One repost of an article (or of one of its reposts, `via`)."""

    article: Article
    account: Account
    status: str
    status_label: str
    published_at: datetime | None
    reads: int
    via: Article | None  # the repost it was reposted from, when not the article itself


@dataclass(frozen=True)
class Travel:
    article: Article
    hops: list[Hop]
    reach: int  # the article's own reads and every repost's

    @property
    def reposted(self) -> int:
        return len(self.hops)

    @property
    def published_reposts(self) -> int:
        return sum(1 for h in self.hops if h.status == Article.Status.PUBLISHED)


def travels(articles: Iterable[Article]) -> dict[int, Travel]:
    """For each article: its reposts in the matrix, and reposts of those, with their
    account, status, published date and reads, and the total reach. One query per
    level of reposting."""
    roots = {a.pk: a for a in articles}
    origin: dict[int, int] = {pk: pk for pk in roots}  # an article -> the root it came from
    hops: dict[int, list[Hop]] = {pk: [] for pk in roots}
    level = set(roots)
    seen = set(roots)
    for _ in range(MAX_DEPTH):
        if not level:
            break
        found = list(
            Article.objects.filter(reposted_from_id__in=level)
            .exclude(pk__in=seen)
            .select_related("account", "reposted_from")
            .order_by(F("published_at").asc(nulls_last=True), "id")
        )
        level = set()
        for a in found:
            assert a.reposted_from_id is not None
            root = origin[a.reposted_from_id]
            origin[a.pk] = root
            via = None if a.reposted_from_id == root else a.reposted_from
            hops[root].append(
                Hop(
                    a,
                    a.account,
                    a.status,
                    str(a.get_status_display()),
                    a.published_at,
                    a.reads,
                    via,
                )  # fmt: skip
            )
            level.add(a.pk)
            seen.add(a.pk)
    return {
        pk: Travel(article, hops[pk], article.reads + sum(h.reads for h in hops[pk]))
        for pk, article in roots.items()
    }


def travel(article: Article) -> Travel:
    return travels([article])[article.pk]
