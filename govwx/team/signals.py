"""A person who leaves — their role on an account removed, or their login disabled —
leaves their future shifts as gaps, flagged and alerted (team.services.vacate)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from govwx.accounts.models import Membership

from .models import Rota


@receiver(post_delete, sender=Membership)
def role_removed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    from . import services

    # the rotas of that account on which the person has no other account left
    still = Membership.objects.filter(user_id=instance.user_id).values("account_id")
    rotas = list(
        Rota.objects.filter(accounts__id=instance.account_id)
        .exclude(accounts__id__in=still)
        .distinct()
    )
    if rotas:
        services.vacate(instance.user, rotas, why="人员已移除")


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def login_disabled(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        from . import services

        services.vacate(instance, why="账号已停用")
