from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Account, AuditEvent, Department, Membership, Organisation

SECRET_FIELDS = ("app_secret", "token", "aes_key")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "level", "parent", "created_at")
    list_filter = ("level",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "parent")
    list_filter = ("organisation",)
    search_fields = ("name", "organisation__name")
    autocomplete_fields = ("organisation", "parent")


class AccountAdminForm(forms.ModelForm):
    """Secrets are write-only: the form never shows a stored value, and a blank field
    keeps what is stored."""

    app_secret = forms.CharField(
        label=_("AppSecret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    token = forms.CharField(
        label=_("Token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    aes_key = forms.CharField(
        label=_("EncodingAESKey"), required=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = Account
        fields = (
            "name",
            "appid",
            "original_id",
            "app_secret",
            "token",
            "aes_key",
            "mode",
            "kind",
            "positioning",
            "organisation",
            "notice_template_id",
            "is_active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in SECRET_FIELDS:
                self.fields[name].help_text = _("已设置；留空则保持不变。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in SECRET_FIELDS:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        if not self.instance.pk:
            for name in ("app_secret", "token"):
                if not data.get(name):
                    self.add_error(name, _("必填"))
        return data


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "department")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountAdminForm
    list_display = ("name", "appid", "kind", "mode", "organisation", "is_active", "rules_version")
    list_filter = ("kind", "mode", "is_active")
    search_fields = ("name", "appid", "original_id")
    readonly_fields = ("rules_version", "created_at", "updated_at")
    autocomplete_fields = ("organisation",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "account", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "account__name", "account__appid")
    autocomplete_fields = ("user", "account")
    list_select_related = ("user", "account")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "name", "account", "actor")
    list_filter = ("name",)
    search_fields = ("name", "account__name", "actor__username")
    list_select_related = ("account", "actor")
    readonly_fields = ("account", "actor", "name", "data", "created_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
