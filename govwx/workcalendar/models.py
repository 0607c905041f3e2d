"""The working-day calendar's data: the years whose arrangement is known, and their
special days (statutory holidays, make-up working days)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year whose holiday arrangement has been entered and confirmed; deadlines are
    computed only inside confirmed years."""

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(_("来源"), max_length=200)
    confirmed = models.BooleanField(_("已确认"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("日历年份")
        verbose_name_plural = _("日历年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class SpecialDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), primary_key=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("特殊日期")
        verbose_name_plural = _("特殊日期")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
