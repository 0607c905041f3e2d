"""The desk: citizens' cases (诉求), their messages and history, routing rules and the
time limits they are answered in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account, Department
from govwx.wechat.models import InboundMessage, OutboundMessage


class CaseType(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    REPORT = "report", _("举报")
    PRAISE = "praise", _("表扬")
    HELP = "help", _("求助")


class Status(models.TextChoices):
    NEW = "new", _("待分派")
    ASSIGNED = "assigned", _("已转办")
    IN_PROGRESS = "in_progress", _("办理中")
    WAITING = "waiting", _("待群众补充")
    ANSWERED = "answered", _("已答复")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已关闭")
    REOPENED = "reopened", _("重新办理")


# Not yet dealt with: the resolution clock runs.
UNRESOLVED = (
    Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ANSWERED,
    Status.REOPENED,
)  # fmt: skip
# Not yet answered at all: the first-response clock runs.
UNANSWERED = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED)
# A follower's new message joins their case while it is in one of these.
OPEN_STATUSES = (
    Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ANSWERED,
    Status.REOPENED,
)  # fmt: skip


class Case(models.Model):
    # indexed by (account, openid) and the inbox's indexes below, which begin with it
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="cases", db_index=False
    )
    openid = models.CharField(max_length=64)
    case_type = models.CharField(_("类型"), max_length=16, choices=CaseType.choices)
    type_confirmed = models.BooleanField(_("类型已确认"), default=False)
    subject = models.CharField(_("标题"), max_length=120)
    # Opened by words that say nothing of the matter (转人工, a menu click, a picture):
    # the citizen's next text message names and types the case (services._take_in).
    untitled = models.BooleanField(_("待命名"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.NEW)
    suggested_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("主办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # indexed by (department, status) below
    )
    assisting = models.ManyToManyField(
        Department, verbose_name=_("协办部门"), blank=True, related_name="assisted_cases"
    )
    opened_at = models.DateTimeField(_("受理时间"))
    first_response_due = models.DateTimeField(_("首次响应时限"))
    resolve_due = models.DateTimeField(_("办结时限"))
    first_responded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set once each by the sweep (services.sweep), so a restart repeats nothing.
    warned_at = models.DateTimeField(null=True, blank=True)
    response_breached_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    extensions = models.PositiveSmallIntegerField(default=0)
    # 改派: the lead department asked the office to give the case to another department
    reassign_requested_at = models.DateTimeField(null=True, blank=True)
    # Every change bumps it; a write names the revision it saw, so of two people acting
    # on the same case at once the second gets a conflict instead of silently winning.
    revision = models.PositiveIntegerField(default=1)
    # the project team (专项工作组) that owns the case, if any
    project = models.ForeignKey(
        "team.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,  # most cases have none: indexed where set, below
    )
    # What the deadlines were computed from, so that they can be computed again when a
    # year they assumed is confirmed: {"first_response": [start, n, unit],
    # "resolution": [start, n, unit], "extensions": [n, …]} (start in ISO 8601, UTC).
    deadline_basis = models.JSONField(default=dict, blank=True)
    # The first year the deadlines assumed without a confirmed holiday arrangement
    # (weekends off, no holidays): they are provisional (暂定) until it is confirmed.
    provisional_year = models.PositiveSmallIntegerField(_("暂定年份"), null=True, blank=True)
    # Opened and not yet in a new-case alert: the desk's loop announces such cases to the
    # people on duty, one alert per account and window (services.announce_new_cases).
    announce_pending = models.BooleanField(default=False)
    announced_in = models.ForeignKey(
        "team.Alert",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,  # none while a case is opened: indexed where set, below
    )

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        constraints = [
            # One open case per follower and account, whatever the number of processes:
            # WeChat's retries and a burst of messages join it instead of opening more.
            models.UniqueConstraint(
                fields=["account", "openid"],
                condition=Q(status__in=OPEN_STATUSES),
                name="case_one_open_per_follower",
            )
        ]
        # Intake writes a case row with each of these: indexes that the open-case
        # lookup and the console read, and no more (nullable links only where set).
        indexes = [
            # a follower's cases (intake's lookup of the open one: SQLite cannot use the
            # partial unique index for a query whose statuses are parameters)
            models.Index(fields=["account", "openid"], name="case_follower"),
            models.Index(
                fields=["announced_in"],
                condition=Q(announced_in__isnull=False),
                name="case_announced_in",
            ),
            models.Index(
                fields=["project"], condition=Q(project__isnull=False), name="case_project"
            ),
            # the inbox: newest first, and newest first by status
            models.Index(fields=["account", "-opened_at", "-id"]),
            models.Index(fields=["account", "status", "-opened_at"]),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "resolve_due"]),
            # the workload page: first responses and breaches in a period
            models.Index(
                fields=["account", "first_responded_at"],
                condition=Q(first_responded_at__isnull=False),
                name="case_first_response_idx",
            ),
            models.Index(
                fields=["account", "breached_at"],
                condition=Q(breached_at__isnull=False),
                name="case_breached_idx",
            ),
            models.Index(
                fields=["account", "response_breached_at"],
                condition=Q(response_breached_at__isnull=False),
                name="case_response_breached_idx",
            ),
            # only the few rows waiting for their new-case alert, or for their year
            models.Index(
                fields=["account", "id"],
                condition=Q(announce_pending=True),
                name="case_announce_pending_idx",
            ),
            models.Index(
                fields=["provisional_year"],
                condition=Q(provisional_year__isnull=False),
                name="case_provisional_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class CaseMessage(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("群众来信")
        OUT = "out", _("答复")
        NOTE = "note", _("内部备注")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    # The stored WeChat message it came from: unique, so a message joins one case once.
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="case_message"
    )
    outbound = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    text = models.TextField()
    created_at = models.DateTimeField()
    # a held reply announced by template message (see services.notify_held_replies)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("诉求消息")
        verbose_name_plural = _("诉求消息")
        ordering = ["created_at", "id"]
        indexes = [
            # the workload page: what staff wrote in a period (citizens' messages left out)
            models.Index(
                fields=["created_at"],
                condition=Q(author__isnull=False),
                name="casemessage_staff_time_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction}: {self.text[:30]}"


class CaseEvent(models.Model):
    """The case's history: who did what when. Rows are only ever added."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]
        indexes = [
            # the workload page: what staff did in a period (the system's events left out)
            models.Index(
                fields=["created_at"],
                condition=Q(actor__isnull=False),
                name="caseevent_staff_time_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """A keyword in a citizen's message implies a case type and a department: the first
    rule in order whose keyword the message contains (routing.route). The account's
    `DeskSettings.routing_mode` says whether the case goes to the department at once or
    the department is only suggested."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="routing_rules")
    keyword = models.CharField(_("关键词"), max_length=60)
    case_type = models.CharField(_("类型"), max_length=16, choices=CaseType.choices, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.CASCADE
    )
    priority = models.PositiveIntegerField(_("优先级"), default=100)

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = _("分派规则")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.keyword


class TimeLimit(models.Model):
    """An account's time limits for one case type (defaults in services.DEFAULT_LIMITS)."""

    class Unit(models.TextChoices):
        WORKING_DAYS = "working_days", _("工作日")
        HOURS = "hours", _("小时")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="time_limits")
    case_type = models.CharField(_("类型"), max_length=16, choices=CaseType.choices)
    first_response = models.PositiveSmallIntegerField(_("首次响应时限"))
    first_response_unit = models.CharField(max_length=16, choices=Unit.choices)
    resolution = models.PositiveSmallIntegerField(_("办结时限"))
    resolution_unit = models.CharField(max_length=16, choices=Unit.choices)
    # Off: the clock keeps running when a case moves to another department (the norm);
    # on: the new department gets the full time limit from the moment it is assigned.
    restart_on_transfer = models.BooleanField(_("改派后重新计时"), default=False)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        constraints = [
            models.UniqueConstraint(fields=["account", "case_type"], name="time_limit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.case_type}"


class IntakeCursor(models.Model):
    """How far the desk has taken in stored messages (one row): the stored inbound
    messages themselves are the desk's queue, so the callback writes nothing more."""

    last_inbound_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("受理进度")
        verbose_name_plural = _("受理进度")

    def __str__(self) -> str:
        return str(self.last_inbound_id)


class IntakeFailure(models.Model):
    """A message the desk could not take in yet (e.g. no calendar for the year): tried
    again on every run until it succeeds, and shown to an admin meanwhile."""

    inbound = models.OneToOneField(InboundMessage, on_delete=models.CASCADE, related_name="+")
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("未能受理的消息")
        verbose_name_plural = _("未能受理的消息")

    def __str__(self) -> str:
        return f"{self.inbound_id}: {self.error[:40]}"


class Rating(models.Model):
    """The citizen's satisfaction with a case: one per case, from its follower."""

    class Score(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY = "basically", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="rating")
    score = models.CharField(_("评价"), max_length=16, choices=Score.choices)
    comment = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")

    def __str__(self) -> str:
        return f"#{self.case_id} {self.score}"


class DeskSettings(models.Model):
    """An account's choices for the desk (no row: the defaults)."""

    class RoutingMode(models.TextChoices):
        AUTO = "auto", _("自动转办：命中规则即转给对应部门")
        SUGGEST = "suggest", _("仅建议：由值班员确认后转办")

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="+")
    routing_mode = models.CharField(
        _("分办方式"), max_length=8, choices=RoutingMode.choices, default=RoutingMode.AUTO
    )

    class Meta:
        verbose_name = _("诉求办理设置")
        verbose_name_plural = _("诉求办理设置")

    def __str__(self) -> str:
        return f"{self.account_id}/{self.routing_mode}"


class CannedReply(models.Model):
    """A reply text the office keeps at hand (快捷回复), for one case type or all, with
    variables filled in for the case ({昵称} {诉求编号} {部门}: canned.VARIABLES)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="canned_replies")
    title = models.CharField(_("标题"), max_length=40)
    text = models.TextField(_("内容"))
    # blank: offered for every case type
    case_type = models.CharField(_("适用类型"), max_length=16, choices=CaseType.choices, blank=True)

    class Meta:
        verbose_name = _("快捷回复")
        verbose_name_plural = _("快捷回复")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class TopicCount(models.Model):
    """How many of an account's citizens' messages taken in by the desk mentioned a word,
    per 10-minute bucket: the usual rate that a surge of concern (舆情异动) stands out
    against. Written by the batch, one upsert per word and bucket."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    word = models.CharField(max_length=16)
    bucket = models.DateTimeField()  # start of the 10-minute bucket (UTC)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("话题计数")
        verbose_name_plural = _("话题计数")
        constraints = [
            models.UniqueConstraint(fields=["account", "word", "bucket"], name="topic_count_unique")
        ]
        indexes = [models.Index(fields=["account", "bucket"], name="topic_count_bucket")]

    def __str__(self) -> str:
        return f"{self.word} {self.bucket:%Y-%m-%d %H:%M} {self.count}"
