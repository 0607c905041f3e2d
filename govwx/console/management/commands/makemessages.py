"""`govwx makemessages`: Django's, also extracting `_lazy(...)`, the project's name for
gettext_lazy where `_` is gettext."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
