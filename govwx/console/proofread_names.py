"""The catalogue's names and numbers for the proofreading checker: the offices and
services an account shows (`services.catalogue`, merged over the organisation's
ancestors) are names the checker must know, and the offices' phones are published on
purpose (a guide that gives an office's phone is not personal data). The catalogue and publishing are apps of one floor, so the console,
which sees both, connects them (`ConsoleConfig.ready`)."""

from __future__ import annotations

import re

from govwx.accounts.models import Account
from govwx.services.catalogue import offices_for, services_for


def catalogue_names(account: Account) -> list[str]:
    return [o.name for o in offices_for(account)] + [s.name for s in services_for(account)]


# an office's phone field may hold several numbers: 029-12345678、029-87654321 / 12345
_SEPARATORS = re.compile(r"[、，,;；/\s]+(?=[\d(（+])")


def catalogue_numbers(account: Account) -> list[str]:
    return [
        number.strip()
        for o in offices_for(account)
        if o.phone
        for number in _SEPARATORS.split(o.phone)
        if number.strip()
    ]
