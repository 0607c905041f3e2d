from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "govwx.console"
    verbose_name = _("控制台")

    def ready(self) -> None:
        from govwx.content.proofread.context import register_names, register_numbers

        from .proofread_names import catalogue_names, catalogue_numbers

        register_names(catalogue_names)
        register_numbers(catalogue_numbers)
