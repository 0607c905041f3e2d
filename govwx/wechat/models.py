"""What WeChat gives us: followers and the stored inbound and outbound messages."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account


class Follower(models.Model):
    # db_index=False: the unique (account, openid) index serves lookups by account.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="followers", db_index=False
    )
    openid = models.CharField(max_length=64)
    subscribed = models.BooleanField(_("关注中"), default=False)
    subscribed_at = models.DateTimeField(_("关注时间"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("取消关注时间"), null=True, blank=True)
    # qrscene of the parametric QR code the follower came through, if any
    scene = models.CharField(_("关注场景"), max_length=128, blank=True)
    first_seen_at = models.DateTimeField(_("首次互动"))
    # The follower's last message or menu action: opens the 48-hour window of
    # customer-service messages.
    last_interaction_at = models.DateTimeField(_("最近互动"))
    nickname = models.CharField(_("备注名"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("粉丝")
        verbose_name_plural = _("粉丝")
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="follower_unique_openid")
        ]

    def __str__(self) -> str:
        return self.nickname or self.openid


class InboundMessage(models.Model):
    """One message or event WeChat delivered, stored before it was answered.

    `dedup_key` makes WeChat's retries land on the same row: the unique constraint, not
    a process's memory, decides which delivery is first.
    """

    # db_index=False: the composite indexes below start with the account.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="inbound", db_index=False
    )
    openid = models.CharField(max_length=64)
    dedup_key = models.CharField(max_length=200)
    msg_type = models.CharField(max_length=32)
    event = models.CharField(max_length=64, blank=True)
    msg_id = models.BigIntegerField(null=True, blank=True)
    content = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    sent_at = models.DateTimeField()  # CreateTime
    received_at = models.DateTimeField()
    # What was answered: {"kind": ..., "data": {...}} or {} for silence
    reply = models.JSONField(default=dict, blank=True)
    # how the pipeline handled it: rule / follow / default / click / none
    handled_by = models.CharField(max_length=16, blank=True)
    rule_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("收到的消息")
        verbose_name_plural = _("收到的消息")
        constraints = [
            models.UniqueConstraint(fields=["account", "dedup_key"], name="inbound_dedup")
        ]
        # Every index is written by every callback, so there are few: the message log
        # and today's counts (account, time), and a follower's conversation.
        indexes = [
            models.Index(fields=["account", "received_at"]),
            models.Index(fields=["account", "openid"]),
        ]

    def __str__(self) -> str:
        return f"{self.openid}: {self.content or self.event or self.msg_type}"


class OutboundMessage(models.Model):
    """A message govwx sends through the API (customer-service messages for now).

    Stored before it is sent. A sender claims a row by moving it pending → sending in one
    conditional UPDATE, so no message is sent twice; a crash mid-send leaves it `sending`
    for a person to look at rather than risk a duplicate.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        # outside the 48-hour window or over its quota: kept, and sent again when the
        # follower next interacts
        HELD = "held", _("等待粉丝再次互动")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="outbound")
    openid = models.CharField(max_length=64)
    kind = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    in_reply_to = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="followups"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("发出的消息")
        verbose_name_plural = _("发出的消息")
        indexes = [models.Index(fields=["account", "openid", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.openid}: {self.kind} ({self.status})"


def media_storage() -> Any:
    """The store of media files (settings.STORAGES["media"]: the file system or S3)."""
    from django.core.files.storage import storages

    return storages["media"]


class MessageMedia(models.Model):
    """The file behind a message: a picture, voice or video a follower sent (fetched from
    WeChat by media/get within its three days), or a picture staff sent (uploaded as
    temporary media). Stored in `media_storage()`, never at a public URL.

    An inbound row waits `pending` with its next attempt's time; a fetch that fails is
    tried again with backoff, and `failed` says in `error` why it never will be."""

    class Status(models.TextChoices):
        PENDING = "pending", _("等待获取")
        STORED = "stored", _("已保存")
        FAILED = "failed", _("获取失败")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    inbound = models.OneToOneField(
        InboundMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="media"
    )
    outbound = models.OneToOneField(
        OutboundMessage, null=True, blank=True, on_delete=models.CASCADE, related_name="media"
    )
    kind = models.CharField(max_length=16)  # image / voice / video / shortvideo
    media_id = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    file = models.FileField(storage=media_storage, max_length=255, blank=True)
    thumbnail = models.FileField(storage=media_storage, max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    stored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("消息媒体")
        verbose_name_plural = _("消息媒体")
        indexes = [
            # the fetcher's queue: only the rows still waiting
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="media_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.media_id[:16]} ({self.status})"

    def failure_text(self) -> str:
        """What the case says of media that never arrived, in words."""
        from django.utils.translation import gettext

        if self.error.startswith("40007"):
            return gettext("未能取回：微信已不再保存该文件（微信只保留三天，或媒体 ID 无效）。")
        return gettext("未能取回：三天内多次向微信获取均未成功（%(error)s）。") % {
            "error": self.error
        }
