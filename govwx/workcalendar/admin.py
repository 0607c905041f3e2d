from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import services
from .models import CalendarYear, SpecialDay


@admin.register(SpecialDay)
class SpecialDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: SpecialDay, form: Any, change: bool) -> None:
        services.set_special_day(obj.date, obj.kind, obj.name, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: SpecialDay) -> None:
        services.remove_special_day(obj.date, actor=request.user)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("year", "confirmed", "source", "updated_at")

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        if obj.confirmed:
            services.confirm_year(obj.year, obj.source, actor=request.user)
        else:
            super().save_model(request, obj, form, change)
            services.forget()
