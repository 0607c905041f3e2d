"""The forms of the account's own settings page (settings → 公众号) and of a new
account: each field checked by the service's own validators, so a mistake is shown
beside its field in Chinese and nothing is written."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Account, Organisation
from .services import (
    AccountInput,
    clean_account_input,
    clean_organisation,
    validate_aes_key,
    validate_appid,
    validate_token,
)


def _chinese(fn: Any, message: Any) -> Any:
    """A service validator whose refusal the form words in Chinese only."""

    def check(value: str) -> None:
        try:
            fn(value)
        except ValidationError as exc:
            raise ValidationError(message) from exc

    return check


class AccountForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Account.Kind.choices)
    positioning = forms.CharField(
        label=_("定位"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("这个公众号为谁、做什么，例如：示例市政府信息发布和政务服务"),
    )
    appid = forms.CharField(
        label=_("AppID"),
        max_length=32,
        validators=[_chinese(validate_appid, _("AppID 格式不正确：应为 wx 加 16 位十六进制字符"))],
        help_text=_("公众平台「设置与开发 → 基本配置」中的开发者ID"),
    )
    app_secret = forms.CharField(
        label=_("AppSecret"),
        max_length=64,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    original_id = forms.CharField(
        label=_("原始ID"), max_length=32, required=False, help_text=_("gh_ 开头，可不填")
    )
    token = forms.CharField(
        label=_("令牌（Token）"),
        max_length=32,
        validators=[_chinese(validate_token, _("Token 必须是 3–32 位字母或数字"))],
    )
    aes_key = forms.CharField(
        label=_("消息加解密密钥（EncodingAESKey）"),
        max_length=43,
        required=False,
        validators=[_chinese(validate_aes_key, _("EncodingAESKey 必须是 43 位字母或数字"))],
    )
    mode = forms.ChoiceField(label=_("消息加解密方式"), choices=Account.Mode.choices)

    def __init__(self, *args: Any, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["name"].error_messages["required"] = _("请填写公众号名称")
        self.fields["appid"].error_messages["required"] = _("请填写 AppID")
        self.fields["token"].error_messages["required"] = _("请填写令牌（Token）")
        secret = self.fields["app_secret"]
        secret.error_messages["required"] = _("请填写 AppSecret")
        if account is None:
            secret.required = True
            secret.help_text = _("公众平台「基本配置」中的开发者密码，保存后加密存放，不再显示")
        else:
            secret.help_text = _("已保存（不显示）。只有填写新的 AppSecret 时才会替换，留空则不变")
        for f in ("appid", "token", "aes_key", "original_id"):
            self.fields[f].widget.attrs.update({"spellcheck": "false", "autocomplete": "off"})

    def account_input(self, organisation: Organisation | None = None) -> AccountInput:
        d = self.cleaned_data
        return AccountInput(
            name=d["name"],
            appid=d["appid"],
            app_secret=d.get("app_secret") or "",
            token=d["token"],
            aes_key=d.get("aes_key") or "",
            mode=d["mode"],
            kind=d["kind"],
            original_id=d.get("original_id") or "",
            positioning=d.get("positioning") or "",
            organisation=organisation,
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        candidate = self.account_input()
        if self.account is not None and not candidate.app_secret:
            candidate = replace(candidate, app_secret="kept")  # blank: the stored one stays
        try:
            clean_account_input(candidate, exclude_appid=self.account.pk if self.account else None)
        except ValidationError as exc:
            apply(self, exc)
        return data


MESSAGES = {
    "appid": _("AppID %(appid)s 已被另一个公众号登记"),
    "aes_key": _("安全模式和兼容模式必须填写 EncodingAESKey（43 位字母或数字）"),
    "original_id": _("原始ID 应为 gh_ 加 12 位十六进制字符"),
    "name": _("请填写公众号名称"),
    "app_secret": _("请填写 AppSecret"),
    "organisation_name": _("请填写主办组织的名称"),
}


def apply(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal on the form, by field, in Chinese."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.errors:
            continue
        text = MESSAGES.get(field)
        shown = [text % {"appid": form.data.get("appid", "")}] if text else errors
        form.add_error(field if field in form.fields else None, shown)


class NewAccountForm(AccountForm):
    organisation = forms.TypedChoiceField(
        label=_("主办组织"), required=False, coerce=int, empty_value=None
    )
    organisation_name = forms.CharField(
        label=_("新主办组织的名称"),
        max_length=100,
        required=False,
        help_text=_("例如：示例市人民政府。部门、分办规则都属于主办组织"),
    )
    organisation_level = forms.ChoiceField(
        label=_("层级"), choices=Organisation.Level.choices, initial=Organisation.Level.CITY
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        org = self.fields["organisation"]
        org.choices = [("", _("（新建主办组织）"))] + [  # type: ignore[attr-defined]
            (str(o.pk), o.name) for o in Organisation.objects.order_by("name")
        ]
        # the organisation's fields first: who runs the account, then the account
        self.order_fields(["organisation", "organisation_name", "organisation_level"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and data.get("organisation") is None:
            try:
                clean_organisation(data.get("organisation_name", ""), data["organisation_level"])
            except ValidationError as exc:
                apply(self, exc)
        if (
            data.get("organisation") is not None
            and not Organisation.objects.filter(pk=data["organisation"]).exists()
        ):
            self.add_error("organisation", _("该主办组织不存在"))
        return data

    def chosen_organisation(self) -> Organisation | None:
        pk = self.cleaned_data.get("organisation")
        return Organisation.objects.get(pk=pk) if pk is not None else None
