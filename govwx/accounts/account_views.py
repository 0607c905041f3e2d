"""The account's own settings (settings → 公众号) and a new account (「新建公众号」).

The account page opens with "settings.view" (admins; supervisors read it, the Token and
EncodingAESKey masked) and its POST needs "settings.manage"; it shows the server
configuration to paste into the MP backend. The AppSecret is write-only. A new account
is the installation's business: only a superuser creates one, becomes its admin member
and lands on it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import services
from .access import switch_account
from .account_forms import AccountForm, NewAccountForm, apply
from .models import Account
from .permissions import can, console_view, denied


def callback_url(account: Account) -> str:
    """The 服务器地址(URL) to paste into the MP backend."""
    return f"{settings.GOVWX_PUBLIC_URL}/wx/{account.appid}/callback"


def _initial(account: Account) -> dict[str, str]:
    return {f: getattr(account, f) for f in services.ACCOUNT_FIELDS}


@console_view("settings.view")
def account_settings(request: HttpRequest, account: Account) -> HttpResponseBase:
    can_manage = can(request.user, account, "settings.manage")
    form = AccountForm(account=account, initial=_initial(account))
    if request.method == "POST":
        if not can_manage:
            raise denied("settings.manage")
        form = AccountForm(request.POST, account=account)
        if form.is_valid():
            try:
                services.update_account(account, form.account_input(), actor=request.user)
            except ValidationError as exc:
                apply(form, exc)
            else:
                messages.success(
                    request,
                    _("已保存公众号「%(name)s」的设置") % {"name": form.cleaned_data["name"]},
                )
                return redirect("org_settings:account")
    return render(
        request,
        "accounts/settings/account.html",
        {
            "account": account,
            "form": form,
            "can_manage": can_manage,
            "callback_url": callback_url(account),
            "can_create": request.user.is_superuser,
        },
    )


@login_required
def account_new(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied(
            "只有平台管理员（超级用户）可以新建公众号 / only the installation's superuser creates accounts"
        )
    form = NewAccountForm(initial={"mode": Account.Mode.SAFE})
    if request.method == "POST":
        form = NewAccountForm(request.POST)
        if form.is_valid():
            try:
                account = services.open_account(
                    form.account_input(form.chosen_organisation()),
                    actor=request.user,
                    organisation_name=form.cleaned_data.get("organisation_name", ""),
                    organisation_level=form.cleaned_data["organisation_level"],
                )
            except ValidationError as exc:
                apply(form, exc)
            else:
                switch_account(request, account.pk)
                messages.success(
                    request,
                    _(
                        "已新建公众号「%(name)s」，您是它的管理员。请把下面的服务器配置填到公众平台。"
                    )
                    % {"name": account.name},
                )
                return redirect("org_settings:account")
    return render(request, "accounts/settings/account_new.html", {"form": form})
