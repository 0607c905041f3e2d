"""Publishing: the material library (素材库), articles with their revisions, the editorial
workflow across departments (核实 · 校对 · 签发), the content plan (选题), and what was
published where (WeChat's draft and publish jobs, mass sends, reposts in the matrix).

Every time-based step is a row with a due time (scheduled publishing, mass sends), run by
the task worker and claimed under a lock, so that it happens once after any restart.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account, Department
from govwx.wechat.models import media_storage


def _token() -> str:
    return secrets.token_urlsafe(12)


class Material(models.Model):
    """A picture, audio or video uploaded once and reused in articles. The file is kept
    here (checked and, for pictures, resized to WeChat's limits) and uploaded to WeChat's
    permanent material (and, for pictures used in a body, to the in-article image API)."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        VOICE = "voice", _("音频")
        VIDEO = "video", _("视频")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    title = models.CharField(_("名称"), max_length=64)
    # What the picture shows, in the editor's words (also the positioning measure of
    # pictures that show only meetings).
    caption = models.CharField(_("图片说明"), max_length=120, blank=True)
    tags = models.CharField(_("标签"), max_length=200, blank=True)  # space-separated
    file = models.FileField(storage=media_storage, max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    # WeChat's permanent material, and the in-article URL of a picture
    wechat_media_id = models.CharField(max_length=128, blank=True)
    wechat_url = models.URLField(max_length=500, blank=True)
    article_url = models.URLField(_("图文内图片地址"), max_length=500, blank=True)
    # a picture's small JPEG for the console's grid (empty for audio and video)
    thumbnail = models.FileField(storage=media_storage, max_length=255, blank=True)
    # why the last push to WeChat failed, in words (empty once one succeeds)
    push_error = models.CharField(max_length=255, blank=True)
    # a push under way since then: claimed, so that two pushes at once upload once
    pushing_since = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("素材")
        verbose_name_plural = _("素材")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "sha256"], name="material_unique_file")
        ]

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """An article: its current text (the latest revision's), where it is in the workflow,
    and what publishing made of it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        VERIFYING = "verifying", _("待核实")
        PROOFREADING = "proofreading", _("待校对")
        APPROVING = "approving", _("待签发")
        SCHEDULED = "scheduled", _("定时发布")
        PUBLISHING = "publishing", _("发布中")
        PUBLISHED = "published", _("已发布")
        FAILED = "failed", _("发布失败")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Locality(models.TextChoices):
        CITY = "city", _("本市")
        PROVINCE = "province", _("本省")
        NATIONAL = "national", _("全国")

    class Category(models.TextChoices):
        ROUTINE = "routine", _("日常信息")
        SERVICE = "service", _("办事服务")
        POLICY = "policy", _("政策解读")
        EMERGENCY = "emergency", _("权威发布")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(_("标题"), max_length=64)
    author = models.CharField(_("作者"), max_length=16, blank=True)
    digest = models.CharField(_("摘要"), max_length=120, blank=True)
    cover = models.ForeignKey(
        Material, verbose_name=_("封面"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    source_department = models.ForeignKey(
        Department, verbose_name=_("来源部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="articles",
    )  # fmt: skip
    original = models.BooleanField(_("原创"), default=True)
    source_name = models.CharField(_("转载来源"), max_length=100, blank=True)
    source_url = models.URLField(_("原文链接"), max_length=500, blank=True)
    locality = models.CharField(
        _("内容属地"), max_length=10, choices=Locality.choices, default=Locality.CITY
    )
    category = models.CharField(
        _("类别"), max_length=10, choices=Category.choices, default=Category.ROUTINE
    )
    # Major: approved by a leader (policy interpretation, or a category or keyword of the
    # account's policy says so), decided when it is submitted.
    major = models.BooleanField(_("重大"), default=False)
    emergency = models.BooleanField(_("权威发布"), default=False)
    target_minutes = models.PositiveIntegerField(_("目标用时（分钟）"), null=True, blank=True)
    # The body: a list of blocks ({"type": "text"|"image"|"audio"|"video"|"h5"|"service"|
    # "article", ...}), and the WeChat article HTML made of it (sanitised, pictures at
    # their WeChat URLs once uploaded).
    body = models.JSONField(default=list, blank=True)
    html = models.TextField(blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    revision = models.PositiveIntegerField(default=1)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    locked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(_("定时发布时间"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # the public H5 page's address: /a/<token>/
    token = models.CharField(max_length=24, unique=True, default=_token)
    # WeChat: the draft, the publish job and its result
    wechat_draft_id = models.CharField(max_length=128, blank=True)
    publish_id = models.CharField(max_length=64, blank=True)
    msg_data_id = models.CharField(max_length=64, blank=True)
    wechat_article_id = models.CharField(max_length=128, blank=True)
    wechat_url = models.URLField(max_length=500, blank=True)
    publish_error = models.CharField(max_length=255, blank=True)
    publish_started_at = models.DateTimeField(null=True, blank=True)
    # 转载: the article of another account of the matrix this one reposts
    reposted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reposts"
    )
    reads = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        indexes = [
            models.Index(fields=["account", "status", "-updated_at"]),
            # the article list, newest first: all of an account's, a liaison's department's
            models.Index(fields=["account", "-updated_at", "-id"], name="article_list_idx"),
            models.Index(fields=["account", "source_department", "-updated_at", "-id"], name="article_department_idx"),
            models.Index(fields=["account", "-published_at"], condition=Q(published_at__isnull=False), name="article_published_idx"),
            models.Index(fields=["scheduled_for"], condition=Q(status="scheduled"), name="article_due_idx"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.title


class Revision(models.Model):
    """One saved state of an article: kept for ever, compared and restored."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    # title, author, digest, cover, body, html … as saved
    data = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("修订版本")
        verbose_name_plural = _("修订版本")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} #{self.number}"


