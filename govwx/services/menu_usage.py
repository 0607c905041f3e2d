"""Which published menus open a service of the catalogue.

A catalogue write that would take a service away from an account (withdrawing it at an
organisation, or deleting the row that offers it) is refused while a published menu of
an account that sees that catalogue still has a button opening it: the follower would tap
into a page that no longer exists. `catalogue_writes` calls `check_menus_keep` first.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from govwx.accounts.models import Account, Organisation

from . import catalogue
from .menutree import leaves
from .models import MenuVersion, Service


def _menu_paths(tree: Any, code: str) -> list[str]:
    """The items of a builder tree (default or conditional) that open the service."""
    return [
        words
        for words, item in leaves(tree)
        if item.get("kind") == "service" and item.get("service") == code
    ]


def _still_offered(account: Account, code: str, org: Organisation, change: str) -> bool:
    """Whether the account would still offer `code` after the organisation's row is
    withdrawn (`change="withdraw"`) or deleted (`"delete"`)."""
    chain = catalogue.lineage(account.organisation)
    rows = {
        r.organisation_id: r for r in Service.objects.filter(organisation_id__in=chain, code=code)
    }
    for org_id in chain:
        if org_id == org.pk:
            if change == "withdraw":
                return False
            continue  # deleted: the next level up decides
        row = rows.get(org_id)
        if row is not None:
            return not row.withdrawn
    return False


def check_menus_keep(code: str, org: Organisation, change: str) -> None:
    """Refuse a withdrawal or deletion that would leave a published menu's button on a
    page that no longer exists, naming the accounts and buttons."""
    broken: list[str] = []
    accounts = Account.objects.filter(
        organisation_id__in=catalogue.descendants(org), is_active=True
    ).select_related("organisation")
    for account in accounts:
        version = (
            MenuVersion.objects.filter(account=account, status=MenuVersion.Status.PUBLISHED)
            .order_by("-published_at", "-number")
            .first()
        )
        if version is None:
            continue
        paths = _menu_paths(version.tree, code)
        for cond in version.conditional or []:
            paths += _menu_paths(cond, code)
        if paths and not _still_offered(account, code, org, change):
            broken += [f"{account.name}：{p}" for p in paths]
    if broken:
        raise ValidationError(
            "自定义菜单正链接到这个事项，先修改菜单再操作（"
            + "；".join(broken)
            + f"） / a published menu opens service {code}: change the menu first"
        )
