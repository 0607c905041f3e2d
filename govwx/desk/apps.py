from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "govwx.desk"
    verbose_name = _("诉求办理")

    def ready(self) -> None:
        from govwx.workcalendar.signals import year_confirmed

        from .services import recompute_provisional

        # a confirmed year makes the provisional deadlines final, in the same transaction
        year_confirmed.connect(recompute_provisional, dispatch_uid="desk.recompute_provisional")

        # the settings pages of departments and members (accounts) reach the cases here
        from govwx.accounts import hooks

        from . import org_hooks

        hooks.register_department(
            usage=org_hooks.department_usage, merge=org_hooks.merge_department
        )
        hooks.register_member(org_hooks.member_open_cases)
