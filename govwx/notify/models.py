"""Notification channels (e-mail, a generic webhook, a WeCom group robot) and the
deliveries sent through them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account
from govwx.lib.secretbox import SecretField


class Channel(models.Model):
    """Where an account's alerts go besides the console's bell."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        WEBHOOK = "webhook", _("Webhook")
        WECOM = "wecom", _("企业微信群机器人")

    class Hold(models.TextChoices):
        RATE = "rate", _("限流")
        DOWN = "down", _("等待重试")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notify_channels")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60)
    # E-mail addresses (comma separated) or the URL. Encrypted: a robot's URL carries its
    # key, and whoever holds it can post to the group.
    target = SecretField(_("地址"))
    # Webhooks only: the body's HMAC-SHA256 goes in X-Govwx-Signature.
    secret = SecretField(_("签名密钥"), blank=True, default="")
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_ok_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    last_error_at = models.DateTimeField(_("最近出错"), null=True, blank=True)
    # The first failed attempt since the last success; cleared by a success.
    failing_since = models.DateTimeField(_("出错起始"), null=True, blank=True)
    # Nothing goes out before `held_until`: the rate window is full or the far end asked
    # to wait (HTTP 429, WeCom 45009), or it is down and tried again after a backoff.
    held_until = models.DateTimeField(_("暂缓至"), null=True, blank=True)
    held_for = models.CharField(_("暂缓原因"), max_length=4, choices=Hold.choices, blank=True)
    # A send in flight holds the channel until then: one send at a time per channel keeps
    # merged messages in order. A crash frees the channel when the time runs out.
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Batch(models.Model):
    """One message out through a channel: a single delivery, or several merged into one.

    Stored (with the deliveries claimed into it) before the message is sent, so the rate
    window of the channel, which counts these in the last 60 seconds, holds across
    processes."""

    class Outcome(models.TextChoices):
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        LIMITED = "limited", _("对方限流")
        RETRY = "retry", _("待重试")
        FAILED = "failed", _("发送失败")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="batches")
    # When it went out; moved to when the answer came, so the window never ends before the
    # far end's own.
    at = models.DateTimeField()
    size = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SENDING)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("发送批次")
        verbose_name_plural = _("发送批次")
        indexes = [models.Index(fields=["channel", "at"])]

    def __str__(self) -> str:
        return f"{self.channel_id} @ {self.at:%Y-%m-%d %H:%M:%S} × {self.size} ({self.outcome})"


class Delivery(models.Model):
    """One notification through one channel, stored before it is sent.

    A sender claims rows by moving them pending → sending in one conditional UPDATE, with
    the channel's row locked, into one `Batch` (one message, merged when it holds several),
    so two workers never send the same row. A crash between claiming and recording leaves
    them `sending`: never sent again, shown for a person to look at.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    # what it is about, e.g. "alert:42:1": one delivery per channel and key
    key = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    text = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    # mobile numbers to @ in a WeCom group
    mentions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # the message it last went out in (alone or merged with others)
    batch = models.ForeignKey(
        Batch, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="notify_delivery_once")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["channel", "-created_at"]),
            # a channel's pending rows, oldest first: what the next send claims
            models.Index(fields=["channel", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.channel_id} ({self.status})"
