from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "govwx.sandbox"
    label = "sandbox"
    verbose_name = _("微信平台沙箱")
    default_auto_field = "django.db.models.BigAutoField"
