from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Account, AuditEvent, Department, Membership, Organisation
from .services import record

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


class MembershipForm(forms.ModelForm):
    """A role as `services.add_member` gives it: a department liaison needs a department
    of the account's organisation; the other roles act for no department."""

    class Meta:
        model = Membership
        fields = ("user", "account", "role", "department")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account = data.get("account")
        if account is None and self.instance.account_id:  # in the account's inline
            account = self.instance.account
        department = data.get("department")
        if data.get("role") != Membership.Role.LIAISON:
            data["department"] = None
        elif department is None:
            self.add_error("department", "部门联络员必须指定部门 / a liaison needs a department")
        elif account is not None and department.organisation_id != account.organisation_id:
            self.add_error(
                "department",
                "部门不属于该公众号的主办组织 / the department is not of the account's "
                "organisation",
            )
        return data


def _saved(request: Any, membership: Membership) -> None:
    record(
        "membership.saved",
        account=membership.account,
        actor=request.user,
        user=membership.user_id,
        role=membership.role,
        department=membership.department_id,
        via="admin",
    )


def _removed(request: Any, membership: Membership) -> None:
    record(
        "membership.removed",
        account=membership.account,
        actor=request.user,
        user=membership.user_id,
        role=membership.role,
        via="admin",
    )


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
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

    def save_formset(self, request: Any, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:  # roles changed here are audited as elsewhere
            for membership in formset.new_objects:
                _saved(request, membership)
            for membership, _fields in formset.changed_objects:
                _saved(request, membership)
            for membership in formset.deleted_objects:
                _removed(request, membership)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Roles (docs/permissions.md): validated and audited as `services.add_member`."""

    form = MembershipForm
    list_display = ("user", "account", "role", "department", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "account__name", "account__appid")
    autocomplete_fields = ("user", "account", "department")
    list_select_related = ("user", "account", "department")

    def save_model(self, request: Any, obj: Membership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        _saved(request, obj)

    def delete_model(self, request: Any, obj: Membership) -> None:
        _removed(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for membership in queryset.select_related("account"):
            _removed(request, membership)
        super().delete_queryset(request, queryset)


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
