"""Auto-reply: the follow reply, the default reply, keyword rules and menu-click replies."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account


class Rule(models.Model):
    class ReplyMode(models.TextChoices):
        ALL = "all", _("回复全部")
        RANDOM = "random", _("随机回复一条")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("规则名称"), max_length=60)
    # Lower answers first (1 is the highest priority); ties go to the older rule.
    priority = models.PositiveIntegerField(_("优先级"), default=100)
    reply_mode = models.CharField(
        _("回复方式"), max_length=8, choices=ReplyMode.choices, default=ReplyMode.RANDOM
    )
    enabled = models.BooleanField(_("启用"), default=True)
    # 转人工: besides replying, the message goes to the desk and opens (or joins) a case
    handoff = models.BooleanField(_("转人工办理"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("关键词规则")
        verbose_name_plural = _("关键词规则")
        ordering = ["priority", "id"]
        indexes = [models.Index(fields=["account", "priority", "id"])]

    def __str__(self) -> str:
        return self.name


class Keyword(models.Model):
    class Match(models.TextChoices):
        EXACT = "exact", _("全匹配")
        CONTAINS = "contains", _("半匹配（包含）")
        REGEX = "regex", _("正则")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="keywords")
    text = models.CharField(_("关键词"), max_length=200)
    match = models.CharField(_("匹配方式"), max_length=8, choices=Match.choices)

    class Meta:
        verbose_name = _("关键词")
        verbose_name_plural = _("关键词")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.text} ({self.match})"


class Reply(models.Model):
    """One reply message. `payload` holds the fields of its kind:

    text {content}; image / voice {media_id}; video {media_id, title, description};
    music {title, description, music_url, hq_music_url, thumb_media_id};
    news {articles: [{title, description, pic_url, url}]}.
    """

    class Trigger(models.TextChoices):
        RULE = "rule", _("关键词回复")
        FOLLOW = "follow", _("被关注回复")
        DEFAULT = "default", _("收到消息回复")
        CLICK = "click", _("菜单点击回复")

    class Kind(models.TextChoices):
        TEXT = "text", _("文字")
        IMAGE = "image", _("图片")
        VOICE = "voice", _("语音")
        VIDEO = "video", _("视频")
        MUSIC = "music", _("音乐")
        NEWS = "news", _("图文")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="replies")
    trigger = models.CharField(max_length=8, choices=Trigger.choices)
    rule = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    click_key = models.CharField(max_length=128, blank=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    payload = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("回复内容")
        verbose_name_plural = _("回复内容")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["account", "trigger"])]

    def __str__(self) -> str:
        return f"{self.trigger}/{self.kind}"


class MenuHandoff(models.Model):
    """A menu button whose click goes to the desk (e.g. 「我要投诉」): the click opens a
    case, or joins the follower's open one, besides any click reply."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="menu_handoffs")
    click_key = models.CharField(_("菜单 key"), max_length=128)

    class Meta:
        verbose_name = _("转人工菜单")
        verbose_name_plural = _("转人工菜单")
        constraints = [
            models.UniqueConstraint(fields=["account", "click_key"], name="menu_handoff_unique")
        ]

    def __str__(self) -> str:
        return self.click_key
