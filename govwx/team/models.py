"""The duty rota (值班): shift patterns and the concrete shifts people are on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account


class Layer(models.TextChoices):
    OPERATOR = "operator", _("值班员")
    LEADER = "leader", _("带班领导")


class Rota(models.Model):
    """A duty rota, for one account or shared by several accounts of one office."""

    name = models.CharField(_("名称"), max_length=60)
    accounts = models.ManyToManyField(Account, related_name="rotas", verbose_name=_("公众号"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("值班表")
        verbose_name_plural = _("值班表")

    def __str__(self) -> str:
        return self.name


class ShiftPattern(models.Model):
    """A shift that repeats: its local start and length, its layer, and which days it
    runs on (working days, days off — weekends and statutory holidays —, or every day)."""

    class Days(models.TextChoices):
        WORKING = "working", _("工作日")
        OFF = "off", _("休息日和节假日")
        ALL = "all", _("每天")

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="patterns")
    name = models.CharField(_("班次"), max_length=30)
    layer = models.CharField(_("层级"), max_length=8, choices=Layer.choices, default=Layer.OPERATOR)
    start = models.TimeField(_("开始时间"))
    hours = models.PositiveSmallIntegerField(_("时长（小时）"))
    days = models.CharField(_("适用日期"), max_length=8, choices=Days.choices, default=Days.ALL)

    class Meta:
        verbose_name = _("班次")
        verbose_name_plural = _("班次")
        ordering = ["start"]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    """One person on duty from `starts_at` to `ends_at` (UTC, aware)."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("排班生成")
        OVERRIDE = "override", _("临时替班")

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="shifts")
    pattern = models.ForeignKey(ShiftPattern, null=True, blank=True, on_delete=models.SET_NULL)
    layer = models.CharField(max_length=8, choices=Layer.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shifts",
    )  # None: the person left; the shift is a gap until someone takes it
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERATED)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("值班")
        verbose_name_plural = _("值班")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["rota", "layer", "starts_at"]),
            models.Index(fields=["person", "starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.starts_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """Something the people on duty must see (a new case, a time limit, a rota gap):
    addressed to the operators on duty, then up the chain (leader on duty, supervisors)
    while nobody acknowledges it."""

    class Kind(models.TextChoices):
        NEW_CASE = "new_case", _("新诉求")
        WARNING = "warning", _("即将超时")
        BREACH = "breach", _("已超时")
        GAP = "gap", _("值班空档")

    class Level(models.IntegerChoices):
        OPERATOR = 1, _("值班员")
        LEADER = 2, _("带班领导")
        SUPERVISOR = 3, _("督办人")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=200)
    link = models.CharField(max_length=200, blank=True)
    # what the alert is about, e.g. "case:42": one alert per subject and kind
    subject = models.CharField(max_length=60)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.OPERATOR)
    created_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="alerts")

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "subject"], name="alert_once")
        ]

    def __str__(self) -> str:
        return self.text
