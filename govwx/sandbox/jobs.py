"""The platform's deferred work: publish tasks and mass sends that end at their due time.

WeChat finishes both some time after the call that started them. The sandbox keeps each
as a row with a due time; `run_due` ends those that are due (or all, for a driver that
will not wait). Each is claimed with a conditional UPDATE in the transaction that ends it,
so two runners never end the same task and a crash half-way leaves it to the next run;
the event goes to the account's server after the commit.

Who runs it: every WeChat API call of the account (so `freepublish/get` and
`message/mass/get` see the task end once it is due), the phone page's polling,
`govwx sandbox run-jobs` and the driver API `POST /sandbox/api/accounts/<appid>/jobs/run`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import mass, publishing
from .models import Account, MassMessage, PublishJob


def run_due(
    account: Account | None = None, *, now: datetime | None = None, everything: bool = False
) -> list[dict[str, Any]]:
    """End the due (or, with `everything`, all pending) tasks; what ended, in order."""
    now = now or timezone.now()
    finished: list[dict[str, Any]] = []
    jobs = PublishJob.objects.filter(claimed_at__isnull=True)
    sends = MassMessage.objects.filter(claimed_at__isnull=True)
    if account is not None:
        jobs, sends = jobs.filter(account=account), sends.filter(account=account)
    if not everything:
        jobs, sends = jobs.filter(due_at__lte=now), sends.filter(due_at__lte=now)
    for job in jobs.select_related("account").order_by("due_at", "id"):
        with transaction.atomic():
            if not PublishJob.objects.filter(pk=job.pk, claimed_at__isnull=True).update(
                claimed_at=timezone.now()
            ):
                continue
            publishing.complete_publish(job)
        publishing.announce_publish(job)
        finished.append(
            {
                "kind": "publish",
                "publish_id": job.publish_id,
                "publish_status": job.status,
                "article_id": job.publication.article_id if job.publication else None,
                "delivery": _brief(job.delivery),
            }
        )
    for message in sends.select_related("account").order_by("due_at", "id"):
        with transaction.atomic():
            if not MassMessage.objects.filter(pk=message.pk, claimed_at__isnull=True).update(
                claimed_at=timezone.now()
            ):
                continue
            mass.complete(message)
        mass.announce(message)
        finished.append(
            {
                "kind": "mass",
                "msg_id": message.msg_id,
                "msg_status": message.status,
                "total_count": message.total_count,
                "filter_count": message.filter_count,
                "sent_count": message.sent_count,
                "delivery": _brief(message.delivery),
            }
        )
    return finished


def _brief(delivery: dict[str, Any] | None) -> dict[str, Any] | None:
    if delivery is None:
        return None
    return {k: v for k, v in delivery.items() if k != "log"}
