"""The material library's console pages: the grid (search, kind, tag, uploader, WeChat
status), the upload form (several files at once), a material's page (preview, edit,
where used, push to WeChat or retry, delete) and its file, served only to people with
materials.view on its account.

The writes are `materials`' services; these views read the form, call one service and
show what it said."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import can, console_view
from govwx.wechat.models import media_storage

from . import limits, materials
from .materials_files import UPLOAD_MAX_BYTES
from .models import Material

PER_PAGE = 48
# files one upload form takes at once
MAX_FILES = 20
STATES = {
    "synced": gettext_lazy("已同步"),
    "unsynced": gettext_lazy("未同步"),
    "failed": gettext_lazy("同步失败"),
    "pushing": gettext_lazy("同步中"),
}


def _text(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or _("操作不被允许")


def _material(request: HttpRequest, account: Account, pk: int) -> Material:
    try:
        return materials.get_material(request.user, account, pk)
    except Material.DoesNotExist as exc:
        raise Http404("no such material") from exc


def _back(request: HttpRequest, default: str) -> str:
    """Where a form sends the person back to: its `next` (on this site) or `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


@dataclass
class Tile:
    material: Material
    state: str
    can_change: bool


@console_view("materials.view")
@require_GET
def material_list(request: HttpRequest, account: Account) -> HttpResponse:
    """素材库: the account's materials in a grid, newest first."""
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "")
    tag = request.GET.get("tag", "").strip()[:20]
    state = request.GET.get("state", "")
    try:
        uploader: int | None = int(request.GET.get("uploader", ""))
    except ValueError:
        uploader = None
    qs = materials.search(
        request.user, account, q=q, kind=kind, tag=tag, uploader=uploader, state=state
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    editor = can(request.user, account, "materials.edit")
    may_change = materials.change_check(request.user, account)
    tiles = [Tile(m, materials.push_state(m), may_change(m)) for m in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "content/materials_list.html",
        {
            "page": page,
            "tiles": tiles,
            "query": query.urlencode(),
            "q": q,
            "kind": kind,
            "tag": tag,
            "state": state,
            "uploader": uploader,
            "kinds": Material.Kind.choices,
            "states": [(k, v) for k, v in STATES.items() if k != "pushing"],
            "uploaders": materials.uploaders(account),
            "tags": materials.tags_of(account),
            "editor": editor,
            "filtered": bool(q or kind or tag or state or uploader),
        },
    )


@dataclass
class Outcome:
    """One file of an upload: its name, and what became of it."""

    name: str
    ok: bool
    message: str
    material: Material | None = None


@console_view("materials.edit")
def material_upload(request: HttpRequest, account: Account) -> HttpResponse:
    """Upload one file or several: each is checked, stored (or found already stored)
    or refused with the reason."""
    outcomes: list[Outcome] = []
    values = {"kind": "", "title": "", "caption": "", "tags": ""}
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        files = request.FILES.getlist("files")
        if not files:
            error = _("请选择要上传的文件 / choose a file to upload")
        elif len(files) > MAX_FILES:
            error = _("一次最多上传 %(n)d 个文件 / at most %(n)d files at once") % {"n": MAX_FILES}
        else:
            outcomes = [_upload_one(request, account, f, values, len(files)) for f in files]
        created = [o for o in outcomes if o.ok]
        if outcomes and all(o.ok for o in outcomes):
            for o in outcomes:
                messages.success(request, o.message)
            if len(created) == 1 and created[0].material is not None:
                return redirect("content:material", pk=created[0].material.pk)
            return redirect("content:materials")
    return render(
        request,
        "content/materials_upload.html",
        {
            "outcomes": outcomes,
            "values": values,
            "error": error,
            "kinds": Material.Kind.choices,
            "limits": limits,
            "upload_max_mb": UPLOAD_MAX_BYTES // (1024 * 1024),
            "max_files": MAX_FILES,
        },
    )


def _upload_one(
    request: HttpRequest, account: Account, file: Any, values: dict[str, str], count: int
) -> Outcome:
    name = str(getattr(file, "name", "") or "")
    try:
        done = materials.upload(
            account,
            file,
            kind=values["kind"] or None,
            # a title typed in the form names a single file; several keep their names
            title=values["title"] if count == 1 else "",
            caption=values["caption"],
            tags=values["tags"],
            actor=request.user,
        )
    except (ValidationError, PermissionDenied) as exc:
        return Outcome(name, False, _text(exc))
    return Outcome(name, True, done.message, done.material)


@console_view("materials.view", account_of=materials.account_of_material)
@require_GET
def material_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    material = _material(request, account, pk)
    return _detail(request, material)


def _detail(
    request: HttpRequest,
    material: Material,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
) -> HttpResponse:
    uses, hidden = materials.uses_for(request.user, material)
    return render(
        request,
        "content/materials_detail.html",
        {
            "m": material,
            "state": materials.push_state(material),
            "states": STATES,
            "uses": uses,
            "hidden_uses": hidden,
            "can_change": materials.may_change(request.user, material),
            "can_push": can(request.user, material.account, "materials.edit"),
            "values": values
            or {"title": material.title, "caption": material.caption, "tags": material.tags},
            "errors": errors or [],
            "tag_list": material.tags.split(),
        },
        status=400 if errors else 200,
    )


@console_view("materials.edit", account_of=materials.account_of_material)
@require_POST
def material_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    material = _material(request, account, pk)
    values = {k: request.POST.get(k, "") for k in ("title", "caption", "tags")}
    try:
        materials.edit_material(material, actor=request.user, **values)
    except PermissionDenied as exc:
        messages.error(request, _text(exc))
        return redirect("content:material", pk=material.pk)
    except ValidationError as exc:
        return _detail(request, material, values=values, errors=exc.messages)
    messages.success(request, _("已保存「%(title)s」 / saved") % {"title": material.title})
    return redirect("content:material", pk=material.pk)


@console_view("materials.edit", account_of=materials.account_of_material)
@require_POST
def material_push(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """Push (or retry pushing) the material to WeChat."""
    material = _material(request, account, pk)
    back = _back(request, reverse("content:material", args=[material.pk]))
    if materials.is_pushed(material):
        messages.info(
            request, _("「%(title)s」已同步到微信 / already on WeChat") % {"title": material.title}
        )
        return redirect(back)
    try:
        materials.push_material(material, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _text(exc))
    except (materials.PushFailed, materials.PushBusy) as exc:
        text = str(exc)
        messages.error(
            request,
            _("「%(title)s」未能同步到微信：%(error)s") % {"title": material.title, "error": text},
        )
    else:
        messages.success(
            request, _("「%(title)s」已同步到微信 / pushed to WeChat") % {"title": material.title}
        )
    return redirect(back)


@console_view("materials.edit", account_of=materials.account_of_material)
@require_POST
def material_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    material = _material(request, account, pk)
    title = material.title
    try:
        materials.delete_material(material, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _text(exc))
        return redirect("content:material", pk=material.pk)
    messages.success(request, _("已删除「%(title)s」 / deleted") % {"title": title})
    return redirect("content:materials")


@console_view("materials.view", account_of=materials.account_of_material)
@require_GET
def material_file(request: HttpRequest, account: Account, pk: int) -> FileResponse:
    """The material's file (or with ?thumb=1 a picture's thumbnail), for people with
    materials.view on its account; never at a public address."""
    material = _material(request, account, pk)
    thumb = request.GET.get("thumb") == "1" and bool(material.thumbnail.name)
    name = (material.thumbnail.name if thumb else material.file.name) or ""
    if not name:
        raise Http404("no file")
    try:
        handle = media_storage().open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("file missing") from exc
    content_type = "image/jpeg" if thumb else material.content_type
    ext = name.rsplit(".", 1)[-1]
    # pictures, video and MP3/WAV show in the page; WMA and AMR (no browser plays them)
    # are a download
    inline = content_type.startswith(("image/", "video/")) or content_type in (
        "audio/mpeg",
        "audio/wav",
    )
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=f"material-{material.pk}.{ext}",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
