"""The material library (素材库): pictures, audio and video uploaded once and reused in
articles.

A file is checked against WeChat's rules before anything is stored (limits.py): its real
format is read from its bytes (Pillow for pictures, the first bytes for audio and video;
the name and the browser's type may lie), then its size, and an audio's play time. A
picture over WeChat's size is made smaller (its long side to RESIZE_LONG_SIDE, JPEG at a
falling quality) instead of refused, and the result says so; an animated GIF cannot be
made smaller without losing its animation, so it is refused. The same file uploaded again
to the same account is the material already there (sha256 of the bytes as uploaded).

`push_material` gives a material to WeChat: its permanent material (material/add_material,
whose media_id an article's cover needs) and, for a picture, the in-article image API
(media/uploadimg, JPG or PNG of at most 1 MB: a smaller rendition is made when needed),
whose URL the article's HTML uses. Each step's result is stored as soon as WeChat gives
it, so a second push does not repeat it; a refusal is kept in words on the material.

Every write is permission-checked (materials.edit; a department liaison edits and deletes
only what they uploaded) and audited.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts import permissions
from govwx.accounts.models import Account, Membership
from govwx.accounts.services import record, role_for
from govwx.wechat.client import WeChatClient
from govwx.wechat.errors import InvalidMediaId, WeChatAPIError, in_words
from govwx.wechat.media import thumbnail as make_thumbnail
from govwx.wechat.models import media_storage

from . import limits
from .materials_files import (
    EXTENSIONS,
    UPLOAD_MAX_BYTES,
    MaterialRefused,
    check_file,
    shrink,
    too_large,
)
from .models import Article, MassSend, Material
from .render import material_ids

log = logging.getLogger(__name__)

TITLE_MAX = Material._meta.get_field("title").max_length or 64
CAPTION_MAX = Material._meta.get_field("caption").max_length or 120
TAGS_MAX = Material._meta.get_field("tags").max_length or 200
TAG_MAX = 20
# a push that has not finished in this time (a killed worker) may be claimed again
PUSH_LEASE = timedelta(minutes=5)


class MaterialInUse(ValidationError):
    """A material that articles or mass sends still use cannot be deleted."""


class PushFailed(WeChatAPIError):
    """WeChat refused a push (or could not be reached). str() is the refusal in words
    (also kept on the material); errcode, errmsg and retryable are WeChat's, so that a
    caller handling WeChat's errors handles this one too."""

    def __init__(self, cause: WeChatAPIError, text: str) -> None:
        super().__init__(cause.errcode, cause.errmsg, cause.data)
        self.text = text
        self.retryable = cause.retryable
        self.retry_after = cause.retry_after

    def __str__(self) -> str:
        return self.text


class PushBusy(Exception):
    """Another push of the same material is under way."""


@dataclass
class Uploaded:
    """What became of one upload: the material, whether it is new (or the same file was
    already in the library), and what was done to it (a picture made smaller)."""

    material: Material
    created: bool
    resized: bool = False
    note: str = ""

    @property
    def message(self) -> str:
        if not self.created:
            return _(
                "「%(title)s」已在素材库中（同一文件），未重复上传 / already in the library"
            ) % {"title": self.material.title}
        text = _("已上传「%(title)s」 / uploaded") % {"title": self.material.title}
        return f"{text}；{self.note}" if self.note else text


@dataclass
class Use:
    """An article (or a mass send) that uses a material, and how."""

    article: Article | None
    mass_send: MassSend | None
    where: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        if self.article is not None:
            return self.article.title
        assert self.mass_send is not None
        return _("群发 #%(n)d") % {"n": self.mass_send.pk}


# ------------------------------------------------------------------ access


def _liaison_department(actor: Any, account: Account) -> int | None:
    """The department of a department liaison (None for everyone else)."""
    if role_for(actor, account) not in permissions.DEPARTMENT_SCOPED:
        return None
    found = Membership.objects.filter(user=actor, account=account).values_list(
        "department_id", flat=True
    )
    return found.first() or -1


def change_check(actor: Any, account: Account) -> Callable[[Material], bool]:
    """Whether the person may edit or delete a material of the account: materials.edit,
    and for a department liaison only what they uploaded (the role looked up once, for
    a page of materials)."""
    role = role_for(actor, account)
    if not permissions.role_has(role, "materials.edit"):
        return lambda m: False
    if role in permissions.DEPARTMENT_SCOPED:
        return lambda m: bool(m.uploaded_by_id) and m.uploaded_by_id == actor.pk
    return lambda m: True


