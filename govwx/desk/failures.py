"""Messages the desk could not take in (`IntakeFailure`): read for the console, and tried
again by hand (重试) once the cause is fixed — a time limit, the calendar.

The desk's loop retries them on its own too; a retry here is the same `intake`, which is
idempotent, so a message tried by both at once still joins one case once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.accounts.permissions import require
from govwx.accounts.services import record
from govwx.wechat.models import Follower, InboundMessage

from .models import IntakeFailure
from .services import intake

log = logging.getLogger(__name__)

# what a row says of a message that is not text
KINDS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "shortvideo": "[小视频]",
    "location": "[位置]",
    "link": "[链接]",
}
MAX_RETRY = 200  # one press of 全部重试 tries at most this many, oldest first


def failures_for(account: Account) -> QuerySet[IntakeFailure]:
    """The account's failures, the most recently tried first."""
    return (
        IntakeFailure.objects.filter(inbound__account=account)
        .select_related("inbound")
        .order_by("-updated_at", "-id")
    )


def count_for(account: Account) -> int:
    return IntakeFailure.objects.filter(inbound__account=account).count()


def mask_openid(openid: str) -> str:
    """A follower's openid with its middle hidden: enough to tell two apart on a page."""
    if len(openid) <= 10:
        return openid[:2] + "…"
    return f"{openid[:6]}…{openid[-4:]}"


def message_summary(msg: InboundMessage) -> str:
    if msg.msg_type == "text":
        return msg.content
    if msg.msg_type == "event":
        return f"[菜单：{msg.payload.get('EventKey', '') or msg.event}]"
    return KINDS.get(msg.msg_type, f"[{msg.msg_type}]")


def nicknames(account: Account, failures: Sequence[IntakeFailure]) -> dict[str, str]:
    openids = {f.inbound.openid for f in failures}
    if not openids:
        return {}
    return dict(
        Follower.objects.filter(account=account, openid__in=openids)
        .exclude(nickname="")
        .values_list("openid", "nickname")
    )


@dataclass
class Retried:
    """What a retry did: the cases the messages joined, and those that failed again."""

    cases: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (failure id, error)


def retry(failure_ids: Sequence[int], actor: Any) -> Retried:
    """Take the messages of those failures in again, one by one: a message taken in loses
    its failure row; one that fails again keeps it, with the new error and one attempt
    more. The actor needs `cases.route` on the account of every failure named (nothing
    is tried otherwise; None is the system). Each outcome is audited (`desk.intake_retried`)."""
    ids = sorted({int(pk) for pk in failure_ids})
    if not ids:
        raise ValidationError("请选择要重试的消息 / choose the messages to retry")
    rows = list(
        IntakeFailure.objects.filter(pk__in=ids)
        .select_related("inbound__account")
        .order_by("updated_at", "id")[:MAX_RETRY]
    )
    if actor is not None:  # None: the system (a command), as in the other services
        for account in {f.inbound.account for f in rows}:
            require(actor, account, "cases.route")
    done = Retried()
    for failure in rows:
        account = failure.inbound.account
        try:
            case = intake(failure.inbound_id)
        except Exception as exc:  # recorded on the row, shown on the page, tried again later
            log.exception("retry of desk intake of message %s failed", failure.inbound_id)
            error = str(exc)[:2000] or exc.__class__.__name__
            with transaction.atomic():
                IntakeFailure.objects.filter(pk=failure.pk).update(
                    error=error, attempts=F("attempts") + 1, updated_at=timezone.now()
                )
                record("desk.intake_retried", account=account, actor=actor,
                       inbound=failure.inbound_id, ok=False, error=error[:200])  # fmt: skip
            done.failed.append((failure.pk, error))
        else:
            with transaction.atomic():
                IntakeFailure.objects.filter(pk=failure.pk).delete()
                record("desk.intake_retried", account=account, actor=actor,
                       inbound=failure.inbound_id, ok=True, case=case.pk)  # fmt: skip
            done.cases.append(case.pk)
    return done
