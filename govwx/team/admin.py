from django.contrib import admin

from .models import Rota, Shift, ShiftPattern


class PatternInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ShiftPattern
    extra = 0


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "created_at")
    filter_horizontal = ("accounts",)
    inlines = [PatternInline]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read here: shifts change through the rota services (overlap checks, audit)."""

    list_display = ("rota", "layer", "person", "starts_at", "ends_at", "source")
    list_filter = ("rota", "layer", "source")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
