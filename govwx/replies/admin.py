from __future__ import annotations

from django.contrib import admin

from .models import Keyword, MenuHandoff, Reply, Rule


class KeywordInline(admin.TabularInline):
    model = Keyword
    extra = 0


class ReplyInline(admin.StackedInline):
    model = Reply
    extra = 0
    fields = ("kind", "payload", "position")


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Read-mostly: edits made here bypass the rule services (validation, rules_version,
    audit), so the console is the place to change rules."""

    list_display = ("name", "account", "priority", "reply_mode", "enabled", "updated_at")
    list_filter = ("enabled", "reply_mode", "account")
    search_fields = ("name", "keywords__text")
    list_select_related = ("account",)
    inlines = [KeywordInline, ReplyInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ("text", "match", "rule")
    list_filter = ("match",)
    search_fields = ("text", "rule__name")
    list_select_related = ("rule",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ("account", "trigger", "click_key", "rule", "kind", "position")
    list_filter = ("trigger", "kind", "account")
    search_fields = ("click_key", "rule__name")
    list_select_related = ("account", "rule")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(MenuHandoff)
class MenuHandoffAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read here; change with `govwx rules import` (menu_handoff) so that every process
    sees the new rules version."""

    list_display = ("account", "click_key")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
