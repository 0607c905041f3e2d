from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TeamConfig(AppConfig):
    name = "govwx.team"
    verbose_name = _("团队与值班")

    def ready(self) -> None:
        # the members settings page (accounts) reaches shifts and contacts here
        from govwx.accounts import hooks

        from . import org_hooks, receivers, signals  # noqa: F401  (connects the receivers)

        hooks.register_member(org_hooks.member_shifts)
        hooks.register_contacts(org_hooks.StaffContacts())
