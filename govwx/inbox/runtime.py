"""Each process's copy of an account's callback settings, compiled rules and service
query (`services.query.ServiceIndex`).

The database is the truth. A copy is re-checked at most every GOVWX_RULES_TTL seconds
(one small query); a changed `rules_version` rebuilds the rule set and the service
index (rule writes and catalogue writes both bump it), a changed account reloads its
secrets. So every process, on any host, sees a change within a second
without a message bus.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from govwx.accounts.models import Account
from govwx.replies.services import RuleSet, load_ruleset
from govwx.services.query import ServiceIndex, load_index
from govwx.wechat.protocol import AESCipher


@dataclass
class AccountRuntime:
    id: int
    appid: str
    token: str
    mode: str
    cipher: AESCipher | None
    original_id: str
    updated_at: datetime
    rules: RuleSet
    checked: float
    services: ServiceIndex


_cache: dict[str, AccountRuntime] = {}
_lock = threading.Lock()  # guards _locks only
_locks: dict[str, threading.Lock] = {}


def _lock_for(appid: str) -> threading.Lock:
    with _lock:
        lock = _locks.get(appid)
        if lock is None:
            lock = _locks[appid] = threading.Lock()
        return lock


def _load(appid: str) -> AccountRuntime | None:
    try:
        a = Account.objects.select_related("organisation").get(appid=appid, is_active=True)
    except Account.DoesNotExist:
        return None
    cipher = AESCipher(a.aes_key, a.appid) if a.aes_key else None
    return AccountRuntime(
        a.pk,
        a.appid,
        a.token,
        a.mode,
        cipher,
        a.original_id,
        a.updated_at,
        load_ruleset(a.pk, a.rules_version),
        time.monotonic(),
        load_index(a, a.rules_version),
    )


def get(appid: str) -> AccountRuntime | None:
    rt = _cache.get(appid)
    now = time.monotonic()
    if rt is not None and now - rt.checked < settings.GOVWX_RULES_TTL:
        return rt
    # One account rebuilds at a time, others are not held up by it; while a copy is
    # being rebuilt, the other threads keep answering with the copy they have.
    lock = _lock_for(appid)
    if not lock.acquire(blocking=rt is None):
        return rt
    try:
        rt = _cache.get(appid)
        if rt is not None and now - rt.checked < settings.GOVWX_RULES_TTL:
            return rt
        if rt is None:
            fresh = _load(appid)
        else:
            row = (
                Account.objects.filter(pk=rt.id, is_active=True)
                .values_list("rules_version", "updated_at")
                .first()
            )
            if row is None:
                fresh = None
            elif row[1] != rt.updated_at:
                fresh = _load(appid)
            else:
                if row[0] != rt.rules.version:
                    rt.rules = load_ruleset(rt.id, row[0])
                    account = Account.objects.select_related("organisation").get(pk=rt.id)
                    rt.services = load_index(account, row[0])
                rt.checked = time.monotonic()
                fresh = rt
        if fresh is None:
            _cache.pop(appid, None)
        else:
            _cache[appid] = fresh
        return fresh
    finally:
        lock.release()


def clear() -> None:
    """Forget every copy (tests, and after an account's secrets change in-process)."""
    with _lock:
        _cache.clear()
        _locks.clear()
