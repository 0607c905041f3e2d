from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from govwx.accounts.models import Account
from govwx.replies.models import Reply
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule

from .factories import follower, inbound, text_reply

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def rule(account: Account, name: str, *, enabled: bool = True) -> Any:
    return create_rule(
        account,
        RuleInput(
            name=name,
            keywords=[KeywordInput(name)],
            replies=[ReplyInput(Reply.Kind.TEXT, {"content": "答复" + name})],
            enabled=enabled,
        ),
    )


def test_it_sends_anonymous_users_to_login(client: Client) -> None:
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=/"


def test_it_shows_an_empty_state_without_an_account(client: Client, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("newbie", password="x")
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 200
    assert "还没有可以管理的公众号" in r.content.decode()


@time_machine.travel(datetime(2025, 3, 10, 0, 30, tzinfo=SH), tick=False)
def test_it_counts_today_in_shanghai_time(
    client: Client, operator: Any, account: Account, other_account: Account
) -> None:
    today = datetime(2025, 3, 10, 0, 10, tzinfo=SH)  # 2025-03-09 16:10 UTC
    yesterday = datetime(2025, 3, 9, 23, 50, tzinfo=SH)  # same UTC date as `today`
    r1 = rule(account, "社保")
    rule(account, "公积金")
    rule(account, "停用的", enabled=False)
    inbound(
        account,
        content="社保",
        handled_by="rule",
        rule_id=r1.pk,
        reply=text_reply("答复社保"),
        at=today,
    )
    inbound(account, content="你好", handled_by="default", reply=text_reply("您好"), at=today)
    inbound(account, content="没人理", handled_by="none", at=today)
    inbound(
        account,
        msg_type="event",
        event="subscribe",
        handled_by="follow",
        reply=text_reply("欢迎"),
        at=today,
    )
    inbound(account, msg_type="event", event="LOCATION", handled_by="none", at=today)
    inbound(account, content="昨天的", handled_by="none", at=yesterday)
    inbound(other_account, content="别的号", handled_by="none", at=today)
    follower(account, "o-new", subscribed_at=today)
    follower(account, "o-old", subscribed_at=yesterday)
    follower(account, "o-gone", subscribed=False, subscribed_at=yesterday, unsubscribed_at=today)
    follower(other_account, "o-else", subscribed_at=today)
    client.force_login(operator)
    r = client.get("/")
    assert r.status_code == 200
    stats = r.context["stats"]
    assert stats.received == 3  # text messages today; events are not messages
    assert stats.auto_replied == 2  # rule + default; the follow reply answers an event
    assert stats.unanswered == 1  # the LOCATION event does not count
    assert stats.new_followers == 1
    assert stats.unfollows == 1
    assert stats.following == 2
    assert stats.enabled_rules == 2
    body = r.content.decode()
    assert 'id="stat-received">3<' in body
    assert "关键词规则：社保" in body
    assert "未回复" in body
    assert "别的号" not in body
    # times on screen are Beijing time
    assert "2025-03-10 00:10:00" in body


@time_machine.travel(datetime(2025, 3, 10, 9, 30, tzinfo=SH), tick=False)
def test_follow_and_menu_replies_are_not_replies_to_messages(
    client: Client, operator: Any, account: Account
) -> None:
    """The demo's morning: 6 messages answered, 2 follows welcomed, 1 menu click
    answered: 6 replies to 6 messages, not 9."""
    now = datetime(2025, 3, 10, 9, tzinfo=SH)
    for i in range(5):
        inbound(account, content=f"问{i}", handled_by="default", reply=text_reply("您好"), at=now)
    inbound(account, content="人工", handled_by="desk", reply=text_reply("已转人工"), at=now)
    for i in range(2):
        inbound(
            account,
            msg_type="event",
            event="subscribe",
            openid=f"o-f{i}",
            handled_by="follow",
            reply=text_reply("欢迎"),
            at=now,
        )
    inbound(
        account,
        msg_type="event",
        event="CLICK",
        handled_by="click",
        reply=text_reply("办事指南"),
        at=now,
    )
    client.force_login(operator)
    body = client.get("/").content.decode()
    assert 'id="stat-received">6<' in body
    assert 'id="stat-auto">6<' in body
    assert 'id="stat-unanswered">0<' in body


def test_it_lists_the_latest_ten_messages(
    client: Client, operator: Any, account: Account, django_assert_num_queries: Any
) -> None:
    r1 = rule(account, "社保")
    for i in range(12):
        inbound(account, content=f"消息{i:02d}", handled_by="rule", rule_id=r1.pk, openid=f"o-{i}")
    follower(account, "o-11", nickname="张三")
    client.force_login(operator)
    # session, user, accounts list, account + membership (access helper), latest messages,
    # 2 aggregates, enabled rules, rule names, nicknames, the account's rotas (none here),
    # broken links (none anywhere: the account's links are not listed), failed intakes,
    # the last 30 days' published articles (the positioning panel)
    with django_assert_num_queries(16):
        r = client.get("/")
    rows = r.context["rows"]
    assert [row.content for row in rows] == [f"消息{i:02d}" for i in range(11, 1, -1)]
    assert rows[0].follower_name == "张三"


def test_it_shows_only_the_current_account_to_an_outsider(
    client: Client, outsider: Any, account: Account
) -> None:
    inbound(account, content="机密内容")
    client.force_login(outsider)
    session = client.session
    session["console_account_id"] = account.pk  # a forged choice is ignored
    session.save()
    r = client.get("/")
    assert r.status_code == 200
    assert r.context["account"].name == "另一个县发布"
    assert "机密内容" not in r.content.decode()
