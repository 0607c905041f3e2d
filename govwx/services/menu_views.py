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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import can, console_view
from govwx.wechat.client import WeChatAPIError

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


@console_view("menu.view")
def menu_builder(request: HttpRequest, account: Account) -> HttpResponse:
    latest = menu.latest_version(account)
    tree: Any = latest.tree if latest else {"button": []}
    conditional: Any = latest.conditional if latest else []
    note = latest.note if latest and latest.status == MenuVersion.Status.DRAFT else ""
    error = ""
    if request.method == "POST":
        if not can(request.user, account, "menu.edit"):
            raise PermissionDenied
        note = request.POST.get("note", "").strip()
        try:
            tree = _parse(request.POST.get("tree", ""), {"button": []})
            conditional = _parse(request.POST.get("conditional", ""), [])
            version = menu.save_menu_draft(
                account, tree, conditional, actor=request.user, note=note
            )
        except menu.MenuInvalid as exc:
            error = str(exc.message)
        else:
            messages.success(
                request, _("已保存草稿（版本 %(n)s），可以发布了。") % {"n": version.number}
            )
            return redirect("services:menu")
    draft = latest if latest and latest.status == MenuVersion.Status.DRAFT else None
    setup = {
        "tree": tree,
        "conditional": conditional,
        "services": [{"code": s.code, "name": s.name} for s in catalogue.services_for(account)],
        "categories": [{"value": v, "label": str(label)} for v, label in Category.choices],
        "kinds": [{"value": k, "label": _(label)} for k, label in menu.KINDS.items()],
        "tags": menu.account_tags(account),
        "tags_url": reverse("services:menu_tags"),
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
            "error": error,
            "note": note,
            "draft": draft,
            "current": menu.current_version(account),
        },
        status=400 if error else 200,
    )


@console_view("menu.view")
def menu_tags(request: HttpRequest, account: Account) -> JsonResponse:
    """The follower tags for conditional menus: as last read, or from WeChat with
    `?refresh=1`."""
    try:
        tags = menu.account_tags(account, refresh=request.GET.get("refresh") == "1")
    except WeChatAPIError as exc:
        return JsonResponse(
            {"tags": menu.account_tags(account), "error": menu.error_text(exc)},
            json_dumps_params={"ensure_ascii": False},
        )
    return JsonResponse({"tags": tags, "error": ""}, json_dumps_params={"ensure_ascii": False})


@console_view("menu.view")
def menu_versions(request: HttpRequest, account: Account) -> HttpResponse:
    versions = list(
        MenuVersion.objects.filter(account=account)
        .select_related("created_by", "published_by", "restored_from")
        .order_by("-number")[:100]
    )
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
        messages.error(
            request,
            _("发布失败，原菜单保持不变：%(e)s") % {"e": exc.version.error},
        )
    else:
        messages.success(request, _("版本 %(n)s 已发布。") % {"n": version.number})
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
            _("恢复的版本 %(n)s 发布失败，原菜单保持不变：%(e)s")
            % {"n": exc.version.number, "e": exc.version.error},
        )
    else:
        messages.success(
            request,
            _("已将版本 %(old)s 恢复为版本 %(new)s 并发布。")
            % {"old": version.number, "new": copy.number},
        )
    return redirect("services:menu_versions")
