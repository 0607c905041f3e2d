"""Background jobs of the service hub."""

from __future__ import annotations

from django_tasks import task


@task()
def check_account_links(account_id: int) -> int:
    """立即检查: check one account's links that are due now; return how many."""
    from govwx.accounts.models import Account

    from .links import check_links, links_for

    account = Account.objects.filter(pk=account_id).select_related("organisation").first()
    if account is None:
        return 0
    return check_links(urls={u.url for u in links_for(account)})