def may_change(actor: Any, material: Material) -> bool:
    return change_check(actor, material.account)(material)


def _require_change(actor: Any, material: Material) -> None:
    permissions.require(actor, material.account, "materials.edit")
    if not may_change(actor, material):
        raise PermissionDenied(
            _(
                "部门联络员只能修改、删除自己上传的素材 / "
                "a department liaison edits and deletes only what they uploaded"
            )
        )


def account_of_material(pk: int) -> int | None:
    return Material.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def get_material(actor: Any, account: Account, pk: int) -> Material:
    """A material of the account for a person with materials.view on it;
    Material.DoesNotExist for any other."""
    permissions.require(actor, account, "materials.view")
    return Material.objects.select_related("account", "uploaded_by").get(account=account, pk=pk)


def parse_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags from what a person typed: split at spaces and commas, without a leading #,
    each once, in their order."""
    words = re.split(r"[\s,，、;；]+", tags) if isinstance(tags, str) else list(tags)
    found: list[str] = []
    for word in words:
        word = str(word).strip().lstrip("#＃").strip()
        if word and word not in found:
            found.append(word)
    return found


def _clean_text(title: str, caption: str, tags: str | Iterable[str]) -> tuple[str, str, str]:
    title, caption = title.strip(), caption.strip()
    tag_list = parse_tags(tags)
    errors = []
    if not title:
        errors.append(_("名称不能为空 / a title is required"))
    if len(title) > TITLE_MAX:
        errors.append(
            _("名称最多 %(max)d 字，现为 %(n)d 字 / the title is too long")
            % {"max": TITLE_MAX, "n": len(title)}
        )
    if len(caption) > CAPTION_MAX:
        errors.append(
            _("图片说明最多 %(max)d 字，现为 %(n)d 字 / the caption is too long")
            % {"max": CAPTION_MAX, "n": len(caption)}
        )
    long_tags = [t for t in tag_list if len(t) > TAG_MAX]
    if long_tags:
        errors.append(
            _("每个标签最多 %(max)d 字：%(tags)s / a tag is too long")
            % {"max": TAG_MAX, "tags": "、".join(long_tags)}
        )
    joined = " ".join(tag_list)
    if len(joined) > TAGS_MAX:
        errors.append(_("标签合计最多 %(max)d 字 / too many tags") % {"max": TAGS_MAX})
    if errors:
        raise ValidationError(errors)
    return title, caption, joined


def _default_title(filename: str, kind: str) -> str:
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = stem.strip()[:TITLE_MAX]
    if stem:
        return stem
    label = Material.Kind(kind).label
    return f"{label} {timezone.localtime():%Y-%m-%d %H:%M}"


# ------------------------------------------------------------------ writes


def upload(
    account: Account,
    file: bytes | UploadedFile,
    *,
    kind: str | None = None,
    title: str = "",
    caption: str = "",
    tags: str | Iterable[str] = "",
    actor: Any,
    filename: str = "",
) -> Uploaded:
    """Put a file in the account's library: checked against WeChat's rules, a picture
    made smaller when it is over WeChat's size, stored with a picture's thumbnail;
    the same file uploaded again is the material already there. MaterialRefused (a
    ValidationError) when the file is not one WeChat takes, and nothing is stored."""
    permissions.require(actor, account, "materials.edit")
    if isinstance(file, UploadedFile):
        filename = filename or file.name or ""
        if file.size is not None and file.size > UPLOAD_MAX_BYTES:
            raise MaterialRefused(too_large(file.size))
        content = b"".join(file.chunks())
    else:
        content = bytes(file)
    if kind == "":
        kind = None
    if kind is not None and kind not in Material.Kind.values:
        raise MaterialRefused(_("未知的素材类型 %(kind)r / unknown kind") % {"kind": kind})
    sha = hashlib.sha256(content).hexdigest()
    existing = Material.objects.filter(account=account, sha256=sha).first()
    if existing is not None:
        return Uploaded(existing, created=False)
    checked = check_file(content, kind)
    title, caption, tag_text = _clean_text(
        title or _default_title(filename, checked.kind), caption, tags
    )
    storage = media_storage()
    stem = f"content/{account.pk}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    names = [storage.save(f"{stem}.{checked.extension}", ContentFile(checked.content))]
    try:
        small = make_thumbnail(checked.content) if checked.kind == Material.Kind.IMAGE else None
        if small is not None:
            names.append(storage.save(f"{stem}-thumb.jpg", ContentFile(small)))
        with transaction.atomic():
            material = Material.objects.create(
                account=account,
                kind=checked.kind,
                title=title,
                caption=caption,
                tags=tag_text,
                file=names[0],
                thumbnail=names[1] if len(names) > 1 else "",
                content_type=checked.content_type,
                size=len(checked.content),
                width=checked.width,
                height=checked.height,
                sha256=sha,
                uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            record(
                "material.uploaded",
                account=account,
                actor=actor,
                material=material.pk,
                kind=material.kind,
                title=title,
                size=material.size,
                original_size=len(content),
                resized=checked.resized,
            )
    except IntegrityError:
        # the same file, uploaded at the same moment by someone else
        _delete_files(names)
        existing = Material.objects.filter(account=account, sha256=sha).first()
        if existing is None:
            raise
        return Uploaded(existing, created=False)
    except BaseException:
        _delete_files(names)
        raise
    return Uploaded(material, created=True, resized=checked.resized, note=checked.note)


def _delete_files(names: Iterable[str | None]) -> None:
    storage = media_storage()
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - a file already gone is what we wanted
            log.warning("could not delete media file %s", name)


def edit_material(
    material: Material, *, title: str, caption: str, tags: str | Iterable[str], actor: Any
) -> Material:
    """Change a material's title, caption (what the picture shows) and tags."""
    _require_change(actor, material)
    title, caption, tag_text = _clean_text(title, caption, tags)
    before = {"title": material.title, "caption": material.caption, "tags": material.tags}
    after = {"title": title, "caption": caption, "tags": tag_text}
    changed = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if not changed:
        return material
    with transaction.atomic():
        Material.objects.filter(pk=material.pk).update(**after)
        record(
            "material.edited",
            account=material.account,
            actor=actor,
            material=material.pk,
            changed=changed,
        )
    material.title, material.caption, material.tags = title, caption, tag_text
    return material


