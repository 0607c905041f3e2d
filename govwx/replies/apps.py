from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "govwx.replies"
    verbose_name = _("自动回复")
