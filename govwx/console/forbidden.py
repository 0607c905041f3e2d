"""The page a person sees where their role may not go: the console's own, in their
language, naming what the page needs and the roles that have it.

Django answers a `PermissionDenied` with a bare 「403 Forbidden」 and logs it on
`django.request` with the exception attached, so every refused click prints a traceback.
`ForbiddenPage` turns a view's `PermissionDenied` into this page instead; Django then
logs the 403 response as one warning line (「Forbidden: /path」), without a traceback.
`handler403` (govwx/urls.py) gives the same page to a refusal raised outside a view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from govwx.accounts.access import current_account, current_role
from govwx.accounts.models import Membership
from govwx.accounts.permissions import PERMISSIONS, roles_with


def _message(exc: BaseException | None) -> str:
    """A refusal's own words (a service's 「只有主办部门可以领取 / only …」) in the person's
    language: the half of 「中文 / English」 that fits; words only in another language
    give way to a general sentence."""
    text = str(exc.args[0]) if exc is not None and exc.args else ""
    zh, sep, en = (part.strip() for part in text.partition(" / "))
    english = (get_language() or "").startswith("en")
    if english and sep:
        return en
    if not english and not any("\u4e00" <= c <= "\u9fff" for c in zh):
        return _("您没有进行此操作的权限。") if text else ""
    return zh


def forbidden_page(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """The 403 page: what the page needs (`exc.permission`, set by `console_view` and
    `permissions.require`), the roles that hold it, the person's own role here."""
    perm = getattr(exc, "permission", None)
    labels = dict(Membership.Role.choices)
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    role = current_role(request) if signed_in else None
    context: dict[str, Any] = {
        "needs": PERMISSIONS[perm][0] if perm in PERMISSIONS else None,
        "roles": [labels[r] for r in roles_with(perm)] if perm in PERMISSIONS else [],
        "role": labels.get(role) if role else None,
        "account": current_account(request) if signed_in else None,
        "reason": "" if perm in PERMISSIONS else _message(exc),
    }
    return HttpResponse(
        render_to_string("console/forbidden.html", context, request=request), status=403
    )


def handler403(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return forbidden_page(request, exception)


class ForbiddenPage:
    """Middleware: a view's `PermissionDenied` becomes the console's 403 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, PermissionDenied):
            return None
        return forbidden_page(request, exception)
