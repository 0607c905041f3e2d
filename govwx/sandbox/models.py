"""The simulated WeChat platform's own tables: accounts, followers, conversations, tokens.

Nothing here refers to govwx's tables; the sandbox knows an account only by what an
operator would type into the MP backend (AppID, secret, token, key, mode, URL).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    class Mode(models.TextChoices):
        PLAINTEXT = "plaintext", _("明文模式")
        COMPATIBLE = "compatible", _("兼容模式")
        SAFE = "safe", _("安全模式")

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", _("订阅号")
        SERVICE = "service", _("服务号")

    name = models.CharField(_("名称"), max_length=64)
    appid = models.CharField(_("AppID"), max_length=32, unique=True)
    secret = models.CharField(_("AppSecret"), max_length=64)
    token = models.CharField(_("令牌（Token）"), max_length=32)
    aes_key = models.CharField(_("消息加解密密钥"), max_length=43, blank=True)
    mode = models.CharField(_("消息加解密方式"), max_length=10, choices=Mode.choices)
    original_id = models.CharField(_("原始ID"), max_length=32)
    callback_url = models.URLField(_("服务器地址（URL）"), max_length=500, blank=True)
    # The mass-send quotas differ by type; mass/send by OpenID needs a verified service account.
    kind = models.CharField(
        _("帐号类型"), max_length=12, choices=Kind.choices, default=Kind.SUBSCRIPTION
    )
    verified = models.BooleanField(_("已认证"), default=True)
    # The current custom menu exactly as accepted by menu/create; null = no menu.
    menu = models.JSONField(_("自定义菜单"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("沙箱公众号")
        verbose_name_plural = _("沙箱公众号")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.appid})"


class Follower(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="followers")
    openid = models.CharField(_("OpenID"), max_length=64)
    nickname = models.CharField(_("昵称"), max_length=64, blank=True)
    subscribed = models.BooleanField(_("已关注"), default=False)
    subscribe_time = models.DateTimeField(_("关注时间"), null=True, blank=True)
    subscribe_scene = models.CharField(_("关注渠道"), max_length=40, blank=True)
    qr_scene_str = models.CharField(_("二维码场景值"), max_length=64, blank=True)
    # Start of the 48-hour customer-service window and the messages sent inside it.
    last_interaction_at = models.DateTimeField(_("最近互动时间"), null=True, blank=True)
    window_sent = models.PositiveIntegerField(_("本窗口已发客服消息数"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("沙箱粉丝")
        verbose_name_plural = _("沙箱粉丝")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="sandbox_follower_unique")
        ]

    def __str__(self) -> str:
        return self.nickname or self.openid


class Entry(models.Model):
    """One line of a follower's chat: what the follower did, or what the account sent."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", _("粉丝发出")
        REPLY = "reply", _("被动回复")
        CUSTOMER_SERVICE = "custom", _("客服消息")
        TEMPLATE = "template", _("模板消息")
        MASS = "mass", _("群发消息")
        PREVIEW = "preview", _("预览消息")

    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    msg_type = models.CharField(_("消息类型"), max_length=32)
    payload = models.JSONField(_("内容"), default=dict)
    # Inbound only: how the callback went (status, attempts, elapsed_ms, error, msg_id).
    delivery = models.JSONField(_("投递结果"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("会话记录")
        verbose_name_plural = _("会话记录")
        ordering = ["id"]
        indexes = [models.Index(fields=["follower", "id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.msg_type}"


class AccessToken(models.Model):
    class Kind(models.TextChoices):
        NORMAL = "normal", _("普通 access_token")
        STABLE = "stable", _("稳定版 access_token")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    token = models.CharField(max_length=200, unique=True)
    expires_at = models.DateTimeField()
    # Set when a newer token replaced this one: after it the token answers 40001, not 42001.
    invalid_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("接口调用凭据")
        verbose_name_plural = _("接口调用凭据")
        indexes = [models.Index(fields=["account", "kind", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} token of {self.account_id}"


class Robot(models.Model):
    """A WeCom (企业微信) group robot: a group chat and the webhook key that posts into it.

    `delay` and `errcode` are the driver's fault settings: hold every request this many
    seconds (longer than the caller's timeout makes it time out), and answer this error
    code instead of posting (0: post normally)."""

    key = models.CharField(_("Webhook key"), max_length=64, unique=True)
    name = models.CharField(_("群名称"), max_length=64)
    delay = models.FloatField(_("响应延迟（秒）"), default=0)
    errcode = models.IntegerField(_("强制返回的错误码"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("企业微信群机器人")
        verbose_name_plural = _("企业微信群机器人")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RobotMessage(models.Model):
    """What a robot posted into its group."""

    robot = models.ForeignKey(Robot, on_delete=models.CASCADE, related_name="messages")
    msg_type = models.CharField(_("消息类型"), max_length=32)
    content = models.TextField(_("内容"), blank=True)
    mentioned_list = models.JSONField(default=list)
    mentioned_mobile_list = models.JSONField(default=list)
    payload = models.JSONField(_("原始消息"), default=dict)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("群机器人消息")
        verbose_name_plural = _("群机器人消息")
        ordering = ["id"]
        indexes = [models.Index(fields=["robot", "created_at"])]

    def __str__(self) -> str:
        return f"{self.robot_id}: {self.content[:40]}"


class Tag(models.Model):
    """A follower tag (用户标签). Ids 0–2 are WeChat's own; an account's tags start at 100."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tags")
    tag_id = models.PositiveIntegerField(_("标签ID"))
    name = models.CharField(_("标签名"), max_length=30)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("粉丝标签")
        verbose_name_plural = _("粉丝标签")
        ordering = ["tag_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "tag_id"], name="sandbox_tag_unique_id"),
            models.UniqueConstraint(fields=["account", "name"], name="sandbox_tag_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    """A follower carries a tag; the newest tagging decides which conditional menu shows."""

    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")
    tagged_at = models.DateTimeField()

    class Meta:
        verbose_name = _("粉丝的标签")
        verbose_name_plural = _("粉丝的标签")
        ordering = ["tagged_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["follower", "tag"], name="sandbox_tagging_unique")
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} #{self.tag_id}"


class ConditionalMenu(models.Model):
    """A conditional (个性化) menu as accepted by menu/addconditional."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="conditional_menus")
    menuid = models.BigIntegerField(_("菜单ID"), unique=True)
    button = models.JSONField(_("菜单"))
    matchrule = models.JSONField(_("匹配规则"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("个性化菜单")
        verbose_name_plural = _("个性化菜单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(self.menuid)


class Media(models.Model):
    """A temporary media file (临时素材): uploaded by the account (media/upload) or sent by a
    follower (a picture, voice or video in the chat). WeChat keeps it three days: after
    that media/get answers 40007."""

    class Origin(models.TextChoices):
        UPLOAD = "upload", _("公众号上传")
        FOLLOWER = "follower", _("粉丝发送")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="media")
    media_id = models.CharField(_("媒体ID"), max_length=128, unique=True)
    media_type = models.CharField(_("类型"), max_length=8)  # image / voice / video / thumb
    origin = models.CharField(max_length=8, choices=Origin.choices)
    content_type = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("临时素材")
        verbose_name_plural = _("临时素材")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.media_type} {self.media_id[:12]}"


# ------------------------------------------------------------------ publishing (docs/wechat-publishing.md)


class Material(models.Model):
    """A permanent material (永久素材: material/add_material), or a picture uploaded for use
    inside articles (media/uploadimg), which WeChat keeps apart: it answers a URL, no
    media_id, and does not count against the material library."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        VOICE = "voice", _("语音")
        VIDEO = "video", _("视频")
        THUMB = "thumb", _("缩略图")
        ARTICLE_IMAGE = "newsimg", _("图文消息内的图片")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="materials")
    media_id = models.CharField(_("媒体ID"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("文件名"), max_length=255, blank=True)
    content_type = models.CharField(max_length=64)
    extension = models.CharField(max_length=8)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    # A video's description form field: {"title", "introduction"}
    title = models.CharField(_("标题"), max_length=128, blank=True)
    introduction = models.TextField(_("简介"), blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("永久素材")
        verbose_name_plural = _("永久素材")
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "kind", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.media_id[:12]}"


class Draft(models.Model):
    """A draft in the draft box (草稿箱): one to eight articles, as normalised by draft/add."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="drafts")
    media_id = models.CharField(_("媒体ID"), max_length=64, unique=True)
    articles = models.JSONField(_("文章"))
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("草稿")
        verbose_name_plural = _("草稿")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.media_id[:12]


class Publication(models.Model):
    """A published group of articles with its article_id: from freepublish (发表), from a
    mass send of a draft (群发), or a preview (预览, never in the account's history)."""

    class Origin(models.TextChoices):
        PUBLISH = "publish", _("发表")
        MASS = "mass", _("群发")
        PREVIEW = "preview", _("预览")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="publications")
    article_id = models.CharField(_("文章ID"), max_length=64, unique=True)
    origin = models.CharField(_("来源"), max_length=8, choices=Origin.choices)
    msg_data_id = models.BigIntegerField(_("消息数据ID"), unique=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("已发表内容")
        verbose_name_plural = _("已发表内容")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.article_id[:12]


class Article(models.Model):
    """One article (idx 1..8) of a publication: the sanitised content and its counters."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="items")
    idx = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("标题"), max_length=64)
    author = models.CharField(_("作者"), max_length=32, blank=True)
    digest = models.CharField(_("摘要"), max_length=255, blank=True)
    content = models.TextField(_("正文"))
    content_source_url = models.CharField(_("原文地址"), max_length=1024, blank=True)
    thumb_media_id = models.CharField(_("封面素材ID"), max_length=64)
    show_cover_pic = models.PositiveSmallIntegerField(default=0)
    need_open_comment = models.PositiveSmallIntegerField(default=0)
    only_fans_can_comment = models.PositiveSmallIntegerField(default=0)
    url = models.CharField(_("永久链接"), max_length=500)
    deleted = models.BooleanField(_("已删除"), default=False)

    class Meta:
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        ordering = ["publication", "idx"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "idx"], name="sandbox_article_unique_idx"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ArticleRead(models.Model):
    """A follower opened the article (every open counts, as 阅读次数 does)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reads")
    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="reads")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("阅读")
        verbose_name_plural = _("阅读")
        indexes = [models.Index(fields=["article", "follower"])]

    def __str__(self) -> str:
        return f"{self.follower_id} read {self.article_id}"


class ArticleReaction(models.Model):
    """A like (点赞) or 在看 of a follower: at most one of each per follower and article."""

    class Kind(models.TextChoices):
        LIKE = "like", _("点赞")
        WOW = "wow", _("在看")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reactions")
    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("点赞与在看")
        verbose_name_plural = _("点赞与在看")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "follower", "kind"], name="sandbox_reaction_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} {self.kind} {self.article_id}"


class PublishFailure(models.Model):
    """A driver's order: the account's next freepublish/submit ends with this status."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="publish_failures")
    status = models.PositiveSmallIntegerField(_("发布状态"))
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("预设的发布失败")
        verbose_name_plural = _("预设的发布失败")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.status}"


class PublishJob(models.Model):
    """A freepublish task: submitted, then finished at `due_at` by the job runner
    (services run them on API calls, the phone's polling and `govwx sandbox run-jobs`)."""

    class Status(models.IntegerChoices):
        SUCCESS = 0, _("成功")
        PUBLISHING = 1, _("发布中")
        ORIGINAL_FAILED = 2, _("原创失败")
        FAILED = 3, _("常规失败")
        REJECTED = 4, _("平台审核不通过")
        DELETED = 5, _("成功后用户删除所有文章")
        BANNED = 6, _("成功后系统封禁所有文章")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="publish_jobs")
    publish_id = models.BigIntegerField(_("发布任务ID"), unique=True)
    msg_data_id = models.BigIntegerField(_("消息数据ID"), unique=True)
    draft_media_id = models.CharField(max_length=64)
    articles = models.JSONField(_("文章"))
    base_url = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PUBLISHING)
    # The status the job ends with (a driver's PublishFailure), SUCCESS otherwise.
    outcome = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.SUCCESS)
    fail_idx = models.JSONField(default=list)
    publication = models.OneToOneField(
        Publication, on_delete=models.SET_NULL, null=True, blank=True, related_name="job"
    )
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    delivery = models.JSONField(_("事件推送结果"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("发布任务")
        verbose_name_plural = _("发布任务")
        ordering = ["id"]
        indexes = [models.Index(fields=["claimed_at", "due_at"])]

    def __str__(self) -> str:
        return str(self.publish_id)


class MassMessage(models.Model):
    """A mass send (message/mass/sendall or send) or a preview; a send finishes at `due_at`
    (delivery to the followers, then MASSSENDJOBFINISH)."""

    class Status(models.TextChoices):
        SENDING = "SENDING", _("发送中")
        SUCCESS = "SEND_SUCCESS", _("发送成功")
        FAIL = "SEND_FAIL", _("发送失败")
        DELETED = "DELETE", _("已删除")

    class Target(models.TextChoices):
        ALL = "all", _("全部粉丝")
        TAG = "tag", _("按标签")
        OPENIDS = "openids", _("按OpenID列表")
        PREVIEW = "preview", _("预览")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mass_messages")
    msg_id = models.BigIntegerField(_("消息ID"), unique=True)
    msg_data_id = models.BigIntegerField(null=True, blank=True)
    target = models.CharField(max_length=8, choices=Target.choices)
    tag_id = models.PositiveIntegerField(null=True, blank=True)
    openids = models.JSONField(default=list)
    msg_type = models.CharField(_("消息类型"), max_length=16)
    payload = models.JSONField(_("内容"))
    # clientmsgid, or WeChat's default: a digest of the audience and the content
    dedup_key = models.CharField(max_length=80, blank=True)
    publication = models.ForeignKey(
        Publication, on_delete=models.SET_NULL, null=True, blank=True, related_name="mass"
    )
    base_url = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENDING)
    total_count = models.PositiveIntegerField(default=0)
    filter_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    delivery = models.JSONField(_("事件推送结果"), null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("群发消息")
        verbose_name_plural = _("群发消息")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "dedup_key", "created_at"]),
            models.Index(fields=["claimed_at", "due_at"]),
        ]

    def __str__(self) -> str:
        return str(self.msg_id)
