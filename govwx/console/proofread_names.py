"""The catalogue's names for the proofreading checker: the offices and services an
account shows (`services.catalogue`, merged over the organisation's ancestors) are names
the checker must know. The catalogue and publishing are apps of one floor, so the console,
which sees both, connects them (`ConsoleConfig.ready`)."""

from __future__ import annotations

from govwx.accounts.models import Account
from govwx.services.catalogue import offices_for, services_for


def catalogue_names(account: Account) -> list[str]:
    return [o.name for o in offices_for(account)] + [s.name for s in services_for(account)]
