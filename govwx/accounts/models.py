"""Organisations of the matrix, their departments, accounts and staff roles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govwx.lib.secretbox import SecretField


class Organisation(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县（区）")

    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class DepartmentQuerySet(models.QuerySet["Department"]):
    def current(self) -> DepartmentQuerySet:
        """The departments still in use (not retired or merged away)."""
        return self.filter(retired_at__isnull=True)

    def of_account(self, account: Account) -> DepartmentQuerySet:
        """The current departments of the account's organisation (none without one)."""
        if account.organisation_id is None:
            return self.none()
        return self.current().filter(organisation_id=account.organisation_id)


class Department(models.Model):
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    # When the department takes calls and cases, in the office's words (「工作日 9:00–17:00」).
    working_hours = models.CharField(_("办公时间说明"), max_length=200, blank=True)
    # Retired (撤销) or merged into another: kept for the cases it handled, offered nowhere.
    retired_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["id"]
        constraints = [
            # A name says which department it is within the organisation (the Excel
            # list names parents by name); a retired department's name is free again.
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=models.Q(retired_at__isnull=True),
                name="department_unique_current_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    class Mode(models.TextChoices):
        PLAINTEXT = "plaintext", _("明文模式")
        COMPATIBLE = "compatible", _("兼容模式")
        SAFE = "safe", _("安全模式")

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", _("订阅号")
        SERVICE = "service", _("服务号")

    name = models.CharField(_("名称"), max_length=100)
    appid = models.CharField(_("AppID"), max_length=32, unique=True)
    original_id = models.CharField(_("原始ID"), max_length=32, blank=True)
    app_secret = SecretField(_("AppSecret"))
    token = SecretField(_("Token"))
    aes_key = SecretField(_("EncodingAESKey"), blank=True)
    mode = models.CharField(_("消息加解密方式"), max_length=16, choices=Mode.choices)
    kind = models.CharField(
        _("类型"), max_length=16, choices=Kind.choices, default=Kind.SUBSCRIPTION
    )
    positioning = models.TextField(_("定位"), blank=True)
    # A template (service accounts) telling a follower their case has an answer, used
    # when the 48-hour customer-service window is closed; blank: none.
    notice_template_id = models.CharField(_("答复通知模板ID"), max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("主办组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # Bumped by every change of the account's reply rules; each process rebuilds its
    # compiled matcher when it sees a new value.
    rules_version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("公众号")
        verbose_name_plural = _("公众号")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", _("管理员")
        OPERATOR = "operator", _("运营人员（值班员）")
        EDITOR = "editor", _("编辑")
        REVIEWER = "reviewer", _("审核")
        LIAISON = "liaison", _("部门联络员")
        SUPERVISOR = "supervisor", _("督办人（带班领导）")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)
    # A liaison acts for one department: sees and answers only its cases.
    department = models.ForeignKey(
        Department,
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.account}: {self.role}"


class AuditEvent(models.Model):
    """Who did what, when: one row per service write (`rule.created`, `account.created`)."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    name = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} @ {self.created_at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A colleague invited by e-mail to take a role on an account: a one-time link that
    expires. Only the SHA-256 of the link's token is stored, so the table does not open
    the door for whoever reads it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("邮箱"))
    role = models.CharField(_("角色"), max_length=16, choices=Membership.Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    revoked_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("邀请")
        verbose_name_plural = _("邀请")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.email} → {self.account}: {self.role}"
