"""Forms of the channels page: shapes only; the rules are in services.clean_channel_input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Channel.Kind.choices)
    name = forms.CharField(label=_("名称"), max_length=60)
    target = forms.CharField(
        label=_("地址"),
        max_length=2000,
        help_text=_("邮件地址（多个用逗号分隔）、Webhook 网址或企业微信群机器人的 Webhook 地址"),
    )
    secret = forms.CharField(
        label=_("签名密钥"),
        max_length=200,
        required=False,
        help_text=_("仅 Webhook：用于 X-Govwx-Signature 签名，可不填"),
    )


class ChannelEditForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60)
    target = forms.CharField(
        label=_("地址"), max_length=2000, required=False, help_text=_("留空则保持不变")
    )
    secret = forms.CharField(
        label=_("签名密钥"), max_length=200, required=False, help_text=_("留空则保持不变")
    )
    remove_secret = forms.BooleanField(label=_("删除签名密钥"), required=False)
