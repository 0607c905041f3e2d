"""The articles' console pages: the list by status, an article's page (its revisions,
compared and restored), the editor (new and edit) with its live checks and the phone
preview, the editor's lock (renewed while the page is open, released when it is left,
lifted by a publisher), and the pickers of materials and published articles.

The writes are `articles`' services; these views read the form, call one service and
show what it said. A department liaison sees only their department's articles: every
article is loaded through `articles.visible_articles` (another department's is a 404).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from govwx.accounts import permissions
from govwx.accounts.access import current_role
from govwx.accounts.models import Account, Department, Membership
from govwx.accounts.permissions import console_view

from . import articles, limits
from .articles import Conflict, Locked
from .articles_forms import Posted, initial, posted_fields, read
from .models import Article, Material, Revision
from .proofread.article_views import may_dismiss
from .render import material_ids
from .render import render as render_blocks

S = Article.Status
# The list's tabs: (label, the statuses shown; None: all)
TABS: dict[str, tuple[Any, tuple[str, ...] | None]] = {
    "all": (gettext_lazy("全部"), None),
    "draft": (gettext_lazy("草稿"), (S.DRAFT,)),
    "review": (gettext_lazy("审核中"), (S.VERIFYING, S.PROOFREADING, S.APPROVING)),
    "scheduled": (gettext_lazy("定时"), (S.SCHEDULED,)),
    "published": (gettext_lazy("已发布"), (S.PUBLISHING, S.PUBLISHED)),
    "failed": (gettext_lazy("失败与撤回"), (S.FAILED, S.WITHDRAWN)),
}
PER_PAGE = 50
# the comparison's pickers offer this many revisions (the newest)
COMPARE_CHOICES = 100
# a picker shows the newest this many
PICK = 60
# what cannot be changed any more (articles.save_article refuses it too)
FROZEN = (S.PUBLISHING, S.PUBLISHED)
FIELD_LABELS = {
    "title": gettext_lazy("标题"),
    "author": gettext_lazy("作者"),
    "digest": gettext_lazy("摘要"),
    "source_name": gettext_lazy("转载来源"),
    "locality": gettext_lazy("内容属地"),
    "category": gettext_lazy("类别"),
    "html": gettext_lazy("正文"),
}


def material_url(m: Material) -> str:
    """Where the console shows a material's file (as articles.py renders it)."""
    return f"/content/materials/{m.pk}/file"


def _public(path: str) -> str:
    """A path of this site as an article may link to it: absolute when the site is
    served over HTTPS (WeChat opens only those), else the path itself."""
    base = settings.GOVWX_PUBLIC_URL.rstrip("/")
    return base + path if base.startswith("https://") else path


def article_link(a: Article) -> str:
    """Where a published article is read: WeChat's address, else its H5 page here."""
    if a.wechat_url:
        return a.wechat_url
    try:
        path = reverse("content_web:article", kwargs={"token": a.token})
    except NoReverseMatch:
        path = f"/a/{a.token}/"
    return _public(path)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _visible(request: HttpRequest, account: Account) -> QuerySet[Article]:
    qs: QuerySet[Article] = articles.visible_articles(request.user, account)
    return qs


