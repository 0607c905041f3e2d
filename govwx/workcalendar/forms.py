"""The calendar page's form: a year's notice (pasted, or typed line by line) and where
it comes from."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class NoticeForm(forms.Form):
    text = forms.CharField(
        label=_("国务院办公厅通知全文，或逐行输入"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text=_(
            "可直接粘贴通知全文；也可逐行输入，如「2027-01-01 至 2027-01-03 元旦 放假」「2027-02-20 上班」。"
        ),
    )
    source = forms.CharField(
        label=_("来源（通知文号）"),
        required=False,
        max_length=200,
        help_text=_("如：国办发明电〔2026〕12号"),
    )
