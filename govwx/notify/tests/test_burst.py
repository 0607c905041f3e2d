"""A burst of alerts: the rate window per channel, merged messages within the size limit,
rate answers and a channel that is down, and two senders at once."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from govwx.accounts.models import Account
from govwx.notify import senders, sending
from govwx.notify.models import Batch, Channel, Delivery
from govwx.notify.services import deliver_due, enqueue, failing

from .conftest import Hook, RobotDriver, make_channel

NIGHT = datetime(2026, 10, 1, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai
SECOND = timedelta(seconds=1)
HEADER = re.compile(r"^【示例市发布】提醒 (\d+) 条\n")
# Enqueue stores the deliveries and leaves the sending to deliver_due (no task runs).
STORE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def items_of(content: str) -> list[str]:
    """The numbered items of a merged WeCom message, or the single message as one item."""
    header = HEADER.match(content)
    if header is None:
        return [content]
    parts = re.split(r"(?:^|\n\n)(\d+)\. ", content[header.end() :])[1:]
    numbers, texts = parts[0::2], parts[1::2]
    assert numbers == [str(n) for n in range(1, int(header.group(1)) + 1)]
    return texts


@pytest.mark.django_db(transaction=True)
def test_fifty_alerts_in_a_minute_reach_a_robot_in_at_most_twenty_messages_each_once_in_order(
    account: Account, account_admin: Any, robots: RobotDriver, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://govwx.example.gov.cn"
    robot = robots.robot("值班群")
    channel = make_channel(account, account_admin, "wecom", robot["webhook_url"])
    with time_machine.travel(NIGHT, tick=False) as clock:
        for n in range(1, 51):  # one a second; the task sends each at once when it may
            enqueue(
                account,
                f"alert:{n}:1",
                f"【示例市发布】新诉求 {n:02d}",
                f"诉求 #{n:02d}：路灯不亮",
                link=f"/desk/cases/{n}/",
                mentions=[f"1380000{n:04d}"],
            )
            deliver_due()  # and govwx desk run passes every second
            clock.shift(SECOND)
        channel.refresh_from_db()
        assert (channel.held_for, channel.held_until) == ("rate", NIGHT + 60 * SECOND)
        assert Delivery.objects.filter(status="pending", attempts=0).count() == 30
        for _ in range(60):
            deliver_due()
            clock.shift(SECOND)
    messages = robots.messages(robot["key"])
    times = [datetime.fromisoformat(m["created_at"]) for m in messages]
    assert sum(t < NIGHT + 60 * SECOND for t in times) == 20
    # no 60 seconds anywhere saw more than 20: the robot never answered 45009
    assert max(sum(s <= t < s + 60 * SECOND for t in times) for s in times) <= 20
    assert list(Batch.objects.values_list("outcome", flat=True).distinct()) == ["sent"]
    assert Batch.objects.count() == len(messages) == 22
    items = [item for m in messages for item in items_of(m["content"])]
    assert [re.findall(r"#(\d\d)", item) for item in items] == [[f"{n:02d}"] for n in range(1, 51)]
    assert items[49] == (
        "新诉求 50\n诉求 #50：路灯不亮\nhttps://govwx.example.gov.cn/desk/cases/50/"
    )
    assert all(len(m["content"].encode()) <= 2048 for m in messages)
    merged = [m for m in messages if HEADER.match(m["content"])]
    assert [len(items_of(m["content"])) for m in merged] == [23, 7]
    # the first was full: one item more would not have fitted
    assert len(merged[0]["content"].encode()) + len(f"\n\n24. {items[43]}".encode()) > 2048
    assert merged[1]["mentioned_mobile_list"] == [f"1380000{n:04d}" for n in range(44, 51)]
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
    last = Batch.objects.order_by("id").last()
    assert last is not None and Delivery.objects.get(key="alert:50:1").batch_id == last.pk


@pytest.mark.django_db
def test_a_webhook_rate_limited_then_down_gets_the_burst_merged_in_order_once_it_recovers(
    account: Account, account_admin: Any, hook: Hook
) -> None:
    hook.statuses = [(429, {"Retry-After": "30"})]
    channel = make_channel(account, account_admin, "webhook", hook.url)
    items = iter(range(1, 31))

    def alerts(count: int) -> None:
        """`count` alerts, one a second, with desk run's pass each second."""
        for _ in range(count):
            n = next(items)
            enqueue(account, f"alert:{n}:1", f"新诉求 {n:02d}", f"诉求 #{n:02d}")
            deliver_due()
            clock.shift(SECOND)

    with time_machine.travel(NIGHT, tick=False) as clock:
        alerts(10)  # the first is answered 429: the other nine wait with it
        assert len(hook.calls) == 1
        for _ in range(6):  # 429 again and again, more times than the 5 attempts
            clock.move_to(NIGHT + 30 * SECOND * (len(hook.calls)))
            assert deliver_due() == Delivery.objects.filter(status="pending").count()
            alerts(2)
        assert len(hook.calls) == 7
        assert set(Delivery.objects.values_list("status", "attempts")) == {("pending", 0)}
        assert failing(account) == []
        hook.down()  # connection refused from now on
        start = NIGHT + 30 * SECOND * 7
        clock.move_to(start)
        assert deliver_due() == 22
        for refused in (22, 26):  # tried again after 1, then 5 minutes; 15 minutes next
            channel.refresh_from_db()
            clock.move_to(channel.held_until - SECOND)
            assert deliver_due() == 0
            clock.shift(SECOND)
            assert deliver_due() == refused
            alerts(4)
        assert failing(account) == [channel]
        channel.refresh_from_db()
        assert channel.held_for == "down"
        assert channel.held_until == start + timedelta(minutes=1 + 5 + 15)
        assert "无法连接 / cannot connect" in channel.last_error
        hook.statuses = [204]
        hook.up()  # back, on the same port
        clock.move_to(channel.held_until - SECOND)
        assert deliver_due() == 0
        clock.shift(SECOND)
        assert deliver_due() == 30
        assert deliver_due() == 0
    assert len(hook.calls) == 8  # 7 answered 429, the connection refused 3 times, then one
    payload = json.loads(hook.calls[-1][1])
    assert payload["title"] == "【示例市发布】提醒 30 条"
    assert [i["key"] for i in payload["items"]] == [f"alert:{n}:1" for n in range(1, 31)]
    assert payload["items"][29] == {
        "key": "alert:30:1",
        "title": "新诉求 30",
        "text": "诉求 #30",
        "link": "",
    }
    batch = Batch.objects.order_by("id").last()
    assert batch is not None and payload["key"] == f"batch:{batch.pk}"
    assert list(Batch.objects.order_by("id").values_list("outcome", "size")) == [
        ("limited", 1),
        *[("limited", n) for n in (10, 12, 14, 16, 18, 20)],
        ("retry", 22),
        ("retry", 22),
        ("retry", 26),
        ("sent", 30),
    ]
    rows = list(Delivery.objects.order_by("id").values_list("status", "attempts", "batch"))
    # the 7 answers 429 were no attempts; the first 22 were refused three times
    assert (
        rows
        == [("sent", 4, batch.pk)] * 22 + [("sent", 2, batch.pk)] * 4 + [("sent", 1, batch.pk)] * 4
    )
    assert failing(account) == []


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_an_item_twice(
    account: Account, account_admin: Any, hook: Hook, settings: Any
) -> None:
    settings.TASKS = STORE_ONLY
    channels = [
        make_channel(account, account_admin, "webhook", f"{hook.url}?c={c}", name=f"钩子{c}")
        for c in range(3)
    ]
    stop = threading.Event()
    errors: list[BaseException] = []

    def sender() -> None:
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                finished = stop.is_set()
                deliver_due(limit=7)
                if finished and not Delivery.objects.exclude(status="sent").exists():
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for n in range(1, 26):
        enqueue(account, f"alert:{n}:1", f"新诉求 {n:02d}", f"诉求 #{n:02d}")
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    received: dict[str, list[str]] = {}
    for path, (_, body) in zip(hook.paths, hook.calls, strict=True):
        payload = json.loads(body)
        keys = [i["key"] for i in payload.get("items", [payload])]
        received.setdefault(path.rsplit("=", 1)[1], []).extend(keys)
    expected = [f"alert:{n}:1" for n in range(1, 26)]
    assert received == {str(c): expected for c in range(3)}  # each once, in order
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert Batch.objects.count() == len(hook.calls)
    assert sum(Batch.objects.values_list("size", flat=True)) == 75
    assert all(
        c.sending_until is None for c in Channel.objects.filter(pk__in=[c.pk for c in channels])
    )


