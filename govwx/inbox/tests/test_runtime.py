"""Each process's copy of an account and its rules follows the database within the TTL."""

from __future__ import annotations

from typing import Any

import pytest

from govwx.accounts.models import Account
from govwx.conftest import APPID
from govwx.inbox import runtime
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule

pytestmark = pytest.mark.django_db


def _expire(appid: str) -> None:
    runtime._cache[appid].checked -= 3600


def test_a_rule_change_is_seen_after_the_ttl_and_not_rebuilt_before(
    account: Account, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.GOVWX_RULES_TTL = 60
    rt = runtime.get(APPID)
    assert rt is not None and rt.rules.matcher.match("社保") is None
    create_rule(
        account, RuleInput("社保", [KeywordInput("社保")], [ReplyInput("text", {"content": "答"})])
    )
    with django_assert_num_queries(0):
        assert runtime.get(APPID).rules.matcher.match("社保") is None  # within the TTL
    _expire(APPID)
    # version check + replies, keywords, rules, menu keys + the account for the service
    # index (no organisation here: no catalogue to read)
    with django_assert_num_queries(6):
        assert runtime.get(APPID).rules.matcher.match("社保").name == "社保"
    _expire(APPID)
    with django_assert_num_queries(1):  # unchanged: one small query
        runtime.get(APPID)


def test_changed_secrets_and_deactivation(account: Account, settings: Any) -> None:
    settings.GOVWX_RULES_TTL = 60
    assert runtime.get(APPID).token == "pamtest"
    account.token = "newtoken1"
    account.save()
    _expire(APPID)
    assert runtime.get(APPID).token == "newtoken1"
    Account.objects.filter(pk=account.pk).update(is_active=False)
    _expire(APPID)
    assert runtime.get(APPID) is None
    assert runtime.get("wx0000000000000000") is None


def test_while_an_account_is_rebuilt_other_threads_answer_with_the_copy_they_have(
    account: Account, other_account: Account, django_assert_num_queries: Any
) -> None:
    stale = runtime.get(APPID)
    create_rule(
        account, RuleInput("社保", [KeywordInput("社保")], [ReplyInput("text", {"content": "答"})])
    )
    _expire(APPID)
    lock = runtime._lock_for(APPID)
    assert lock.acquire(blocking=False)  # another thread is rebuilding this account
    try:
        with django_assert_num_queries(0):
            assert runtime.get(APPID) is stale
        # another account is not held up by it
        assert runtime.get(other_account.appid) is not None
    finally:
        lock.release()
    assert runtime.get(APPID).rules.matcher.match("社保").name == "社保"