class Step(models.Model):
    """One step of an article's workflow: submitted (提交), verified by its source
    department (核实), proofread (校对), approved (签发), published (发布), or returned
    (退回) with a reason. Nothing is deleted: the list of steps is the article's history,
    with who, when, how long and why."""

    class Kind(models.TextChoices):
        SUBMIT = "submit", _("提交")
        VERIFY = "verify", _("核实")
        PROOFREAD = "proofread", _("校对")
        APPROVE = "approve", _("签发")
        PUBLISH = "publish", _("发布")

    class Outcome(models.TextChoices):
        OPEN = "open", _("办理中")
        DONE = "done", _("通过")
        RETURNED = "returned", _("退回")
        CANCELLED = "cancelled", _("撤销")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    # who must act: a department (核实: its liaison), a role, or a person
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    revision = models.PositiveIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)  # an emergency release's target
    # what the step decided beside its comment: the proofreading findings a reviewer
    # dismissed, with the reason ({"dismissed": [{"key", "message", "reason", "by", "at"}]})
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("流程步骤")
        verbose_name_plural = _("流程步骤")
        ordering = ["started_at", "id"]
        indexes = [
            models.Index(fields=["article", "kind", "outcome"]),
            # 待我处理: the open steps, whatever the number of finished ones
            models.Index(fields=["kind", "started_at"], condition=Q(outcome="open"), name="step_open_idx"),
            # 退回给我的稿件: the returns, whatever the number of other steps
            models.Index(fields=["-finished_at", "-id"], condition=Q(outcome="returned"), name="step_returned_idx"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind} {self.outcome}"


def _major_by_default() -> list[str]:
    """Policy interpretation (政策解读) is approved by a leader unless the account says
    otherwise."""
    return [Article.Category.POLICY.value]


class Policy(models.Model):
    """Who approves (签发) what, per account: routine information by the office (the
    delegated authority), policy interpretation and anything marked major by a leader;
    whether the source department verifies; an emergency release's target."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="content_policy")
    # categories whose articles a leader approves
    major_categories = models.JSONField(default=_major_by_default, blank=True)
    # words that make an article major wherever they appear in its title or text
    major_keywords = models.JSONField(default=list, blank=True)
    verify_required = models.BooleanField(_("来源部门须核实"), default=True)
    emergency_minutes = models.PositiveIntegerField(_("权威发布目标用时（分钟）"), default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("发布规则")
        verbose_name_plural = _("发布规则")

    def __str__(self) -> str:
        return f"policy {self.account_id}"


class Topic(models.Model):
    """选题: a planned topic of a week, with its owner, department, project team and date."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        WRITING = "writing", _("撰写中")
        DONE = "done", _("已发布")
        DROPPED = "dropped", _("放弃")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(_("选题"), max_length=100)
    notes = models.TextField(_("说明"), blank=True)
    date = models.DateField(_("计划日期"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    project = models.ForeignKey(
        "team.Project", verbose_name=_("专项工作组"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="topics",
    )  # fmt: skip
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="topics"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("选题")
        verbose_name_plural = _("选题")
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["account", "date"])]

    def __str__(self) -> str:
        return self.title


class MassSend(models.Model):
    """群发: a published article, a text or a picture sent to all followers or to a tag
    (sendall), or to a list of followers split into calls of WeChat's bound (send). Each
    call is a `MassCall` with its own clientmsgid, so a restart repeats none."""

    class Kind(models.TextChoices):
        ARTICLE = "mpnews", _("图文")
        TEXT = "text", _("文字")
        IMAGE = "image", _("图片")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")
        DELETED = "deleted", _("已删除")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mass_sends")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.PROTECT, related_name="mass_sends"
    )
    text = models.TextField(blank=True)
    image = models.ForeignKey(
        Material, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_all = models.BooleanField(default=False)
    tag_id = models.PositiveIntegerField(null=True, blank=True)
    tag_name = models.CharField(max_length=30, blank=True)
    openids = models.JSONField(default=list, blank=True)  # a list send, before its calls
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    due_at = models.DateTimeField()
    error = models.CharField(max_length=255, blank=True)
    # a send under way is claimed until then: a worker killed mid-send is taken over after
    sending_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("群发")
        verbose_name_plural = _("群发")
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status__in=["scheduled", "sending"]), name="mass_due_idx"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"


class MassCall(models.Model):
    """One call of a mass send: its clientmsgid (WeChat refuses a second call with it:
    45065), what WeChat answered, and the counts of its MASSSENDJOBFINISH event."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待调用")
        CALLED = "called", _("已提交")
        FINISHED = "finished", _("已完成")
        FAILED = "failed", _("失败")

    mass_send = models.ForeignKey(MassSend, on_delete=models.CASCADE, related_name="calls")
    index = models.PositiveIntegerField()
    clientmsgid = models.CharField(max_length=64, unique=True)
    openids = models.JSONField(default=list, blank=True)
    # an article: the draft this call sends (mpnews takes a draft, which WeChat removes
    # once it is sent, so each call has its own)
    media_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    msg_id = models.CharField(max_length=64, blank=True)
    msg_data_id = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    filtered = models.PositiveIntegerField(null=True, blank=True)
    sent = models.PositiveIntegerField(null=True, blank=True)
    errors = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    called_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("群发调用")
        verbose_name_plural = _("群发调用")
        ordering = ["mass_send", "index"]
        constraints = [
            models.UniqueConstraint(fields=["mass_send", "index"], name="mass_call_unique")
        ]
        indexes = [models.Index(fields=["msg_id"])]

    def __str__(self) -> str:
        return f"{self.mass_send_id}/{self.index}"


# ------------------------------------------------------------------ proofreading


class ProofEntry(models.Model):
    """A word list entry the proofreading checker reads (校对词表): for one account, or
    (no account) for the whole installation. Nothing is deleted: a retired entry is kept,
    hidden from the checker, with who retired it in the audit log."""

    class Kind(models.TextChoices):
        FORMULATION = "formulation", _("规范提法")
        AVOID = "avoid", _("禁用词")
        MISUSED = "misused", _("易错词")
        LEADER = "leader", _("领导姓名职务")
        PUBLIC_NUMBER = "public_number", _("公开号码")
        PLACE = "place", _("地名")

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="proof_entries"
    )
    kind = models.CharField(_("类别"), max_length=16, choices=Kind.choices)
    # the formulation, the word to avoid, the wrong form, the leader's name, the number
    # or the place
    text = models.CharField(_("词语"), max_length=100)
    # the right form (易错词), the leader's title, the suggestion (禁用词), what the number is
    extra = models.CharField(_("对应内容"), max_length=100, blank=True)
    # why (required for a word to avoid)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("校对词条")
        verbose_name_plural = _("校对词表")
        ordering = ["kind", "text", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "text"],
                condition=Q(retired_at__isnull=True, account__isnull=False),
                name="proof_entry_unique_current",
            ),
            # NULL is distinct from NULL in a unique index: the installation's own rows
            # need a constraint of their own
            models.UniqueConstraint(
                fields=["kind", "text"],
                condition=Q(retired_at__isnull=True, account__isnull=True),
                name="proof_entry_unique_current_installation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.text}"


class Dismissal(models.Model):
    """A proofreading finding a reviewer dismissed, saying why. It holds for the text it
    was dismissed in (by its SHA-256): the same finding in the same text stays dismissed;
    any change of the text asks again."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="dismissals")
    # the finding's stable key: family, rule and the text found (`proofread.services.key_of`)
    rule = models.CharField(max_length=300)
    text_sha256 = models.CharField(max_length=64)
    found = models.CharField(_("所指文字"), max_length=200)
    reason = models.CharField(_("理由"), max_length=500)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("已忽略的校对提示")
        verbose_name_plural = _("已忽略的校对提示")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "text_sha256", "rule"], name="dismissal_unique"
            )
        ]

    def __str__(self) -> str:
        return self.rule


