from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "govwx.services"
    label = "services"
    verbose_name = _("服务大厅")
