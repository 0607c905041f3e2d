"""What the rota does when the calendar below it changes (the calendar may not import
the team, so it tells it by signal; the work itself is a service, named here)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from govwx.workcalendar.signals import year_confirmed


@receiver(year_confirmed, dispatch_uid="team.recheck_provisional")
def recheck_provisional_shifts(sender: Any, year: int, actor: Any = None, **kwargs: Any) -> int:
    """A year's holiday arrangement is confirmed: settle the shifts planned for it on the
    provisional calendar, in the same transaction. Returns how many were settled."""
    from . import services

    return services.recheck_provisional(year, actor=actor)
