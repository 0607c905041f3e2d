"""The service hub: the service catalogue (事项、办事指南、办事网点), the custom menu's
versions, and the health of every link they point to.

A catalogue belongs to an organisation of the matrix. An account sees its own
organisation's catalogue merged over its ancestors' (`catalogue.for_account`): a county
reuses the city's and the province's services, and a row of its own with the same
`code` overrides the inherited one (`withdrawn` hides it there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govwx.accounts.models import Account, Department, Organisation


class Category(models.TextChoices):
    SOCIAL_SECURITY = "social_security", _("社会保障")
    MEDICAL = "medical", _("医疗卫生")
    EDUCATION = "education", _("教育")
    HOUSING = "housing", _("住房公积金")
    HOUSEHOLD = "household", _("户籍证件")
    TRANSPORT = "transport", _("交通出行")
    EMPLOYMENT = "employment", _("就业创业")
    TAX = "tax", _("税务")
    CIVIL = "civil", _("民政婚育")
    BUSINESS = "business", _("企业开办")
    UTILITIES = "utilities", _("水电气暖")
    OTHER = "other", _("其他")


class Office(models.Model):
    """A place where services are handled: a hall, a window, a bureau's counter."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="offices"
    )
    code = models.CharField(_("网点编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    opening_hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=64, blank=True)
    # WGS-84 degrees, as WeChat's location messages give them (Location_X is latitude).
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    withdrawn = models.BooleanField(_("本级不显示"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("办事网点")
        verbose_name_plural = _("办事网点")
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="office_unique_code")
        ]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """A public service (政务服务事项) with its guide (办事指南)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="services"
    )
    code = models.CharField(_("事项编码"), max_length=32)
    name = models.CharField(_("事项名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=32, choices=Category.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    summary = models.CharField(_("简介"), max_length=200, blank=True)
    # The guide
    eligibility = models.TextField(_("办理对象"), blank=True)
    materials = models.TextField(_("申请材料"), blank=True)  # one per line
    steps = models.TextField(_("办理流程"), blank=True)  # one per line
    fees = models.CharField(_("收费标准"), max_length=200, blank=True)
    time_limit = models.CharField(_("法定时限"), max_length=100, blank=True)
    # The online entry: a URL, or a mini program (appid + page path, the URL as fallback)
    online_url = models.CharField(_("在线办理网址"), max_length=1024, blank=True)
    miniprogram_appid = models.CharField(_("小程序AppID"), max_length=32, blank=True)
    miniprogram_path = models.CharField(_("小程序页面路径"), max_length=256, blank=True)
    keywords = models.JSONField(_("关键词"), default=list, blank=True)
    offices = models.ManyToManyField(
        Office, verbose_name=_("办理地点"), blank=True, related_name="services"
    )
    position = models.IntegerField(_("排序"), default=0)
    # A row that overrides an inherited service of the same code by hiding it here.
    withdrawn = models.BooleanField(_("本级不提供"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["position", "code", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="service_unique_code")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def material_list(self) -> list[str]:
        return [line.strip() for line in self.materials.splitlines() if line.strip()]

    @property
    def step_list(self) -> list[str]:
        return [line.strip() for line in self.steps.splitlines() if line.strip()]


class MenuVersion(models.Model):
    """One version of an account's custom menu, with its conditional menus.

    `tree` is the menu as the builder edits it: {"button": [...]} where an item names
    what it opens (a service by code, the hub, a category, an article, a URL, a CLICK
    key, a mini program, the location picker). `conditional` lists the menus for
    follower tags: [{"tag_id": 100, "tag_name": "…", "button": [...]}]. Publishing
    compiles both to WeChat's JSON (`compiled`) and keeps what WeChat answered.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        FAILED = "failed", _("发布失败")
        PUBLISHING = "publishing", _("发布中")

    account = models.ForeignKey(
        Account, verbose_name=_("公众号"), on_delete=models.CASCADE, related_name="menu_versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    tree = models.JSONField(_("菜单"), default=dict)
    conditional = models.JSONField(_("个性化菜单"), default=list, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    compiled = models.JSONField(default=dict, blank=True)  # what was sent to WeChat
    menuids = models.JSONField(default=list, blank=True)  # conditional menus' ids
    error = models.TextField(_("错误"), blank=True)
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # When the current (or last) publish of this version began: a version still
    # publishing long after it began was interrupted.
    publish_started_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every save of the draft: a save naming an older revision is refused.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("菜单版本")
        verbose_name_plural = _("菜单版本")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="menu_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account} v{self.number}"


class LinkCheck(models.Model):
    """The last check of one URL the menu, the hub or a guide points to."""

    url = models.CharField(max_length=1024)
    url_hash = models.CharField(max_length=64, unique=True)  # sha256 of the URL
    ok = models.BooleanField(null=True)  # None: not checked yet
    http_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("链接检查")
        verbose_name_plural = _("链接检查")

    def __str__(self) -> str:
        return self.url