def _article(request: HttpRequest, account: Account, pk: int) -> Article:
    """The article, if this person may see it (a liaison: their department's)."""
    found = (
        _visible(request, account)
        .select_related("source_department", "cover", "locked_by", "created_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404(_("没有这篇文章"))
    return found


def _own_department(request: HttpRequest, account: Account) -> Department | None:
    """A department liaison's department (they write only for it); None for others."""
    if current_role(request) not in permissions.DEPARTMENT_SCOPED:
        return None
    user: Any = request.user
    m = Membership.objects.filter(user=user, account=account).select_related("department").first()
    return m.department if m is not None else None


def _lock_words(holder: Any, since: datetime | None) -> str:
    name = getattr(holder, "get_full_name", lambda: "")() or getattr(holder, "username", "?")
    when = timezone.localtime(since).strftime("%-m月%-d日 %H:%M") if since else "?"
    return _("%(name)s 自 %(when)s 起正在编辑这篇文章") % {"name": name, "when": when}


def _phone(
    account: Account,
    *,
    title: str,
    author: str,
    original: bool,
    html: str,
    when: datetime | None,
    source_name: str = "",
) -> dict[str, Any]:
    """What the phone preview shows: the article as WeChat lays it out."""
    return {
        "title": title,
        "author": author,
        "original": original,
        "source_name": source_name,
        "html": html,
        "when": when,
        "account_name": account.name,
    }


def _preview_html(account: Account, body: list[dict[str, Any]]) -> str:
    """The blocks as the article's HTML, pictures at this site's addresses."""
    used = material_ids(body)
    found = {m.pk: m for m in Material.objects.filter(account=account, pk__in=used)}
    return render_blocks(body, found, material_url)


# ------------------------------------------------------------------ the list


class Counted(Paginator):
    """Pages of a list whose length is known already (the tab's count): no second
    count of the same rows."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known = count

    @cached_property
    def count(self) -> int:
        return self.known


@console_view("content.view")
def article_list(request: HttpRequest, account: Account) -> HttpResponse:
    tab = request.GET.get("tab", "all")
    if tab not in TABS:
        tab = "all"
    q = request.GET.get("q", "").strip()[:64]
    own = _own_department(request, account)
    departments = list(Department.objects.of_account(account).order_by("name"))
    dept_id = request.GET.get("dept", "")
    qs = _visible(request, account)
    if q:
        qs = qs.filter(title__icontains=q)
    if own is None and dept_id.isdigit():
        qs = qs.filter(source_department_id=int(dept_id))
    # COUNT(*), not COUNT(id): PostgreSQL counts from the (account, status) index alone
    counts = dict(qs.values_list("status").annotate(n=Count("*")).order_by())
    tabs = []
    for key, (label, statuses) in TABS.items():
        n = sum(v for k, v in counts.items() if statuses is None or k in statuses)
        tabs.append({"key": key, "label": label, "count": n})
    statuses = TABS[tab][1]
    if statuses is not None:
        qs = qs.filter(status__in=statuses)
    qs = qs.select_related("source_department", "locked_by").order_by("-updated_at", "-id")
    page = Counted(qs.only(
        "id", "title", "status", "category", "locality", "revision", "updated_at",
        "locked_at", "source_department__name", "locked_by__username",
        "locked_by__first_name", "locked_by__last_name", "original", "emergency",
    ), PER_PAGE, next(t["count"] for t in tabs if t["key"] == tab)).get_page(
        request.GET.get("page")
    )  # fmt: skip
    return render(
        request,
        "content/articles_list.html",
        {
            "page": page,
            "tabs": tabs,
            "tab": tab,
            "q": q,
            "departments": departments,
            "dept": dept_id,
            "own_department": own,
            "lock_after": timezone.now() - articles.LOCK_FOR,
        },
    )


# ------------------------------------------------------------------ an article's page


@console_view("content.view")
def article_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    article = _article(request, account, pk)
    revisions = list(
        Revision.objects.filter(article=article)
        .select_related("author")
        .defer("data")
        .order_by("-number")[:100]
    )
    locked = (
        article.locked_by_id is not None
        and article.locked_at is not None
        and (article.locked_at > timezone.now() - articles.LOCK_FOR)
    )
    return render(
        request,
        "content/articles_detail.html",
        {
            "article": article,
            "revisions": revisions,
            "locked": locked,
            "lock_words": _lock_words(article.locked_by, article.locked_at) if locked else "",
            "frozen": article.status in FROZEN,
            "cover_url": material_url(article.cover) if article.cover else "",
            "phone": _phone(
                account,
                title=article.title,
                author=article.author,
                original=article.original,
                source_name=article.source_name,
                html=article.html,
                when=article.published_at or article.updated_at,
            ),
        },
    )


@console_view("content.view")
def article_revision(request: HttpRequest, account: Account, pk: int, number: int) -> HttpResponse:
    """A saved revision as the phone shows it."""
    article = _article(request, account, pk)
    rev = Revision.objects.filter(article=article, number=number).select_related("author").first()
    if rev is None:
        raise Http404(_("没有这个版本"))
    d = rev.data
    return render(
        request,
        "content/articles_revision.html",
        {
            "article": article,
            "rev": rev,
            "data": d,
            "phone": _phone(
                account,
                title=str(d.get("title", "")),
                author=str(d.get("author", "")),
                original=bool(d.get("original", True)),
                source_name=str(d.get("source_name", "")),
                html=str(d.get("html", "")),
                when=rev.created_at,
            ),
        },
    )


def _diff_rows(lines: list[str]) -> list[dict[str, str]]:
    rows = []
    for line in lines:
        mark = line[:1]
        kind = {"-": "del", "+": "ins"}.get(mark, "ctx")
        rows.append({"kind": kind, "mark": mark if kind != "ctx" else "", "text": line[1:]})
    return rows


@console_view("content.view")
def article_compare(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """What changed between two revisions (by default the one before the current and
    the current), field by field, removed lines red and added lines green."""
    article = _article(request, account, pk)

    def pick(name: str, default: int) -> int:
        raw = request.GET.get(name, "")
        return int(raw) if raw.isdigit() else default

    b = pick("b", article.revision)
    a = pick("a", b - 1)
    # Revisions are numbered 1 to the current one, none ever deleted: the pickers offer
    # the newest COMPARE_CHOICES and the two compared, not every revision ever saved
    # (numbers beyond them are typed)
    numbers = list(range(article.revision, max(0, article.revision - COMPARE_CHOICES), -1))
    numbers += sorted(({a, b} - set(numbers)) & set(range(1, article.revision)), reverse=True)
    error = ""
    changes: list[dict[str, Any]] = []
    status = 200
    if article.revision < 2:
        error = _("这篇文章只有一个版本，还没有可比较的。")
    else:
        try:
            found = articles.compare(article, a, b)
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 404
        else:
            changes = [
                {"field": FIELD_LABELS.get(name, name), "rows": _diff_rows(lines)}
                for name, lines in found
            ]
    return render(
        request,
        "content/articles_compare.html",
        {
            "article": article,
            "numbers": numbers,
            "typed": article.revision > COMPARE_CHOICES,
            "a": a,
            "b": b,
            "changes": changes,
            "error": error,
        },
        status=status,
    )


@require_POST
@console_view("content.edit")
def article_restore(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """恢复: an earlier revision becomes the current text again (a new revision), if
    nobody saved since the page was loaded (`revision`) and nobody else holds the lock."""
    article = _article(request, account, pk)
    number = request.POST.get("number", "")
    loaded = request.POST.get("revision", "")
    if not number.isdigit() or not loaded.isdigit():
        messages.error(request, _("请选择要恢复的版本 / choose a revision to restore"))
        return redirect("content:article", pk=article.pk)
    held = article.locked_by_id == request.user.pk
    try:
        done = articles.restore_revision(
            article, int(number), revision=int(loaded), actor=request.user
        )
    except Conflict as exc:
        messages.error(
            request,
            _("没有恢复：%(e)s。请看最新版本后再决定。") % {"e": exc},
        )
    except Locked as exc:
        messages.error(
            request, _("没有恢复：%(who)s。") % {"who": _lock_words(exc.holder, exc.since)}
        )
    except ValidationError as exc:
        messages.error(request, _("没有恢复：%(e)s") % {"e": "；".join(exc.messages)})
    else:
        if not held:  # the restore took the lock for itself only
            articles.unlock_article(done, actor=request.user)
        messages.success(
            request,
            _("已恢复第 %(n)s 版，保存为第 %(r)s 版。") % {"n": number, "r": done.revision},
        )
    return redirect("content:article", pk=article.pk)


# ------------------------------------------------------------------ the editor


def _editor_setup(
    request: HttpRequest, account: Account, article: Article | None, body: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the editor's script starts from: the blocks, the materials they show, the
    addresses it calls and the limits it counts against."""
    used = material_ids(body)
    found = Material.objects.filter(account=account, pk__in=used)
    urls: dict[str, str] = {
        "check": reverse("content:article_check"),
        "materials": reverse("content:article_pick_materials"),
        "articles": reverse("content:article_pick_articles"),
    }
    try:
        urls["guides"] = reverse("console:content_guides")
    except NoReverseMatch:
        pass
    urls["proofread"] = reverse("content:article_proofread")
    urls["proofread_dismiss"] = reverse("content:article_proofread_dismiss")
    can_dismiss, dismiss_why = may_dismiss(request.user, account)
    if article is not None:
        urls["lock"] = reverse("content:article_lock", kwargs={"pk": article.pk})
        urls["release"] = reverse("content:article_release", kwargs={"pk": article.pk})
    return {
        "body": body,
        "materials": {str(m.pk): _material_item(m) for m in found},
        "urls": urls,
        "limits": {
            "title": limits.TITLE_MAX,
            "author": limits.AUTHOR_MAX,
            "digest": limits.DIGEST_MAX,
            "chars": limits.CONTENT_MAX_CHARS,
        },
        "video_hosts": list(limits.VIDEO_HOSTS),
        # renew the lock well inside its lapse (LOCK_FOR)
        "renew_seconds": max(30, int(articles.LOCK_FOR.total_seconds() // 4)),
        # proofreading as one types: asked this long after the last change
        "proofread": {"delay": 600, "can_dismiss": can_dismiss, "dismiss_why": dismiss_why},
    }


def _material_item(m: Material) -> dict[str, Any]:
    return {
        "id": m.pk,
        "kind": m.kind,
        "title": m.title,
        "caption": m.caption,
        "url": material_url(m),
        "thumb": material_url(m) + "?thumb=1",
        "width": m.width,
        "height": m.height,
    }


def _editor(
    request: HttpRequest,
    account: Account,
    article: Article | None,
    fields: dict[str, Any],
    *,
    revision: int | None,
    errors: list[str] | None = None,
    conflict: str = "",
    locked: str = "",
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    own = _own_department(request, account)
    cover = fields["cover"]
    html = _preview_html(account, fields["body"]) if isinstance(fields["body"], list) else ""
    return render(
        request,
        "content/articles_editor.html",
        {
            "article": article,
            "f": fields,
            # the body as posted back without the script (it is rebuilt from `setup`)
            "body_json": json.dumps(fields["body"], ensure_ascii=False),
            "cover_item": _material_item(cover) if cover is not None else None,
            "revision": revision,
            "errors": errors or [],
            "conflict": conflict,
            "locked": locked,
            "note": note,
            "departments": [own] if own else list(Department.objects.of_account(account)),
            "own_department": own,
            "localities": Article.Locality.choices,
            "categories": Article.Category.choices,
            "limits": limits,
            "setup": _editor_setup(request, account, article, fields["body"]),
            "phone": _phone(
                account,
                title=fields["title"],
                author=fields["author"],
                original=fields["original"],
                source_name=fields["source_name"],
                html=html,
                when=timezone.now(),
            ),
        },
        status=status,
    )


@console_view("content.edit")
def article_new(request: HttpRequest, account: Account) -> HttpResponse:
    """写文章: a new draft, locked to its writer once saved."""
    if request.method != "POST":
        return _editor(request, account, None, initial(None), revision=None)
    posted = read(request.POST, account)
    errors = posted.errors
    if not errors:
        try:
            article = articles.create_article(account, posted.values, actor=request.user)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("已保存「%(t)s」（第 1 版）。") % {"t": article.title})
            return redirect("content:article_edit", pk=article.pk)
    return _editor(
        request, account, None, posted_fields(posted), revision=None, errors=errors,
        note=posted.note, status=400,
    )  # fmt: skip


@console_view("content.edit")
def article_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """The editor on an article: opening it takes the lock (or shows who holds it);
    saving names the revision the page loaded."""
    article = _article(request, account, pk)
    if article.status in FROZEN:
        return _readonly(request, account, article, _("已发布的文章不能修改。"))
    if request.method != "POST":
        try:
            articles.lock_article(article, actor=request.user)
        except Locked as exc:
            return _readonly(request, account, article, _lock_words(exc.holder, exc.since))
        except PermissionDenied as exc:  # a liaison's draft once submitted: read it here
            return _readonly(request, account, article, str(exc))
        return _editor(request, account, article, initial(article), revision=article.revision)
    posted: Posted = read(request.POST, account)
    errors, conflict, locked, status = posted.errors, "", "", 400
    if not errors:
        try:
            saved = articles.save_article(
                article,
                posted.values,
                revision=posted.revision if posted.revision is not None else -1,
                actor=request.user,
                note=posted.note,
            )
        except ValidationError as exc:
            errors = exc.messages
        except Conflict as exc:
            conflict, status = str(exc), 409
        except Locked as exc:
            locked, status = _lock_words(exc.holder, exc.since), 423
        else:
            messages.success(
                request,
                _("已保存「%(t)s」（第 %(n)s 版）。") % {"t": saved.title, "n": saved.revision},
            )
            return redirect("content:article_edit", pk=article.pk)
    article.refresh_from_db()
    return _editor(
        request, account, article, posted_fields(posted), revision=posted.revision,
        errors=errors, conflict=conflict, locked=locked, note=posted.note, status=status,
    )  # fmt: skip


def _readonly(request: HttpRequest, account: Account, article: Article, why: str) -> HttpResponse:
    """The article as it is, when it cannot be edited here now (locked, published)."""
    return render(
        request,
        "content/articles_locked.html",
        {
            "article": article,
            "why": why,
            "can_unlock": article.locked_by_id is not None
            and article.locked_by_id != request.user.pk
            and permissions.can(request.user, account, "content.publish"),
            "phone": _phone(
                account,
                title=article.title,
                author=article.author,
                original=article.original,
                source_name=article.source_name,
                html=article.html,
                when=article.published_at or article.updated_at,
            ),
        },
    )


@require_POST
@console_view("content.edit")
def article_check(request: HttpRequest, account: Account) -> HttpResponse:
    """The editor's live checks: what `articles.check` finds in the text as it is now,
    and the phone preview's HTML of it. Nothing is saved."""
    if not _wants_json(request):
        return redirect("content:articles")
    posted = read(request.POST, account)
    problems = posted.errors + articles.check(posted.values, account)
    html = _preview_html(account, posted.values.body)
    return _json({"problems": problems, "html": html, "chars": len(html)})


@require_POST
@console_view("content.edit")
def article_lock(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """Renew the editor's lock (the open editor asks every few minutes)."""
    article = _article(request, account, pk)
    try:
        articles.lock_article(article, actor=request.user)
    except Locked as exc:
        words = _lock_words(exc.holder, exc.since)
        if _wants_json(request):
            return _json({"locked": False, "error": words}, status=423)
        messages.error(request, words)
        return redirect("content:article", pk=article.pk)
    if _wants_json(request):
        assert article.locked_at is not None
        until = article.locked_at + articles.LOCK_FOR
        return _json({"locked": True, "until": until.isoformat()})
    return redirect("content:article_edit", pk=article.pk)


@require_POST
@console_view("content.edit")
def article_release(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """The editor was left: its lock goes (only the holder's own; sent as a beacon)."""
    article = _article(request, account, pk)
    articles.unlock_article(article, actor=request.user)
    if _wants_json(request):
        return _json({"released": article.locked_by_id is None})
    return redirect("content:article", pk=article.pk)


@require_POST
@console_view("content.publish")
def article_unlock(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """解除锁定: a publisher takes the article from an editor who is away (audited)."""
    article = _article(request, account, pk)
    holder = article.locked_by
    articles.unlock_article(article, actor=request.user, force=True)
    if holder is not None:
        messages.success(
            request,
            _("已解除 %(name)s 对「%(t)s」的锁定。")
            % {"name": holder.get_username(), "t": article.title},
        )
    return redirect("content:article", pk=article.pk)


# ------------------------------------------------------------------ pickers


@console_view("content.edit")
def pick_materials(request: HttpRequest, account: Account) -> JsonResponse:
    """The account's materials of one kind, newest first, for the editor's picker."""
    kind = request.GET.get("kind", Material.Kind.IMAGE)
    if kind not in Material.Kind.values:
        return _json({"error": _("未知的素材类型 / unknown kind"), "items": []}, status=400)
    qs = Material.objects.filter(account=account, kind=kind)
    q = request.GET.get("q", "").strip()[:64]
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(caption__icontains=q) | Q(tags__icontains=q))
    return _json({"items": [_material_item(m) for m in qs.order_by("-created_at", "-id")[:PICK]]})


@console_view("content.edit")
def pick_articles(request: HttpRequest, account: Account) -> JsonResponse:
    """The account's published articles (public already: a liaison may link to any of
    them), newest first, for 相关阅读."""
    qs = Article.objects.filter(account=account, status=S.PUBLISHED)
    q = request.GET.get("q", "").strip()[:64]
    if q:
        qs = qs.filter(title__icontains=q)
    found = qs.order_by("-published_at", "-id").only(
        "id", "title", "token", "wechat_url", "published_at"
    )[:PICK]
    return _json(
        {
            "items": [
                {
                    "id": a.pk,
                    "title": a.title,
                    "url": article_link(a),
                    "published_at": timezone.localtime(a.published_at).strftime("%Y-%m-%d")
                    if a.published_at
                    else "",
                }
                for a in found
            ]
        }
    )