def where_used(material: Material) -> list[Use]:
    """The articles that use the material (as cover, or in a block of the body) and the
    mass sends of it. The database narrows the account's articles to those whose body
    names it (the same pattern on SQLite's JSON text and PostgreSQL's jsonb text);
    each is then confirmed by reading the body."""
    pattern = rf'"material":\s*"?{material.pk}"?\s*[,}}]'
    found = (
        Article.objects.filter(account_id=material.account_id)
        .alias(body_text=Cast("body", TextField()))
        .filter(Q(cover_id=material.pk) | Q(body_text__regex=pattern))
        .only("pk", "title", "status", "cover_id", "body", "source_department_id")
        .order_by("-updated_at", "-pk")
    )
    uses: list[Use] = []
    for article in found:
        where = []
        if article.cover_id == material.pk:
            where.append(_("封面"))
        if isinstance(article.body, list) and material.pk in material_ids(
            [b for b in article.body if isinstance(b, dict)]
        ):
            where.append(_("正文"))
        if where:
            uses.append(Use(article, None, where))
    for send in MassSend.objects.filter(image=material).order_by("-pk"):
        uses.append(Use(None, send, [_("群发图片")]))
    return uses


def uses_for(actor: Any, material: Material) -> tuple[list[Use], int]:
    """The uses of a material that the person may see, and how many others there are (a
    department liaison sees only their department's articles)."""
    return _visible(actor, material, where_used(material))


def _visible(actor: Any, material: Material, uses: list[Use]) -> tuple[list[Use], int]:
    department = _liaison_department(actor, material.account)
    if department is None:
        return uses, 0
    seen = [
        u for u in uses if u.article is not None and u.article.source_department_id == department
    ]
    return seen, len(uses) - len(seen)


def _in_use_message(material: Material, uses: list[Use], hidden: int) -> str:
    names = "、".join(f"《{u.title}》" for u in uses[:5])
    more = max(0, len(uses) - 5) + hidden
    if more > 0:
        names += _("等另外 %(n)d 处") % {"n": more} if names else _("%(n)d 处") % {"n": more}
    return _(
        "「%(title)s」正被使用，不能删除：%(names)s。请先从这些文章中移除它 / "
        "in use by %(count)d article(s) or mass send(s): remove it there first"
    ) % {"title": material.title, "names": names, "count": len(uses) + hidden}


