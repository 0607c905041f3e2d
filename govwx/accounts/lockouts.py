"""Login throttling (django-axes): who is locked out, and lifting it.

django-axes counts failed logins per user name and per address (`AXES_LOCKOUT_PARAMETERS`
in settings.py); after `AXES_FAILURE_LIMIT` for a user name, or
`GOVWX_LOGIN_ADDRESS_LIMIT` from an address, a login is refused, the right password too, until `AXES_COOLOFF_TIME` has passed since the last failure or the
account's admin lifts it (设置 › 登录锁定). An admin sees and lifts the lockouts of the
account's own members only, and every lift is audited (`login.lockout_lifted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Sum
from django.http import HttpRequest
from django.utils import timezone

from .models import Account
from .permissions import require
from .services import record


class LoginThrottleHandler(AxesDatabaseHandler):
    """django-axes' database handler with a limit of its own for an address: an office's
    colleagues often share one address (NAT), and ten mistakes among them must not lock
    the whole office out — nor its admin, who lifts lockouts. A user name is locked at
    AXES_FAILURE_LIMIT failures, an address at GOVWX_LOGIN_ADDRESS_LIMIT."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        counts = [
            qs.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for qs in self.get_user_attempts(request, credentials)
        ]
        if settings.AXES_LOCKOUT_PARAMETERS != ["username", "ip_address"]:
            return max(counts, default=0)
        by_name, by_address = counts
        # scaled so that the address reaches AXES_FAILURE_LIMIT at its own limit
        limit, address_limit = settings.AXES_FAILURE_LIMIT, settings.GOVWX_LOGIN_ADDRESS_LIMIT
        return max(by_name, by_address * limit // address_limit)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """On a successful login, forget that user name's failures only: django-axes also
        forgets every failure from the address, so an attacker with one login of their
        own could log in between guesses and never reach the address's limit."""
        username = get_client_username(request, credentials)
        if username is None:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check before the password is checked. A login with no request — in a
    command (`createsuperuser`) or a test client's `login()` — comes from no address and
    is not throttled; every login through the login page has its request."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from: the connection's, or behind GOVWX_PROXY_COUNT
    proxies the one the nearest proxy put last in X-Forwarded-For (what a client writes
    into that header itself comes before it, and is ignored)."""
    proxies = settings.GOVWX_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


@dataclass(frozen=True)
class Lockout:
    """A member's failed logins that are still counted."""

    user_id: int
    username: str
    name: str
    failures: int
    last_failure: datetime
    addresses: list[str]
    name_locked: bool  # the user name has reached its limit
    until: datetime | None  # …until then (None: until lifted, when there is no cool-off)
    locked_addresses: list[str]  # addresses of theirs that have reached the address limit

    @property
    def locked(self) -> bool:
        return self.name_locked or bool(self.locked_addresses)


def _counted() -> Any:
    """Failed attempts not yet forgotten (younger than the cool-off)."""
    qs = AccessAttempt.objects.order_by()
    if settings.AXES_COOLOFF_TIME:
        qs = qs.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    return qs


def _members(account: Account) -> dict[str, Any]:
    users = get_user_model().objects.filter(memberships__account=account).order_by("username")
    return {u.get_username(): u for u in users}


def lockouts_for(account: Account) -> list[Lockout]:
    """The account's members with counted failed logins, those locked out first."""
    members = _members(account)
    mine = _counted().filter(username__in=list(members))
    rows = mine.values("username").annotate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    addresses: dict[str, set[str]] = {}
    for username, ip in mine.values_list("username", "ip_address"):
        if ip:
            addresses.setdefault(username, set()).add(ip)
    every = set().union(*addresses.values()) if addresses else set()
    locked_addresses = {
        row["ip_address"]
        for row in _counted()
        .filter(ip_address__in=every)
        .values("ip_address")
        .annotate(n=Sum("failures_since_start"))
        if row["n"] >= settings.GOVWX_LOGIN_ADDRESS_LIMIT
    }
    cooloff = settings.AXES_COOLOFF_TIME
    out = []
    for row in rows:
        user = members[row["username"]]
        name_locked = row["failures"] >= settings.AXES_FAILURE_LIMIT
        mine_addresses = sorted(addresses.get(row["username"], set()))
        out.append(
            Lockout(
                user_id=user.pk,
                username=row["username"],
                name=user.get_full_name() or row["username"],
                failures=row["failures"],
                last_failure=row["last"],
                addresses=mine_addresses,
                name_locked=name_locked,
                until=row["last"] + cooloff if name_locked and cooloff else None,
                locked_addresses=[a for a in mine_addresses if a in locked_addresses],
            )
        )
    return sorted(out, key=lambda lo: (not lo.locked, lo.username))


def lift_lockout(account: Account, username: str, *, actor: Any) -> int:
    """Forget a member's failed logins (from every address), so they may log in again:
    the failures counted against the addresses they came from go with them. Returns how
    many failures were forgotten; a user name that is not a member of the account is
    refused and nothing changes."""
    require(actor, account, "settings.manage")
    if username not in _members(account):
        raise ValidationError("该用户不是本公众号的成员 / not a member of this account")
    with transaction.atomic():
        failures = (
            AccessAttempt.objects.filter(username=username).aggregate(
                n=Sum("failures_since_start")
            )["n"]
            or 0
        )
        if not failures:
            raise ValidationError("该用户没有被记录的登录失败 / no failed logins to forget")
        AxesProxyHandler.reset_attempts(username=username)
        record(
            "login.lockout_lifted",
            account=account,
            actor=actor,
            username=username,
            failures=failures,
        )
    return failures
