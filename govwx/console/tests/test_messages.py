from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from govwx.accounts.models import Account
from govwx.replies.models import Reply
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule

from .factories import follower, inbound, text_reply

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_it_sends_anonymous_users_to_login(client: Client) -> None:
    r = client.get("/messages/")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=/messages/"


def test_it_lists_messages_newest_first_with_what_was_replied(
    client: Client, operator: Any, account: Account
) -> None:
    rule = create_rule(
        account,
        RuleInput(
            name="社保查询",
            keywords=[KeywordInput("社保")],
            replies=[ReplyInput(Reply.Kind.TEXT, {"content": "请拨打12333"})],
        ),
    )
    inbound(
        account,
        content="社保怎么交",
        handled_by="rule",
        rule_id=rule.pk,
        reply=text_reply("请拨打12333"),
        at=datetime(2025, 1, 2, 8, 0, tzinfo=SH),
    )
    inbound(
        account,
        msg_type="image",
        payload={"PicUrl": "http://x/p.jpg"},
        handled_by="none",
        at=datetime(2025, 1, 2, 9, 0, tzinfo=SH),
    )
    inbound(
        account,
        msg_type="location",
        payload={"Label": "西安市政府", "Location_X": "34.26", "Location_Y": "108.94"},
        handled_by="default",
        reply=text_reply("收到"),
        at=datetime(2025, 1, 2, 10, 0, tzinfo=SH),
    )
    inbound(
        account,
        msg_type="event",
        event="CLICK",
        payload={"EventKey": "V_NEWS"},
        handled_by="click",
        reply={"kind": "news", "data": {"articles": [{"title": "今日要闻"}, {"title": "b"}]}},
        at=datetime(2025, 1, 2, 11, 0, tzinfo=SH),
    )
    inbound(
        account,
        msg_type="event",
        event="subscribe",
        payload={"EventKey": "qrscene_42"},
        handled_by="follow",
        reply=text_reply("欢迎关注"),
        at=datetime(2025, 1, 2, 12, 0, tzinfo=SH),
    )
    client.force_login(operator)
    r = client.get("/messages/")
    assert r.status_code == 200
    rows = r.context["rows"]
    assert [(row.content, row.reply, row.handled) for row in rows] == [
        ("关注（扫码场景 42）", "欢迎关注", "被关注回复"),
        ("点击菜单 V_NEWS", "[图文] 今日要闻 等 2 篇", "菜单点击回复"),
        ("[位置] 西安市政府 (34.26, 108.94)", "收到", "收到消息回复"),
        ("[图片]", "", "未回复"),
        ("社保怎么交", "请拨打12333", "关键词规则：社保查询"),
    ]
    body = r.content.decode()
    assert "2025-01-02 08:00:00" in body  # Beijing time, not UTC (00:00)
    assert "?openid=o-fan-1" in body


def test_it_filters_by_openid_and_type(client: Client, operator: Any, account: Account) -> None:
    inbound(account, openid="o-a", content="甲的文字")
    inbound(account, openid="o-a", msg_type="image")
    inbound(account, openid="o-b", content="乙的文字")
    client.force_login(operator)
    r = client.get("/messages/", {"openid": "o-a"})
    assert {row.msg.openid for row in r.context["rows"]} == {"o-a"}
    assert len(r.context["rows"]) == 2
    r = client.get("/messages/", {"openid": "o-a", "type": "text"})
    assert [row.content for row in r.context["rows"]] == ["甲的文字"]
    r = client.get("/messages/", {"type": "nonsense"})
    assert len(r.context["rows"]) == 3


def test_it_paginates_with_a_fixed_number_of_queries(
    client: Client, operator: Any, account: Account, django_assert_num_queries: Any
) -> None:
    rule = create_rule(
        account,
        RuleInput(
            name="r",
            keywords=[KeywordInput("x")],
            replies=[ReplyInput(Reply.Kind.TEXT, {"content": "y"})],
        ),
    )
    for i in range(60):
        inbound(account, openid=f"o-{i % 7}", content=f"m{i}", handled_by="rule", rule_id=rule.pk)
    follower(account, "o-1", nickname="李四")
    client.force_login(operator)
    # session, user, accounts list, account + membership, count, page, rule names, nicknames
    with django_assert_num_queries(10):
        r = client.get("/messages/")
    assert len(r.context["rows"]) == 50
    with django_assert_num_queries(10):
        r = client.get("/messages/", {"page": 2})
    assert len(r.context["rows"]) == 10
    assert 'rel="prev"' in r.content.decode()


def test_it_never_shows_another_accounts_messages(
    client: Client, outsider: Any, account: Account, other_account: Account
) -> None:
    inbound(account, openid="o-secret", content="机密内容")
    inbound(other_account, content="自己的消息")
    client.force_login(outsider)
    session = client.session
    session["console_account_id"] = account.pk
    session.save()
    r = client.get("/messages/", {"openid": "o-secret"})
    assert r.status_code == 200
    assert r.context["rows"] == []
    assert "机密内容" not in r.content.decode()


def test_phone_and_id_numbers_are_masked_in_the_log(
    client: Client, operator: Any, account: Account
) -> None:
    inbound(account, content="请回电13812345678，身份证110101199003071234")
    client.force_login(operator)
    body = client.get("/messages/").content.decode()
    assert "138****5678" in body and "110101********1234" in body
    assert "13812345678" not in body and "199003071234" not in body


def test_a_tap_on_a_web_page_button_is_not_an_unanswered_message(
    client: Client, operator: Any, account: Account
) -> None:
    inbound(
        account,
        msg_type="event",
        event="VIEW",
        payload={"EventKey": "http://127.0.0.1:8000/h/x/"},
        handled_by="none",
    )
    inbound(account, msg_type="image", handled_by="none")
    client.force_login(operator)
    rows = client.get("/messages/").context["rows"]
    assert sorted((row.msg.msg_type, row.handled, row.unanswered) for row in rows) == [
        ("event", "无需回复", False),
        ("image", "未回复", True),
    ]
