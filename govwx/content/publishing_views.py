"""The console's publishing pages: retrying an article whose publish failed, and 群发
(mass send): compose (a published article, a text or a library picture; to all, a tag
or a list of followers; now or at a time) with the quota shown before sending and a
preview to the operator's own WeChat, the list of sends with WeChat's counts, one
send's calls, and deleting a sent article. Thin: publishing.py and mass.py check and
write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view

from . import articles, mass, publishing
from .models import Article, MassSend, Material

FORM_KEY = "content:mass-form"  # what a refused compose form held, shown once again
FIELDS = ("kind", "article", "text", "image", "target", "tag", "openids", "when", "at", "to")


def _account_of_article(pk: int) -> int | None:
    return Article.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def _account_of_send(pk: int) -> int | None:
    return MassSend.objects.filter(pk=pk).values_list("account_id", flat=True).first()


def _refused(request: HttpRequest, exc: ValidationError | PermissionDenied) -> None:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text or _("操作不被允许"))


@console_view("content.publish", account_of=_account_of_article)
@require_POST
def retry(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    try:
        article = articles.get_article(request.user, account, pk)
    except Article.DoesNotExist as exc:
        raise Http404("no such article") from exc
    try:
        publishing.retry(article, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已重新安排发布到微信"))
    return redirect("content:article", pk=article.pk)


# ------------------------------------------------------------------ 群发


def _choices(account: Account) -> dict[str, Any]:
    published = Article.objects.filter(
        account=account, status=Article.Status.PUBLISHED, cover__isnull=False
    ).order_by("-published_at")[:50]
    pictures = Material.objects.filter(account=account, kind=Material.Kind.IMAGE).order_by(
        "-created_at"
    )[:50]
    return {"published": list(published), "pictures": list(pictures)}


def _rows(account: Account) -> list[dict[str, Any]]:
    return [{"send": s, "counts": mass.counts(s)} for s in mass.sends(account)[:100]]


@console_view("content.view")
def mass_page(request: HttpRequest, account: Account) -> HttpResponse:
    form = request.session.pop(FORM_KEY, None) or {}
    if not form and request.GET.get("article", "").isdigit():
        form = {"kind": MassSend.Kind.ARTICLE, "article": request.GET["article"]}
    now = timezone.now()
    tags = mass.account_tags(account)
    return render(
        request,
        "content/mass_page.html",
        {
            "account": account,
            "quota": mass.quota(account, now),
            "tags": tags,
            "tags_read_at": datetime.fromisoformat(tags["read_at"]) if tags["read_at"] else None,
            "form": {"kind": MassSend.Kind.ARTICLE, "target": "all", "when": "now", **form},
            "rows": _rows(account),
            "list_max": mass.LIST_MAX,
            "text_max": mass.TEXT_MAX,
            "now_local": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
            **_choices(account),
        },
    )


def _when(post: Any) -> datetime | None:
    if post.get("when") != "later":
        return None
    raw = (post.get("at") or "").strip()
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(_("请填写群发的日期和时间 / a date and time")) from exc
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_current_timezone())
    return at


def _content(account: Account, post: Any) -> dict[str, Any]:
    """The form's message: kind and the article, text or picture it names."""
    kind = post.get("kind", "")
    found: dict[str, Any] = {"kind": kind}
    if kind == MassSend.Kind.ARTICLE:
        pk = post.get("article", "")
        found["article"] = (
            Article.objects.select_related("cover").filter(account=account, pk=pk).first()
            if pk.isdigit()
            else None
        )
    elif kind == MassSend.Kind.TEXT:
        found["text"] = post.get("text", "")
    elif kind == MassSend.Kind.IMAGE:
        pk = post.get("image", "")
        found["image"] = (
            Material.objects.filter(account=account, pk=pk).first() if pk.isdigit() else None
        )
    return found


def _audience(account: Account, post: Any) -> dict[str, Any]:
    target = post.get("target", "")
    if target == "all":
        return {"to_all": True}
    if target == "tag":
        raw = post.get("tag", "")
        if not raw.isdigit():
            raise ValidationError(_("请选择标签 / choose a tag"))
        names = {t["id"]: t["name"] for t in mass.account_tags(account)["tags"]}
        return {"tag_id": int(raw), "tag_name": names.get(int(raw), "")}
    if target == "list":
        return {"openids": mass.parse_openids(post.get("openids", ""))}
    raise ValidationError(_("请选择全部粉丝、一个标签或一份名单 / all, a tag or a list"))


def _keep(request: HttpRequest) -> None:
    request.session[FORM_KEY] = {k: request.POST.get(k, "") for k in FIELDS}


@console_view("content.publish")
@require_POST
def mass_send(request: HttpRequest, account: Account) -> HttpResponse:
    try:
        sent = mass.create(
            account,
            actor=request.user,
            **_content(account, request.POST),
            **_audience(account, request.POST),
            due_at=_when(request.POST),
        )
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
        _keep(request)
    else:
        at = timezone.localtime(sent.due_at).strftime("%Y-%m-%d %H:%M")
        if request.POST.get("when") == "later":
            messages.success(request, _("已安排群发，定于 %(at)s 发送") % {"at": at})
        else:
            messages.success(request, _("已提交群发"))
    return redirect("content:mass")


@console_view("content.publish")
@require_POST
def mass_preview(request: HttpRequest, account: Account) -> HttpResponse:
    to = request.POST.get("to", "")
    try:
        mass.preview(account, to, actor=request.user, **_content(account, request.POST))
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("预览已发送到 %(to)s，请在微信上查看") % {"to": to.strip()})
    _keep(request)
    return redirect("content:mass")


@console_view("content.publish")
@require_POST
def mass_tags(request: HttpRequest, account: Account) -> HttpResponse:
    mass.request_tags(account, actor=request.user)
    messages.success(request, _("正在从微信读取标签，请稍后刷新"))
    _keep(request)
    return redirect("content:mass")


def _send(account: Account, pk: int) -> MassSend:
    try:
        return mass.get_send(account, pk)
    except MassSend.DoesNotExist as exc:
        raise Http404("no such mass send") from exc


@console_view("content.view", account_of=_account_of_send)
def mass_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    sent = _send(account, pk)
    return render(
        request,
        "content/mass_detail.html",
        {"account": account, "send": sent, "counts": mass.counts(sent), "calls": sent.calls.all()},
    )


@console_view("content.publish", account_of=_account_of_send)
@require_POST
def mass_delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    sent = _send(account, pk)
    try:
        mass.delete(sent, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已删除群发的图文，文章页面已失效"))
    return redirect("content:mass_detail", pk=sent.pk)
