"""The channels page (/team/channels/): list with state, add, edit, enable / disable,
send a test, recent deliveries. Thin: forms shape the input, services decide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govwx.accounts.models import Account
from govwx.accounts.permissions import console_view

from . import services
from .forms import ChannelEditForm, ChannelForm
from .models import Delivery


def _refused(form: Form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: per field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _page(
    request: HttpRequest, account: Account, form: ChannelForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "notify/channels.html",
        {
            "rows": services.channel_rows(account),
            "deliveries": services.recent_deliveries(account),
            "form": form,
            "Status": Delivery.Status,
        },
        status=status,
    )


def _local_time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else "—"


@console_view("channels.manage")
def channel_list(request: HttpRequest, account: Account) -> HttpResponse:
    return _page(request, account, ChannelForm())


@console_view("channels.manage")
@require_POST
def channel_create(request: HttpRequest, account: Account) -> HttpResponse:
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = services.create_channel(
                account, services.ChannelInput(**form.cleaned_data), actor=request.user
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已添加通知渠道：%s") % channel.name)
            return redirect("notify:channels")
    return _page(request, account, form, status=400)


@console_view("channels.manage")
def channel_edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    channel = services.get_channel_for_account(account, pk)
    form = ChannelEditForm(request.POST or None, initial={"name": channel.name})
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        secret = "" if data["remove_secret"] else (data["secret"] or None)
        try:
            services.update_channel(
                channel, name=data["name"], target=data["target"], secret=secret, actor=request.user
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("notify:channels")
    return render(
        request,
        "notify/channel_edit.html",
        {"channel": channel, "target": services.display_target(channel), "form": form},
        status=400 if form.errors else 200,
    )


@console_view("channels.manage")
@require_POST
def channel_enable(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    channel = services.get_channel_for_account(account, pk)
    enabled = request.POST.get("enabled") == "1"
    services.set_channel_enabled(channel, enabled, actor=request.user)
    messages.success(request, _("已启用") if enabled else _("已停用"))
    return redirect("notify:channels")


@console_view("channels.manage")
@require_POST
def channel_test(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    channel = services.get_channel_for_account(account, pk)
    try:
        delivery = services.send_test(channel, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("notify:channels")
    if delivery.status == Delivery.Status.SENT:
        messages.success(request, _("测试消息已发出：%s") % channel.name)
    elif delivery.status == Delivery.Status.PENDING and not delivery.attempts:
        messages.info(
            request,
            _("渠道「%(name)s」已达发送频率上限，测试消息将于 %(time)s 随下一条消息发出")
            % {"name": channel.name, "time": _local_time(channel.held_until)},
        )
    elif delivery.status == Delivery.Status.PENDING:
        messages.error(
            request,
            _("测试消息未发出，稍后重试：%(error)s") % {"error": delivery.last_error},
        )
    else:
        messages.error(request, _("测试消息发送失败：%(error)s") % {"error": delivery.last_error})
    return redirect("notify:channels")