@pytest.mark.django_db(transaction=True)
def test_what_arrives_while_a_send_is_in_flight_waits_for_it_and_follows_merged(
    account: Account, account_admin: Any, hook: Hook, settings: Any
) -> None:
    settings.TASKS = STORE_ONLY
    make_channel(account, account_admin, "webhook", hook.url)
    enqueue(account, "alert:1:1", "新诉求", "第一条")
    hook.gate = threading.Event()
    outcome: list[int] = []

    def first_sender() -> None:
        try:
            outcome.append(deliver_due())
        finally:
            connection.close()

    thread = threading.Thread(target=first_sender)
    thread.start()
    assert hook.arrived.wait(timeout=20)  # its request is at the receiver, unanswered
    for n in range(2, 5):
        enqueue(account, f"alert:{n}:1", "新诉求", f"第{n}条")
    assert deliver_due() == 0  # the channel is busy: these wait, nothing goes twice
    assert list(Delivery.objects.order_by("id").values_list("status", flat=True)) == [
        "sending",
        "pending",
        "pending",
        "pending",
    ]
    hook.gate.set()
    thread.join(timeout=20)
    assert outcome == [4]  # the first sender took what came meanwhile, merged
    first, second = (json.loads(body) for _, body in hook.calls)
    assert first["key"] == "alert:1:1"
    assert [i["key"] for i in second["items"]] == ["alert:2:1", "alert:3:1", "alert:4:1"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db(transaction=True)
def test_a_merged_message_over_the_size_limit_is_split_and_nothing_dropped(
    account: Account, account_admin: Any, robots: RobotDriver, settings: Any
) -> None:
    settings.TASKS = STORE_ONLY
    robot = robots.robot("值班群")
    make_channel(account, account_admin, "wecom", robot["webhook_url"])
    texts = [f"诉求 #{n:02d}：" + "路灯不亮" * 25 for n in range(1, 15)]  # 313 bytes each
    with time_machine.travel(NIGHT, tick=False):
        for n, text in enumerate(texts, 1):
            enqueue(account, f"alert:{n}:1", "新诉求", text)
        assert deliver_due() == 14
    messages = robots.messages(robot["key"])
    sizes = [len(m["content"].encode()) for m in messages]
    assert [len(items_of(m["content"])) for m in messages] == [6, 6, 2]
    assert list(Batch.objects.order_by("id").values_list("size", flat=True)) == [6, 6, 2]
    assert all(s <= 2048 for s in sizes)
    # each was full: the next item would not have fitted
    assert sizes[0] + len(f"\n\n7. 新诉求\n{texts[6]}".encode()) > 2048
    assert sizes[1] + len(f"\n\n7. 新诉求\n{texts[12]}".encode()) > 2048
    received = [item for m in messages for item in items_of(m["content"])]
    assert received == [f"新诉求\n{text}" for text in texts]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_fit_takes_what_fits_and_at_least_one() -> None:
    def item(n: int, text: str) -> senders.Message:
        return senders.Message(
            key=f"k{n}", title="【示例市发布】新诉求", text=text, account="示例市发布"
        )

    big = item(1, "长" * 1000)  # 3000 bytes alone: sent alone, cut by its sender
    assert sending.fit("wecom", [big, item(2, "x")]) == 1
    small = [item(n, "x" * 100) for n in range(1, 40)]
    count = sending.fit("wecom", small)
    assert len(senders.wecom_text(senders.merge(small[:count], key="b")).encode()) <= 2048
    assert len(senders.wecom_text(senders.merge(small[: count + 1], key="b")).encode()) > 2048
    assert sending.fit("webhook", small) == 39
    assert sending.fit("email", [item(n, "x") for n in range(1, 80)]) == 50  # max_items


def test_retry_after_in_seconds_or_as_a_date() -> None:
    with time_machine.travel(NIGHT, tick=False):
        assert senders.parse_retry_after("30") == 30.0
        assert senders.parse_retry_after("Thu, 01 Oct 2026 19:02:00 GMT") == 120.0
        assert senders.parse_retry_after("0") == 1.0
        assert senders.parse_retry_after("86400") == senders.MAX_RETRY_AFTER
        assert senders.parse_retry_after("soon") is None
        assert senders.parse_retry_after(None) is None


@pytest.mark.django_db
def test_a_send_cut_off_holds_its_channel_only_until_its_lease_ends_and_is_never_resent(
    account: Account, account_admin: Any, hook: Hook, settings: Any
) -> None:
    settings.GOVWX_NOTIFY_TIMEOUT = 5
    channel = make_channel(account, account_admin, "webhook", hook.url)
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:1:1", "新诉求", "第一条")
        claimed = sending.claim(channel.pk, NIGHT)  # the process dies before sending
        assert isinstance(claimed, sending.Claim)
        enqueue(account, "alert:2:1", "新诉求", "第二条")
        clock.shift(59 * SECOND)
        assert deliver_due() == 0  # the channel is held by the send in flight
        clock.shift(SECOND)
        assert deliver_due() == 1
        clock.shift(timedelta(days=1))
        assert deliver_due() == 0
        assert failing(account) == [channel]  # the cut-off row is shown
    assert [json.loads(body)["key"] for _, body in hook.calls] == ["alert:2:1"]
    assert list(Delivery.objects.order_by("id").values_list("status", "attempts")) == [
        ("sending", 1),
        ("sent", 1),
    ]


@pytest.mark.django_db
def test_a_429_without_retry_after_waits_the_window(
    account: Account, account_admin: Any, hook: Hook
) -> None:
    hook.statuses = [429, 204]
    channel = make_channel(account, account_admin, "webhook", hook.url)
    with time_machine.travel(NIGHT, tick=False) as clock:
        enqueue(account, "alert:1:1", "新诉求", "x")
        assert deliver_due() == 1
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert delivery.last_error == "对方限流（HTTP 429） / rate limited (HTTP 429)"
        channel.refresh_from_db()
        assert (channel.held_for, channel.held_until) == ("rate", NIGHT + 60 * SECOND)
        clock.shift(59 * SECOND)
        assert deliver_due() == 0
        clock.shift(SECOND)
        assert deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
