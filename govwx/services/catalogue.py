"""Reading the catalogue as an account sees it, and the addresses of its H5 pages.

An account's catalogue is its organisation's services merged over those of the
organisation's ancestors, by `code`: the nearest organisation's row wins, and a
`withdrawn` row hides the service there. The same holds for offices.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.urls import reverse

from govwx.accounts.models import Account, Organisation

from .models import Office, Service


def lineage(organisation: Organisation | None) -> list[int]:
    """The organisation's id and its ancestors', nearest first."""
    chain: list[int] = []
    org = organisation
    while org is not None and org.pk not in chain:
        chain.append(org.pk)
        org = org.parent
    return chain


def descendants(organisation: Organisation) -> list[int]:
    """The organisation's id and every organisation below it."""
    found = [organisation.pk]
    frontier = [organisation.pk]
    while frontier:
        frontier = list(
            Organisation.objects.filter(parent_id__in=frontier)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found += frontier
    return found


def _merge(rows: list, chain: list[int]) -> list:  # type: ignore[type-arg]
    rank = {pk: i for i, pk in enumerate(chain)}
    best: dict[str, object] = {}
    for row in sorted(rows, key=lambda r: rank[r.organisation_id]):
        best.setdefault(row.code, row)
    return [r for r in best.values() if not r.withdrawn]  # type: ignore[attr-defined]


def services_for(account: Account) -> list[Service]:
    """The services the account offers, in catalogue order."""
    chain = lineage(account.organisation)
    if not chain:
        return []
    rows = list(
        Service.objects.filter(organisation_id__in=chain)
        .select_related("department", "organisation")
        .prefetch_related("offices")
    )
    merged: list[Service] = _merge(rows, chain)
    merged.sort(key=lambda s: (s.position, s.code, s.pk))
    return merged


def offices_for(account: Account) -> list[Office]:
    """The offices the account shows, by code (the nearest organisation's row wins)."""
    chain = lineage(account.organisation)
    if not chain:
        return []
    rows = list(Office.objects.filter(organisation_id__in=chain))
    merged: list[Office] = _merge(rows, chain)
    merged.sort(key=lambda o: (o.code, o.pk))
    return merged


def service_for(account: Account, code: str) -> Service | None:
    for s in services_for(account):
        if s.code == code:
            return s
    return None


def bump(organisation: Organisation | None) -> None:
    """Make every process rebuild the query matcher of each account that sees this
    organisation's catalogue (its own accounts and those of every organisation below).
    Call inside the writing transaction."""
    if organisation is None:
        return
    Account.objects.filter(organisation_id__in=descendants(organisation)).update(
        rules_version=F("rules_version") + 1
    )


# ------------------------------------------------------------------ addresses


def absolute(path: str) -> str:
    return settings.GOVWX_PUBLIC_URL.rstrip("/") + path


def hub_url(account: Account) -> str:
    return absolute(reverse("hub:hub", kwargs={"appid": account.appid}))


def category_url(account: Account, category: str) -> str:
    return absolute(reverse("hub:category", kwargs={"appid": account.appid, "category": category}))


def guide_url(account: Account, code: str) -> str:
    return absolute(reverse("hub:guide", kwargs={"appid": account.appid, "code": code}))


def office_url(account: Account, code: str) -> str:
    return absolute(reverse("hub:office", kwargs={"appid": account.appid, "code": code}))


def search_url(account: Account) -> str:
    return absolute(reverse("hub:search", kwargs={"appid": account.appid}))
