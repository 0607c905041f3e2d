from django.contrib import admin

from .models import (
    CannedReply,
    Case,
    CaseEvent,
    CaseMessage,
    DeskSettings,
    IntakeFailure,
    RoutingRule,
    TimeLimit,
)


class ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Cases change only through the desk's services (history, revisions, deadlines)."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = ("id", "account", "subject", "case_type", "status", "department",
                    "opened_at", "resolve_due")  # fmt: skip
    list_filter = ("status", "case_type", "account")
    search_fields = ("subject", "openid")


@admin.register(CaseMessage)
class CaseMessageAdmin(ReadOnly):
    list_display = ("case", "direction", "text", "created_at")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnly):
    list_display = ("case", "name", "actor", "created_at")


@admin.register(IntakeFailure)
class IntakeFailureAdmin(ReadOnly):
    list_display = ("inbound", "attempts", "updated_at", "error")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("account", "keyword", "case_type", "department", "priority")
    list_filter = ("account",)


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("account", "case_type", "first_response", "first_response_unit",
                    "resolution", "resolution_unit")  # fmt: skip


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("account", "title", "case_type")
    list_filter = ("account",)
    search_fields = ("title", "text")


@admin.register(DeskSettings)
class DeskSettingsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("account", "routing_mode")
