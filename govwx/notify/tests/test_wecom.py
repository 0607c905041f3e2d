"""The WeCom group robot through the sandbox, over real HTTP: mentions, a robot that
times out (retried, then failed and shown, never sent twice), 93000 and 45009."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from govwx.accounts.models import Account
from govwx.notify.models import Delivery
from govwx.notify.services import deliver_due, enqueue, failing

from .conftest import RobotDriver, make_channel

pytestmark = pytest.mark.django_db(transaction=True)
NIGHT = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
MIN = timedelta(minutes=1)


def test_it_posts_into_the_group_and_mentions_the_people_on_duty(
    account: Account, account_admin: Any, robots: RobotDriver, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://govwx.example.gov.cn"
    robot = robots.robot("12345 值班群")
    make_channel(account, account_admin, "wecom", robot["webhook_url"], name="值班群")
    enqueue(
        account,
        "alert:7:1",
        "新诉求",
        "路灯不亮（解放路 12 号）",
        link="/desk/cases/7/",
        mentions=["13800001111", "13900002222", "13800001111"],
    )
    (message,) = robots.messages(robot["key"])
    assert message["msg_type"] == "text"
    assert message["content"] == (
        "新诉求\n路灯不亮（解放路 12 号）\nhttps://govwx.example.gov.cn/desk/cases/7/"
    )
    assert message["mentioned_mobile_list"] == ["13800001111", "13900002222"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_it_mentions_a_person_by_wecom_userid_where_known(
    account: Account, account_admin: Any, robots: RobotDriver
) -> None:
    robot = robots.robot("值班群")
    make_channel(account, account_admin, "wecom", robot["webhook_url"], name="值班群")
    enqueue(account, "alert:9:1", "新诉求", "路灯不亮", mentions=["WangFang", "13900002222"])
    (message,) = robots.messages(robot["key"])
    assert message["mentioned_list"] == ["WangFang"]
    assert message["mentioned_mobile_list"] == ["13900002222"]


def test_a_robot_that_times_out_is_retried_then_failed_and_shown(
    account: Account, account_admin: Any, robots: RobotDriver, settings: Any
) -> None:
    settings.GOVWX_NOTIFY_TIMEOUT = 0.3
    # held 0.8 s, longer than govwx waits, and then answers an error: nothing is posted
    robot = robots.robot("值班群", delay=0.8, errcode=-1)
    channel = make_channel(account, account_admin, "wecom", robot["webhook_url"])
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:7:1", "新诉求", "路灯不亮")
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert delivery.last_error == "超时 / timed out after 0.3 s"
        assert delivery.next_attempt_at == NIGHT + MIN
        assert failing(account) == [channel]  # shown while it is being retried
        assert deliver_due() == 0
        for minutes in (1, 5, 15, 60):
            clock.shift(minutes * MIN)
            assert deliver_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("failed", 5)
        clock.shift(timedelta(days=1))
        robots.robot("值班群", key=robot["key"])  # the robot recovers: a failed row stays failed
        assert deliver_due() == 0
    channel.refresh_from_db()
    assert channel.last_error == "超时 / timed out after 0.3 s"
    assert channel.last_error_at == NIGHT + 81 * MIN
    assert failing(account) == [channel]
    assert robots.messages(robot["key"]) == []


def test_after_two_timeouts_the_third_attempt_posts_exactly_once(
    account: Account, account_admin: Any, robots: RobotDriver, settings: Any
) -> None:
    settings.GOVWX_NOTIFY_TIMEOUT = 0.3
    robot = robots.robot("值班群", delay=0.8, errcode=-1)
    channel = make_channel(account, account_admin, "wecom", robot["webhook_url"])
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:7:1", "新诉求", "路灯不亮")
        clock.shift(MIN)
        assert deliver_due() == 1
        robots.robot("值班群", key=robot["key"])  # healthy again
        clock.shift(5 * MIN)
        assert deliver_due() == 1
        clock.shift(timedelta(days=1))
        assert deliver_due() == 0
        enqueue(account, "alert:7:1", "新诉求", "路灯不亮")  # the same key again: nothing
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert [m["content"] for m in robots.messages(robot["key"])] == ["新诉求\n路灯不亮"]
    channel.refresh_from_db()
    assert channel.last_ok_at == NIGHT + 6 * MIN
    assert failing(account) == []


def test_an_invalid_key_93000_is_not_retried(
    account: Account, account_admin: Any, robots: RobotDriver, live_server: Any
) -> None:
    url = f"{live_server.url}/sandbox/cgi-bin/webhook/send?key=deleted-robot-key"
    channel = make_channel(account, account_admin, "wecom", url)
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:7:1", "新诉求", "x")
        clock.shift(timedelta(days=1))
        assert deliver_due() == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "企业微信返回 93000 / WeCom errcode 93000: invalid webhook url"
    assert failing(account) == [channel]


def test_rate_limit_45009_waits_a_minute_without_using_an_attempt_then_sends_merged(
    account: Account, account_admin: Any, robots: RobotDriver
) -> None:
    robot = robots.robot("值班群", errcode=45009)
    channel = make_channel(account, account_admin, "wecom", robot["webhook_url"])
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:7:1", "新诉求", "x", mentions=["13800001111"])
        clock.shift(timedelta(seconds=10))
        enqueue(account, "alert:8:1", "已超时", "y", mentions=["13900002222", "13800001111"])
        first, second = Delivery.objects.order_by("id")
        assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 0, NIGHT + MIN)
        assert first.last_error == "企业微信返回 45009 / WeCom errcode 45009: api freq out of limit"
        assert (second.status, second.attempts) == ("pending", 0)  # held: never tried
        channel.refresh_from_db()
        assert (channel.held_for, channel.held_until) == ("rate", NIGHT + MIN)
        assert failing(account) == []  # asked to slow down: not a failure
        clock.shift(timedelta(seconds=49))
        assert deliver_due() == 0
        robots.robot("值班群", key=robot["key"])  # accepts again
        clock.shift(timedelta(seconds=1))
        assert deliver_due() == 2
    (message,) = robots.messages(robot["key"])
    assert message["content"] == "【示例市发布】提醒 2 条\n1. 新诉求\nx\n\n2. 已超时\ny"
    assert message["mentioned_mobile_list"] == ["13800001111", "13900002222"]
    assert [(d.status, d.attempts, d.last_error) for d in Delivery.objects.order_by("id")] == [
        ("sent", 1, ""),
        ("sent", 1, ""),
    ]
