from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "govwx.notify"
    verbose_name = _("通知渠道")
