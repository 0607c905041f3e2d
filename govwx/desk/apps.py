from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "govwx.desk"
    verbose_name = _("诉求办理")
