from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WechatConfig(AppConfig):
    name = "govwx.wechat"
    verbose_name = _("微信通道")