class FindingRecord(models.Model):
    """A finding of the checker in one object (an article, an auto-reply rule …), kept for
    the report: one row per object, rule and text found, updated on each check; a finding
    fixed later keeps its row (found, not published)."""

    class Where(models.TextChoices):
        ARTICLE = "article", _("文章")
        REPLY_RULE = "reply_rule", _("自动回复")
        MENU = "menu", _("自定义菜单")
        GUIDE = "guide", _("办事指南")
        CANNED_REPLY = "canned_reply", _("快捷回复")
        CASE_REPLY = "case_reply", _("诉求答复")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="finding_records")
    where = models.CharField(_("位置"), max_length=16, choices=Where.choices)
    object_id = models.CharField(max_length=64)
    family = models.CharField(_("类别"), max_length=32)
    severity = models.CharField(_("级别"), max_length=8)
    rule = models.CharField(_("规则"), max_length=100)
    found = models.CharField(_("所指文字"), max_length=200)
    # the first day of the local month it was first found in
    month = models.DateField(_("月份"))
    dismissed = models.BooleanField(_("已忽略"), default=False)
    # still there when the object reached publication
    published = models.BooleanField(_("已发布"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("校对记录")
        verbose_name_plural = _("校对记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "where", "object_id", "family", "rule", "found"],
                name="finding_record_unique",
            )
        ]
        indexes = [models.Index(fields=["account", "month"])]

    def __str__(self) -> str:
        return f"{self.where}:{self.object_id} {self.rule} {self.found}"