def delete_material(material: Material, *, actor: Any, client: WeChatClient | None = None) -> None:
    """Delete a material that nothing uses: refused, naming the articles, while any
    article (cover or body) or mass send uses it. A material WeChat has is deleted
    there first; if WeChat refuses (a menu or auto-reply shows it), it stays here too."""
    _require_change(actor, material)
    uses, hidden = uses_for(actor, material)
    if uses or hidden:
        raise MaterialInUse(_in_use_message(material, uses, hidden))
    if material.wechat_media_id:
        try:
            (client or WeChatClient(material.account)).delete_material(material.wechat_media_id)
        except InvalidMediaId:
            pass  # WeChat no longer has it: nothing to delete there
        except WeChatAPIError as exc:
            raise MaterialRefused(
                _("微信素材库中的副本未能删除，素材保留：%(error)s / kept: WeChat refused")
                % {"error": in_words(exc)}
            ) from exc
    with transaction.atomic():
        locked = Material.objects.select_for_update().filter(pk=material.pk).first()
        if locked is None:
            return
        uses = where_used(locked)  # an article may have taken it up meanwhile
        if uses:
            # WeChat's copy is gone: the next push makes a new one
            Material.objects.filter(pk=locked.pk).update(
                wechat_media_id="", wechat_url="", push_error=""
            )
        else:
            try:
                with transaction.atomic():
                    _delete_row(locked, actor)
            except ProtectedError as exc:  # a row of another app that points at it
                raise MaterialInUse(
                    _("「%(title)s」正被使用，不能删除 / in use: cannot be deleted")
                    % {"title": locked.title}
                ) from exc
    if uses:
        raise MaterialInUse(_in_use_message(locked, *_visible(actor, locked, uses)))


def _delete_row(locked: Material, actor: Any) -> None:
    # a repost's copy of a material names the same files: they stay while a row does
    shared = Material.objects.exclude(pk=locked.pk)
    names = [
        name
        for name in (locked.file.name, locked.thumbnail.name)
        if name and not shared.filter(Q(file=name) | Q(thumbnail=name)).exists()
    ]
    record(
        "material.deleted",
        account=locked.account,
        actor=actor,
        material=locked.pk,
        title=locked.title,
        kind=locked.kind,
        sha256=locked.sha256,
        wechat_media_id=locked.wechat_media_id,
    )
    locked.delete()
    # the files go once the row is surely gone
    transaction.on_commit(lambda: _delete_files(names))


# ------------------------------------------------------------------ WeChat


def is_pushed(material: Material) -> bool:
    """WeChat has all of it: the permanent material, and a picture's in-article URL."""
    if not material.wechat_media_id:
        return False
    return material.kind != Material.Kind.IMAGE or bool(material.article_url)


def push_state(material: Material) -> str:
    """synced · failed · pushing · unsynced, for the console."""
    if is_pushed(material):
        return "synced"
    if material.pushing_since and material.pushing_since > timezone.now() - PUSH_LEASE:
        return "pushing"
    if material.push_error:
        return "failed"
    return "unsynced"


def article_rendition(content: bytes, content_type: str) -> tuple[bytes, str]:
    """The picture as media/uploadimg takes it (JPG or PNG of at most 1 MB): itself
    when it is one, else a JPEG made to fit. Returns (bytes, content type)."""
    if (
        content_type in limits.ARTICLE_IMAGE_FORMATS.values()
        and len(content) <= limits.ARTICLE_IMAGE_MAX_BYTES
    ):
        return content, content_type
    return shrink(content, limits.ARTICLE_IMAGE_MAX_BYTES), "image/jpeg"


def _read(material: Material) -> bytes:
    with media_storage().open(material.file.name, "rb") as handle:
        data: bytes = handle.read()
        return data


