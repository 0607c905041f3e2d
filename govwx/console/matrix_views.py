"""The matrix's articles in the console (矩阵转载): the latest published articles of the
other accounts of the account's matrix, each with a button to repost it here (转载), and
where this account's own articles travelled. The content app (floor 3) writes reposts;
the page is the console's."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.access import current_role
from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view, role_has
from govwx.content import public, reposts
from govwx.content.articles import visible_articles
from govwx.content.models import Article

OWN_ARTICLES = 20


@console_view("content.view")
def matrix(request: HttpRequest, account: Account) -> HttpResponse:
    others = reposts.repostable(account)
    taken = set(
        Article.objects.filter(account=account, reposted_from__in=[a.pk for a in others])
        .exclude(status=Article.Status.WITHDRAWN)
        .values_list("reposted_from_id", flat=True)
    )
    own = list(
        visible_articles(request.user, account)
        .filter(status=Article.Status.PUBLISHED, published_at__isnull=False)
        .order_by("-published_at", "-id")[:OWN_ARTICLES]
    )
    travels = reposts.travels(own)
    return render(
        request,
        "console/content_matrix.html",
        {
            "account": account,
            "members": list(reposts.matrix_accounts(account).select_related("organisation")),
            "others": [(a, a.pk in taken, public.page_path(a)) for a in others],
            "own": [travels[a.pk] for a in own],
            "can_repost": role_has(current_role(request), "content.edit"),
        },
    )


@console_view("content.edit")
@require_POST
def repost(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    # any published article is public; the service decides whether this one may come here
    source = public.published().select_related("account").filter(pk=pk).first()
    if source is None:
        raise Http404("no such published article")
    try:
        draft = reposts.repost(source, account, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("已转载为草稿「%(title)s」：可在文章中修改后提交审核。") % {"title": draft.title},
        )
    return HttpResponseRedirect(reverse("console:matrix"))
