from __future__ import annotations

from django.contrib import admin

from .models import Follower, InboundMessage, OutboundMessage


@admin.register(Follower)
class FollowerAdmin(admin.ModelAdmin):
    list_display = (
        "openid",
        "nickname",
        "account",
        "subscribed",
        "subscribed_at",
        "last_interaction_at",
    )
    list_filter = ("subscribed", "account")
    search_fields = ("openid", "nickname")
    list_select_related = ("account",)


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "account",
        "openid",
        "msg_type",
        "event",
        "handled_by",
        "short_content",
    )
    list_filter = ("msg_type", "handled_by", "account")
    search_fields = ("openid", "content", "dedup_key")
    list_select_related = ("account",)
    date_hierarchy = "received_at"

    @admin.display(description="content")
    def short_content(self, obj: InboundMessage) -> str:
        return obj.content[:60]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "account", "openid", "kind", "status", "error_code", "sent_at")
    list_filter = ("status", "kind", "account")
    search_fields = ("openid", "error_message")
    list_select_related = ("account",)
    raw_id_fields = ("in_reply_to",)
