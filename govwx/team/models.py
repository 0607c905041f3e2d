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
    # the escalation chain: minutes an alert may stay unacknowledged at a level
    leader_after = models.PositiveSmallIntegerField(_("未确认多少分钟后提醒带班领导"), default=15)
    supervisor_after = models.PositiveSmallIntegerField(
        _("带班领导未确认多少分钟后提醒督办人"), default=30
    )
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
        SWAP = "swap", _("换班")
        EDITED = "edited", _("手工调整")

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
    # Planned on a day of a year whose holiday arrangement is not confirmed yet (weekends
    # off, no holidays): checked again when that year is confirmed.
    provisional_year = models.PositiveSmallIntegerField(_("暂定年份"), null=True, blank=True)

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
        SURGE = "surge", _("舆情异动")
        CALENDAR = "calendar", _("节假日安排缺失")
        RELEASE = "release", _("权威发布")

    class Level(models.IntegerChoices):
        OPERATOR = 1, _("值班员")
        LEADER = 2, _("带班领导")
        SUPERVISOR = 3, _("督办人")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=200)
    # the longer story: a burst's most frequent words and examples, a surge's trend
    detail = models.TextField(blank=True)
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
        indexes = [models.Index(fields=["account", "created_at"], name="alert_account_created")]

    def __str__(self) -> str:
        return self.text


class HandoffNote(models.Model):
    """交班记录: what the person going off duty tells the next shift."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="handoffs")
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="handoffs"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("交班内容"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("交班记录")
        verbose_name_plural = _("交班记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]


class Skill(models.TextChoices):
    WRITING = "writing", _("文字写作")
    PROOFREADING = "proofreading", _("校对")
    PHOTOGRAPHY = "photography", _("摄影")
    VIDEO = "video", _("视频")
    DESIGN = "design", _("设计/H5")
    DATA = "data", _("数据分析")
    POLICY = "policy", _("政策解读")
    COMMUNITY = "community", _("社群运营")


class StaffProfile(models.Model):
    """A staff member's profile: skills, title, phone (for @mentions in a WeCom group)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    title = models.CharField(_("职务"), max_length=60, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    # The person's userid in the office's WeCom (企业微信): the group robot @-mentions by it.
    wecom_userid = models.CharField(_("企业微信账号"), max_length=64, blank=True)
    skills = models.JSONField(_("技能"), default=list, blank=True)  # Skill values

    class Meta:
        verbose_name = _("人员档案")
        verbose_name_plural = _("人员档案")

    def __str__(self) -> str:
        return str(self.user)


class Project(models.Model):
    """专项工作组: a team formed for one task (a campaign, a special topic, a major
    event), with a lead, members chosen by skill, deliverables and the cases it owns.
    Closing it archives it."""

    class Kind(models.TextChoices):
        CAMPAIGN = "campaign", _("宣传活动")
        TOPIC = "topic", _("专题")
        EVENT = "event", _("重大活动")

    class Status(models.TextChoices):
        ACTIVE = "active", _("进行中")
        ARCHIVED = "archived", _("已结项归档")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.CAMPAIGN)
    goal = models.TextField(_("目标"), blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        related_name="led_projects",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="projects", verbose_name=_("成员"), blank=True
    )
    starts_on = models.DateField(_("开始日期"))
    due_on = models.DateField(_("截止日期"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    closed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(_("结项总结"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("专项工作组")
        verbose_name_plural = _("专项工作组")
        ordering = ["status", "due_on", "id"]

    def __str__(self) -> str:
        return self.name


class Deliverable(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deliverables")
    title = models.CharField(_("成果"), max_length=120)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_on = models.DateField(_("截止日期"))
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("成果")
        verbose_name_plural = _("成果")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title