def push_material(
    material: Material, *, actor: Any = None, client: WeChatClient | None = None
) -> Material:
    """Give the material to WeChat: its permanent material (media_id, and URL) and, for a
    picture, its in-article URL. What is already there is not sent again; each result is
    stored as soon as WeChat gives it. PushFailed (the message in words, also kept on the
    material) when WeChat refuses or cannot be reached; PushBusy when a push of the same
    material is under way."""
    account = material.account
    if actor is not None:
        permissions.require(actor, account, "materials.edit")
    material.refresh_from_db()
    if is_pushed(material):
        return material
    now = timezone.now()
    claimed = (
        Material.objects.filter(pk=material.pk)
        .filter(Q(pushing_since__isnull=True) | Q(pushing_since__lt=now - PUSH_LEASE))
        .update(pushing_since=now)
    )
    if not claimed:
        raise PushBusy(_("正在同步到微信，请稍后刷新 / a push is under way"))
    material.refresh_from_db()
    client = client or WeChatClient(account)
    step = "add_material"
    try:
        content = _read(material)
        if not material.wechat_media_id:
            media_id, url = client.add_material(
                material.kind,
                f"material-{material.pk}.{EXTENSIONS.get(material.content_type, 'bin')}",
                content,
                material.content_type,
                title=material.title if material.kind == Material.Kind.VIDEO else "",
                introduction=material.caption if material.kind == Material.Kind.VIDEO else "",
            )
            Material.objects.filter(pk=material.pk).update(
                wechat_media_id=media_id, wechat_url=url or ""
            )
            material.wechat_media_id, material.wechat_url = media_id, url or ""
        if material.kind == Material.Kind.IMAGE and not material.article_url:
            step = "uploadimg"
            data, ctype = article_rendition(content, material.content_type)
            url = client.upload_article_image(
                f"material-{material.pk}.{EXTENSIONS[ctype]}", data, ctype
            )
            Material.objects.filter(pk=material.pk).update(article_url=url)
            material.article_url = url
    except WeChatAPIError as exc:
        error = in_words(exc)
        with transaction.atomic():
            Material.objects.filter(pk=material.pk).update(
                push_error=error[:255], pushing_since=None
            )
            record(
                "material.push_failed",
                account=account,
                actor=actor,
                material=material.pk,
                step=step,
                errcode=exc.errcode,
                errmsg=exc.errmsg,
            )
        material.push_error, material.pushing_since = error[:255], None
        raise PushFailed(exc, error) from exc
    except BaseException:
        Material.objects.filter(pk=material.pk).update(pushing_since=None)
        raise
    with transaction.atomic():
        Material.objects.filter(pk=material.pk).update(push_error="", pushing_since=None)
        record(
            "material.pushed",
            account=account,
            actor=actor,
            material=material.pk,
            wechat_media_id=material.wechat_media_id,
            article_url=material.article_url,
        )
    material.push_error, material.pushing_since = "", None
    return material


# ------------------------------------------------------------------ reading


def search(
    actor: Any,
    account: Account,
    *,
    q: str = "",
    kind: str = "",
    tag: str = "",
    uploader: int | None = None,
    state: str = "",
) -> QuerySet[Material]:
    """The account's materials, newest first: every word of `q` in the title, caption or
    tags; of a kind; with a tag; uploaded by someone; synced, unsynced or failed."""
    permissions.require(actor, account, "materials.view")
    qs = Material.objects.filter(account=account).select_related("uploaded_by")
    for word in q.split()[:8]:
        qs = qs.filter(
            Q(title__icontains=word) | Q(caption__icontains=word) | Q(tags__icontains=word)
        )
    if kind in Material.Kind.values:
        qs = qs.filter(kind=kind)
    tag = tag.strip().lstrip("#＃")
    if tag:
        qs = qs.filter(
            Q(tags=tag)
            | Q(tags__startswith=tag + " ")
            | Q(tags__endswith=" " + tag)
            | Q(tags__contains=f" {tag} ")
        )
    if uploader is not None:
        qs = qs.filter(uploaded_by_id=uploader)
    synced = Q(wechat_media_id__gt="") & (~Q(kind=Material.Kind.IMAGE) | Q(article_url__gt=""))
    if state == "synced":
        qs = qs.filter(synced)
    elif state == "failed":
        qs = qs.exclude(synced).exclude(push_error="")
    elif state == "unsynced":
        qs = qs.exclude(synced).filter(push_error="")
    return qs.order_by("-created_at", "-id")


def uploaders(account: Account) -> list[tuple[int, str]]:
    """The people who uploaded the account's materials: (id, name)."""
    from django.contrib.auth import get_user_model

    ids = (
        Material.objects.filter(account=account, uploaded_by__isnull=False)
        .values_list("uploaded_by_id", flat=True)
        .distinct()
    )
    users = get_user_model().objects.filter(pk__in=ids).order_by("username")
    return [(u.pk, u.get_full_name() or u.get_username()) for u in users]


def tags_of(account: Account, limit: int = 30) -> list[str]:
    """The account's most used tags."""
    counts: dict[str, int] = {}
    for text in (
        Material.objects.filter(account=account)
        .exclude(tags="")
        .values_list("tags", flat=True)[:2000]
    ):
        for tag in text.split():
            counts[tag] = counts.get(tag, 0) + 1
    return [t for t, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
