"""A burst of citizens' messages through the real callback, taken in by real desk loops
(`govwx desk run`, as separate processes on the same database): every message in exactly
one case, the new cases announced in a few summing alerts that reach the sandbox's WeCom
group once each, a surge of one topic alerted as 舆情异动 — also when a loop is killed
with SIGKILL in the middle of its work and two loops run at once. On SQLite and, with
GOVWX_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.test import Client

from govwx.accounts.models import Account
from govwx.desk import topics
from govwx.desk.models import Case, CaseMessage
from govwx.inbox.tests.wxpeer import Peer, text_xml
from govwx.notify.models import Batch, Channel, Delivery
from govwx.notify.tests.conftest import RobotDriver, make_channel
from govwx.team.models import Alert
from govwx.wechat.models import InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [
    "幸福小区停水两天了，什么时候来水", "停水了，请问哪里可以接水", "东湖区停水影响上班，请尽快处理",
    "请问医保卡丢了怎么补办", "小区门口的路灯坏了", "停水通知为什么没提前发",
    "投诉夜间施工噪音扰民", "我想咨询居住证办理材料",
]  # fmt: skip


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{s['USER']}@{s['HOST']}{port}/{s['NAME']}"


@pytest.fixture
def desk_loop(live_server: Any) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start `govwx desk run` processes on the test database (stopped at the end)."""
    started: list[subprocess.Popen[bytes]] = []
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govwx.settings",
        "GOVWX_DATABASE_URL": database_url(),
        "GOVWX_SANDBOX": "1",
        "GOVWX_PUBLIC_URL": live_server.url,
        "GOVWX_ALERT_WINDOW": "2",
        # the sandbox's robot answers from this test process, busy posting the burst: a
        # send must not time out on it (a timed-out send is tried again, and a robot
        # that did get it would show it twice)
        "GOVWX_NOTIFY_TIMEOUT": "20",
    }
    env.pop("GOVWX_TASKS_IMMEDIATE", None)

    def start() -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "govwx", "desk", "run", "--interval", "0.2"]
        proc = subprocess.Popen([*cmd, "--surge-every", "1", "--sweep-every", "3600"], env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def robot_channel(account: Account, account_admin: Any, operator: Any, live_server: Any) -> str:
    """The account's WeCom duty group in the sandbox: returns the robot's key."""
    robots = RobotDriver(live_server.url + "/sandbox")
    key = str(robots.robot("值班群")["key"])
    url = f"{live_server.url}/sandbox/cgi-bin/webhook/send?key={key}"
    make_channel(account, account_admin, Channel.Kind.WECOM, url)
    return key


def burst(account: Account, n: int, followers: int) -> None:
    """n messages from `followers` citizens through the signed, encrypted callback."""
    peer = Peer(Client(), appid=account.appid)
    for i in range(n):
        text = f"{TEXTS[i % len(TEXTS)]}（{i}）"
        r = peer.post(text_xml(text, openid=f"oBurst{i % followers:04d}", msg_id=10_000 + i))
        assert r.status_code == 200


def burst_in_thread(account: Account, n: int, followers: int) -> threading.Thread:
    def run() -> None:
        try:
            burst(account, n, followers)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_until(done: Callable[[], bool], seconds: float, what: str, every: float = 0.25) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(every)
    raise AssertionError(f"not within {seconds:g} s: {what}")


def settled(account: Account) -> bool:
    desk = InboundMessage.objects.filter(account=account, handled_by="desk")
    return (
        CaseMessage.objects.filter(inbound__account=account).count() == desk.count()
        and not Case.objects.filter(account=account, announce_pending=True).exists()
        and not Delivery.objects.filter(
            channel__account=account, status__in=(Delivery.Status.PENDING,)
        ).exists()
    )


def check_exactly_once(
    account: Account, robots: RobotDriver, key: str, n: int, *, killed: bool = False
) -> None:
    desk = InboundMessage.objects.filter(account=account, handled_by="desk")
    assert desk.count() == n  # nothing answers these: every one is the desk's
    linked = CaseMessage.objects.filter(inbound__account=account)
    assert linked.count() == n
    assert not linked.values("inbound").annotate(k=Count("id")).filter(k__gt=1).exists()
    # one open case per follower, each announced in exactly one alert
    cases = Case.objects.filter(account=account)
    assert cases.count() == desk.values("openid").distinct().count()
    assert not cases.filter(announced_in__isnull=True).exists()
    new_case_alerts = Alert.objects.filter(account=account, kind=Alert.Kind.NEW_CASE)
    announced = sum(a.cases.count() for a in new_case_alerts)
    assert announced == cases.count()
    # every alert went out through the robot once (alone or merged): each delivery sent,
    # each batch one message in the group, each alert's text in exactly one message. A
    # loop killed in the middle of a send leaves that send's rows `sending`: shown, never
    # sent again (the group may or may not have got it: at most once)
    deliveries = Delivery.objects.filter(channel__account=account)
    statuses = set(deliveries.values_list("status", flat=True))
    assert statuses <= ({Delivery.Status.SENT, Delivery.Status.SENDING} if killed else {"sent"})
    alerts = Alert.objects.filter(account=account)
    assert deliveries.count() == alerts.count()
    sent = Batch.objects.filter(channel__account=account, outcome="sent").count()
    cut_off = Batch.objects.filter(channel__account=account, outcome="sending").count()
    assert cut_off <= (1 if killed else 0)
    group = robots.messages(key)
    assert sent <= len(group) <= sent + cut_off
    contents = [m["content"] for m in group]
    for alert in alerts:
        link = re.compile(re.escape(alert.link) + r"(?![\d/])")
        seen = sum(len(link.findall(c)) for c in contents)
        status = deliveries.get(key__startswith=f"alert:{alert.pk}:").status
        assert seen == 1 if status == Delivery.Status.SENT else seen <= 1, alert.text


def test_a_burst_is_taken_in_once_and_summed_up_in_a_few_alerts(
    account: Account, robot_channel: str, desk_loop: Any, live_server: Any
) -> None:
    robots = RobotDriver(live_server.url + "/sandbox")
    loop = desk_loop()
    n, followers = 1200, 400
    burst(account, n, followers)
    wait_until(lambda: settled(account), 90, "every message in a case and every alert sent")
    assert loop.poll() is None
    topics.detect_surges()  # the loop's next look, whenever it comes: the same answer
    wait_until(lambda: settled(account), 30, "the last alerts sent")
    check_exactly_once(account, robots, robot_channel, n)
    alerts = Alert.objects.filter(account=account)
    kinds = Counter(alerts.values_list("kind", flat=True))
    # a burst of 400 cases is a handful of alerts, not 400
    assert 1 <= kinds[Alert.Kind.NEW_CASE] <= 40
    summary = alerts.filter(kind=Alert.Kind.NEW_CASE, text__contains="件").first()
    assert summary is not None
    assert "主要涉及：" in summary.detail and "停水" in summary.detail
    assert summary.link == f"/desk/cases/?alert={summary.pk}"
    # the surge of 停水 (half of the messages, nothing the week before): one alert for
    # the topic, the words said with it in it; other new topics at most one each
    surges = alerts.filter(kind=Alert.Kind.SURGE)
    water = surges.get(subject__startswith="surge:停水:")
    assert "话题词：停水、" in water.detail and "幸福" in water.detail
    assert not surges.filter(subject__regex=r"^surge:(幸福|两天|来水|上班|东湖区):").exists()
    assert surges.count() <= len(TEXTS)
    assert any("舆情异动" in m["content"] for m in robots.messages(robot_channel))


def test_a_loop_killed_mid_batch_and_two_loops_at_once_lose_and_double_nothing(
    account: Account, robot_channel: str, desk_loop: Any, live_server: Any
) -> None:
    robots = RobotDriver(live_server.url + "/sandbox")
    n, followers = 3000, 800
    first = desk_loop()
    sender = burst_in_thread(account, n, followers)
    # kill the loop while it is busy taking in
    wait_until(lambda: CaseMessage.objects.count() >= 100, 60, "the first loop at work", 0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    taken = CaseMessage.objects.count()
    assert taken < n
    # two loops at once take over
    second, third = desk_loop(), desk_loop()
    sender.join(timeout=120)
    assert not sender.is_alive()
    wait_until(lambda: settled(account), 120, "every message in a case and every alert sent")
    assert second.poll() is None and third.poll() is None
    check_exactly_once(account, robots, robot_channel, n, killed=True)
