"""The desk's part of the settings pages of departments and members (accounts.hooks):
a department's open cases and routing rules — counted before it is retired, moved when
it is merged — and the open cases a person has in hand before they are deactivated.
Registered in `DeskConfig.ready()`; called inside the accounts service's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, F, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from govwx.accounts.hooks import WorkItem
from govwx.accounts.models import Account, Department, Membership

from .models import OPEN_STATUSES, Case, CaseEvent, RoutingRule
from .services import HANDLER_EVENTS


def department_usage(departments: Sequence[Department]) -> dict[int, dict[str, int]]:
    """Open cases led and routing rules, per department: two grouped queries."""
    ids = [d.pk for d in departments]
    found: dict[int, dict[str, int]] = {pk: {"open_cases": 0, "routing_rules": 0} for pk in ids}
    for pk, n in (
        Case.objects.filter(department_id__in=ids, status__in=OPEN_STATUSES)
        .values_list("department_id")
        .annotate(n=Count("id"))
    ):
        found[pk]["open_cases"] = n
    for pk, n in (
        RoutingRule.objects.filter(department_id__in=ids)
        .values_list("department_id")
        .annotate(n=Count("id"))
    ):
        found[pk]["routing_rules"] = n
    return found


def merge_department(source: Department, target: Department, actor: Any) -> dict[str, int]:
    """`source`'s open cases are led by `target` (each with a `case.department_merged`
    event and a new revision), cases it assisted are assisted by `target` (unless
    `target` leads them), its routing rules route to `target`. Closed cases keep the
    department that handled them."""
    now = timezone.now()
    who = actor if getattr(actor, "is_authenticated", False) else None
    led = list(
        Case.objects.filter(department=source, status__in=OPEN_STATUSES).values_list(
            "pk", flat=True
        )
    )
    Case.objects.filter(pk__in=led).update(department=target, revision=F("revision") + 1)
    Case.objects.filter(suggested_department=source, status__in=OPEN_STATUSES).update(
        suggested_department=target
    )
    assisted = list(
        Case.objects.filter(assisting=source, status__in=OPEN_STATUSES).values_list(
            "pk", "department_id"
        )
    )
    through = Case.assisting.through
    through.objects.filter(case_id__in=[pk for pk, _ in assisted], department=source).delete()
    keep = {
        pk
        for pk in through.objects.filter(
            case_id__in=[pk for pk, _ in assisted], department=target
        ).values_list("case_id", flat=True)
    }
    through.objects.bulk_create(
        [
            through(case_id=pk, department_id=target.pk)
            for pk, lead in assisted
            if lead != target.pk and pk not in keep
        ]
    )
    data = {"from": source.pk, "from_name": source.name, "to": target.pk, "to_name": target.name}
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=pk, actor=who, name="case.department_merged", data=data, created_at=now
            )
            for pk in led + [pk for pk, _ in assisted]
        ]
    )
    rules = RoutingRule.objects.filter(department=source).update(department=target)
    return {"open_cases": len(led), "assisted_cases": len(assisted), "routing_rules": rules}


def member_open_cases(account: Account, user: Any) -> list[WorkItem]:
    """The open cases the person took (领取) and still holds; for a department's only
    liaison on the account, the department's open cases too (nobody would be left to
    answer them)."""
    last_handler = CaseEvent.objects.filter(case=OuterRef("pk"), name__in=HANDLER_EVENTS).order_by(
        "-created_at", "-id"
    )
    taken = (
        Case.objects.filter(account=account, status__in=OPEN_STATUSES)
        .annotate(
            h_name=Subquery(last_handler.values("name")[:1]),
            h_actor=Subquery(last_handler.values("actor_id")[:1]),
        )
        .filter(h_name="case.taken", h_actor=user.pk)
        .order_by("id")
    )
    items = [
        WorkItem("case", f"#{c.pk} {c.subject}", reverse("desk:case", args=[c.pk]), "本人领取")
        for c in taken
    ]
    seen = {c.pk for c in taken}
    m = Membership.objects.filter(account=account, user=user).first()
    if m is not None and m.role == Membership.Role.LIAISON and m.department_id is not None:
        others = (
            Membership.objects.filter(
                account=account, role=Membership.Role.LIAISON, department_id=m.department_id,
                user__is_active=True,
            ).exclude(user=user).exists()
        )  # fmt: skip
        if not others:
            for c in Case.objects.filter(
                account=account, department_id=m.department_id, status__in=OPEN_STATUSES
            ).order_by("id"):
                if c.pk not in seen:
                    items.append(
                        WorkItem(
                            "case",
                            f"#{c.pk} {c.subject}",
                            reverse("desk:case", args=[c.pk]),
                            "本部门唯一联络员",
                        )  # fmt: skip
                    )
    return items
