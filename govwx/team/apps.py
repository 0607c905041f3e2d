from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamConfig(AppConfig):
    name = "govwx.team"
    verbose_name = _("团队与值班")

    def ready(self) -> None:
        from . import receivers, signals  # noqa: F401  (connects the receivers)
