from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "govwx.content"
    label = "content"
    verbose_name = _("内容发布")

    def ready(self) -> None:
        from govwx.lib import chores

        from . import mass, publishing

        # a restart's safety net: due and stuck publish jobs and mass sends (each is
        # also a task queued for its time)
        chores.register("content.publish_due", publishing.publish_due.call, every=30)
        chores.register("content.mass_due", mass.send_due, every=30)
