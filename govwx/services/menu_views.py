"""The custom-menu pages: the builder with its phone preview, the versions, publish and
restore. The builder posts the tree as JSON; `menu.validate_tree` is the judge."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import can, console_view
from govwx.lib import textcheck

from . import catalogue, menu
from .models import Category, MenuVersion


def _version(account: Account, pk: int) -> MenuVersion:
    try:
        return menu.get_version(account, pk)
    except MenuVersion.DoesNotExist as exc:
        raise Http404(_("没有这个菜单版本")) from exc


def _parse(raw: str, default: Any) -> Any:
    try:
        return json.loads(raw) if raw.strip() else default
    except ValueError as exc:
        raise menu.MenuInvalid(_("菜单数据不是有效的 JSON / the menu is not valid JSON")) from exc


def _int(raw: str | None) -> int | None:
    """A number the builder posted; anything else is -1, which matches no draft (a
    conflict, never a skipped check)."""
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return -1


@console_view("menu.view")
def menu_builder(request: HttpRequest, account: Account) -> HttpResponse:
    latest = menu.latest_version(account)
    tree: Any = latest.tree if latest else {"button": []}
    conditional: Any = latest.conditional if latest else []
    draft = latest if latest and latest.status == MenuVersion.Status.DRAFT else None
    note = draft.note if draft else ""
    # What the builder loaded: a save naming another draft or revision is a conflict.
    loaded = {"draft": draft.number if draft else "", "revision": draft.revision if draft else 0}
    error = ""
    status = 200
    refused = None
    if request.method == "POST":
        if not can(request.user, account, "menu.edit"):
            raise PermissionDenied
        note = request.POST.get("note", "").strip()
        loaded = {
            "draft": request.POST.get("draft", ""),
            "revision": request.POST.get("revision", ""),
        }
        warnings: list[textcheck.Found] = []
        try:
            tree = _parse(request.POST.get("tree", ""), {"button": []})
            conditional = _parse(request.POST.get("conditional", ""), [])
            version = menu.save_menu_draft(
                account,
                tree,
                conditional,
                actor=request.user,
                note=note,
                draft=_int(request.POST.get("draft")),
                revision=_int(request.POST.get("revision")),
                dismissing=textcheck.posted_dismiss(request.POST),
                warnings=warnings,
            )
        except menu.MenuDraftConflict as exc:
            error, status = str(exc.message), 409
        except menu.MenuInvalid as exc:
            error, status = str(exc.message), 400
        except textcheck.TextRefused as exc:
            refused, status = exc, 400
        else:
            messages.success(
                request, _("已保存草稿（版本 %(n)s），可以发布了。") % {"n": version.number}
            )
            textcheck.warn(request, warnings)
            return redirect("services:menu")
    answers = menu.click_answers(account)
    setup = {
        "tree": tree,
        "conditional": conditional,
        "services": [{"code": s.code, "name": s.name} for s in catalogue.services_for(account)],
        "categories": [{"value": v, "label": str(label)} for v, label in Category.choices],
        "kinds": [{"value": k, "label": _(label)} for k, label in menu.KINDS.items()],
        "tags": menu.account_tags(account),
        "click_answers": answers,
        "tags_url": reverse("services:menu_tags"),
        "tags_refresh_url": reverse("services:menu_tags_refresh"),
        "limits": {
            "top": menu.MAX_TOP,
            "sub": menu.MAX_SUB,
            "top_bytes": menu.TOP_NAME_BYTES,
            "sub_bytes": menu.SUB_NAME_BYTES,
            "key_bytes": menu.KEY_BYTES,
            "url_bytes": menu.URL_BYTES,
            "conditional": menu.MAX_CONDITIONAL,
        },
        "hub_url": catalogue.hub_url(account),
    }
    return render(
        request,
        "services/menu.html",
        {
            "setup": setup,
            "click_answers": answers,
            "error": error,
            "refused": refused,
            "note": note,
            "draft": draft,
            "loaded": loaded,
            "current": menu.current_version(account),
        },
        status=status,
    )


@console_view("menu.view")
def menu_tags(request: HttpRequest, account: Account) -> JsonResponse:
    """The follower tags for conditional menus as last read from WeChat, with when
    (`read_at`) and why the last reading failed (`error`)."""
    return JsonResponse(menu.tags_state(account), json_dumps_params={"ensure_ascii": False})


@require_POST
@console_view("menu.edit")
def menu_tags_refresh(request: HttpRequest, account: Account) -> HttpResponse:
    """从微信读取标签: queued; the builder then asks `menu_tags` until a reading at or
    after `requested_at` is there."""
    requested_at = menu.request_tags_refresh(account, actor=request.user)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {"requested_at": requested_at, "tags_url": reverse("services:menu_tags")},
            status=202,
        )
    messages.success(request, _("已开始从微信读取粉丝标签，稍后刷新本页即可看到。"))
    return redirect("services:menu")


@console_view("menu.view")
def menu_versions(request: HttpRequest, account: Account) -> HttpResponse:
    versions = list(
        MenuVersion.objects.filter(account=account)
        .select_related("created_by", "published_by", "restored_from")
        .order_by("-number")[:100]
    )
    now = timezone.now()
    for v in versions:
        v.interrupted = menu.is_interrupted(v, now)  # type: ignore[attr-defined]
    return render(
        request,
        "services/menu_versions.html",
        {"versions": versions, "current": menu.current_version(account)},
    )


@require_POST
@console_view("menu.publish")
def menu_publish(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    version = _version(account, pk)
    try:
        menu.publish_menu(version, actor=request.user)
    except menu.MenuInvalid as exc:
        messages.error(request, str(exc.message))
    except menu.MenuPublishFailed as exc:
        messages.error(request, _("发布失败：%(e)s") % {"e": exc.version.error})
    else:
        messages.success(request, _("版本 %(n)s 已发布。") % {"n": version.number})
    return redirect("services:menu_versions")


@require_POST
@console_view("menu.publish")
def menu_republish(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """重新发布 a version whose publish was interrupted."""
    version = _version(account, pk)
    try:
        menu.republish_menu(version, actor=request.user)
    except menu.MenuInvalid as exc:
        # no longer valid: the version says too what became of the menu followers see
        failed = version.status == MenuVersion.Status.FAILED and version.error
        messages.error(request, version.error if failed else str(exc.message))
    except menu.MenuPublishFailed as exc:
        messages.error(request, _("重新发布失败：%(e)s") % {"e": exc.version.error})
    else:
        messages.success(request, _("版本 %(n)s 已重新发布。") % {"n": version.number})
    return redirect("services:menu_versions")


@require_POST
@console_view("menu.publish")
def menu_restore(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    version = _version(account, pk)
    try:
        copy = menu.restore_menu_version(version, actor=request.user)
    except menu.MenuInvalid as exc:
        messages.error(request, str(exc.message))
    except menu.MenuPublishFailed as exc:
        messages.error(
            request,
            _("恢复的版本 %(n)s 发布失败：%(e)s")
            % {"n": exc.version.number, "e": exc.version.error},
        )
    else:
        messages.success(
            request,
            _("已将版本 %(old)s 恢复为版本 %(new)s 并发布。")
            % {"old": version.number, "new": copy.number},
        )
    return redirect("services:menu_versions")
