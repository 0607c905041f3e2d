from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "govwx.content"
    label = "content"
    verbose_name = _("内容发布")

    def ready(self) -> None:
        from govwx.lib import chores, textcheck

        from . import mass, publishing, workflow
        from .proofread.services import dismiss_finding, text_flags
        from .proofread.workflow_check import proofreading

        # a restart's safety net: due and stuck publish jobs and mass sends (each is
        # also a task queued for its time)
        chores.register("content.publish_due", publishing.publish_due.call, every=30)
        chores.register("content.mass_due", mass.send_due, every=30)
        # every floor checks its texts through govwx.lib.textcheck
        textcheck.register(text_flags)
        textcheck.register_dismisser(dismiss_finding)
        # the proofreader is a check of the editorial workflow (校对 and later steps)
        workflow.register(proofreading)
