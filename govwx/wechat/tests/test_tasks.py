"""Customer-service messages: stored, sent once through the real sandbox API, retried
only when WeChat says a retry can succeed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.wechat.models import Follower, OutboundMessage
from govwx.wechat.protocol import Reply
from govwx.wechat.services import queue_customer_messages, release_held
from govwx.wechat.tasks import MAX_ATTEMPTS, backoff, deliver_outbound

from .test_client import Sandbox, live


@live
def test_it_sends_each_queued_message_once(sandbox: Sandbox, account: Account) -> None:
    openid = sandbox.follower_writing(account)
    ids = queue_customer_messages(
        account.pk,
        openid,
        [
            Reply("text", {"content": "第二条：办理地点见菜单"}),
            Reply("news", {"articles": [{"title": "指南", "url": "https://x.cn/1"}]}),
        ],
    )
    rows = OutboundMessage.objects.filter(pk__in=ids).order_by("id")
    assert [r.status for r in rows] == ["sent", "sent"]
    assert all(r.attempts == 1 and r.sent_at for r in rows)
    # delivering again (a duplicate job) sends nothing
    assert deliver_outbound.call(ids[0]) == "skipped"
    log = sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    text = str(log)
    assert text.count("第二条：办理地点见菜单") == 1 and "指南" in text


@live
def test_outside_the_window_it_is_held_until_the_follower_writes_again(
    sandbox: Sandbox, account: Account
) -> None:
    openid = sandbox.follower_writing(account)
    later = timezone.now() + timedelta(hours=49)
    with time_machine.travel(later):
        [pk] = queue_customer_messages(
            account.pk, openid, [Reply("text", {"content": "迟到的答复"})]
        )
        row = OutboundMessage.objects.get(pk=pk)
        assert (row.status, row.error_code, row.attempts) == ("held", 45015, 1)
        assert release_held() == 0  # the follower has not been back
    with time_machine.travel(later + timedelta(hours=1)):
        # the follower writes again: the platform opens a window, govwx stores the visit
        sandbox.write(account, openid, "还有人吗？")
        Follower.objects.update_or_create(
            account=account,
            openid=openid,
            defaults={
                "last_interaction_at": timezone.now(),
                "first_seen_at": timezone.now(),
                "subscribed": True,
            },
        )
        assert release_held() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert "迟到的答复" in str(
        sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    )


@live
def test_a_network_failure_is_retried_then_given_up(
    account: Account, settings: Any, live_server: Any
) -> None:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/nowhere"
    [pk] = queue_customer_messages(account.pk, "oX", [Reply("text", {"content": "x"})])
    row = OutboundMessage.objects.get(pk=pk)
    # the immediate backend cannot defer: the message waits, pending, for the next try
    assert (row.status, row.attempts, row.error_code) == ("pending", 1, None)
    for _ in range(MAX_ATTEMPTS - 1):
        deliver_outbound.call(pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert deliver_outbound.call(pk) == "skipped"


def test_backoff_grows_and_honours_the_hint() -> None:
    assert [backoff(n).total_seconds() for n in range(6)] == [5, 15, 45, 135, 300, 300]
    assert backoff(0, 60).total_seconds() == 60
