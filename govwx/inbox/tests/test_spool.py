"""The callback's spool (wechat/spool.py): while another process holds SQLite's write
lock, a callback answers at once and its message waits in the process's spool file;
it reaches the database with the process's next write or from the spool's thread, and a
spool left by a process killed with SIGKILL is replayed by the desk, once."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.test import Client

from govwx.accounts.models import Account
from govwx.desk.models import CaseMessage
from govwx.desk.services import take_in_pending
from govwx.desk.tests.test_burst import database_url
from govwx.replies.services import KeywordInput, ReplyInput, RuleInput, create_rule
from govwx.wechat import spool
from govwx.wechat.models import Follower, InboundMessage

from .wxpeer import Peer, text_xml

pytestmark = pytest.mark.django_db(transaction=True)
AT = int(time.time())
sqlite_file = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="only SQLite has one writer (and a spool)"
)


@contextlib.contextmanager
def writer_elsewhere() -> Iterator[None]:
    """SQLite's write lock held as another process holds it (a descriptor of its own)."""
    fd = os.open(str(connection.settings_dict["NAME"]) + ".writelock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def wait_until(done: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


def spooled_lines() -> list[bytes]:
    folder = spool.directory(connection)
    return [
        line for path in folder.glob("*.jsonl") for line in path.read_bytes().splitlines() if line
    ]


@pytest.fixture(autouse=True)
def written_after() -> Iterator[None]:
    """Every test leaves this process's spool written and empty."""
    yield
    own = spool.spool_of(connection, create=False)
    if own is not None:
        wait_until(lambda: not own.take())


@pytest.fixture
def peer(account: Account) -> Peer:
    create_rule(account, RuleInput("社保", [KeywordInput("社保")], [ReplyInput("text", {"content": "社保请拨12333"})]))  # fmt: skip
    return Peer(Client(), appid=account.appid)


@sqlite_file
def test_a_busy_writer_does_not_hold_up_the_callback(account: Account, peer: Peer) -> None:
    with writer_elsewhere():
        started = time.monotonic()
        first = peer.post(text_xml("请问社保怎么查", openid="oSpool1", msg_id=501, create_time=AT))
        again = peer.post(
            text_xml("请问社保怎么查", openid="oSpool1", msg_id=501, create_time=AT)
        )  # a retry
        desk = peer.post(text_xml("小区路灯坏了", openid="oSpool2", msg_id=502))
        assert time.monotonic() - started < 2  # answered while the lock is still held
        assert peer.reply(first)["Content"] == "社保请拨12333"  # type: ignore[index]
        assert peer.reply(again) == peer.reply(first)
        assert desk.status_code == 200
        assert not InboundMessage.objects.exists()  # not in the database yet: in the file
        assert len(spooled_lines()) == 2  # the retry was not spooled again
    # the lock is free: the spool's thread writes it (nobody else writes here)
    wait_until(lambda: InboundMessage.objects.count() == 2)
    rows = {m.msg_id: m for m in InboundMessage.objects.all()}
    assert rows[501].handled_by == "rule" and rows[501].reply["data"]
    assert rows[502].handled_by == "desk"
    assert set(Follower.objects.values_list("openid", flat=True)) == {"oSpool1", "oSpool2"}
    wait_until(lambda: not spooled_lines())
    # a retry after the spool was written gets the stored reply, and nothing more is stored
    assert peer.reply(
        peer.post(text_xml("请问社保怎么查", openid="oSpool1", msg_id=501, create_time=AT))
    ) == (peer.reply(first))
    assert InboundMessage.objects.count() == 2
    take_in_pending()
    assert CaseMessage.objects.filter(inbound=rows[502]).count() == 1


@sqlite_file
def test_the_next_write_takes_the_spool_first(account: Account, peer: Peer) -> None:
    with writer_elsewhere():
        peer.post(text_xml("停水了", openid="oSpool3", msg_id=601))
    peer.post(text_xml("还是没水", openid="oSpool3", msg_id=602))
    # in the database as soon as the second is answered, in the order they came
    ids = list(InboundMessage.objects.order_by("pk").values_list("msg_id", flat=True))
    assert ids == [601, 602]
    assert not spooled_lines()


@sqlite_file
def test_a_killed_process_spool_is_replayed_once(account: Account) -> None:
    """A real process spools a message while the lock is held elsewhere, answers, and is
    killed with SIGKILL: the desk's next pass writes the message and makes it a case;
    replaying the same spool again (a crash after the write, before the file was
    emptied) changes nothing."""
    code = (
        "import django, sys; django.setup()\n"
        "from django.utils import timezone\n"
        "from govwx.wechat import protocol as wx\n"
        "from govwx.wechat.services import store_inbound\n"
        f"msg = wx.to_message(wx.parse_xml({text_xml('垃圾没人收', openid='oSpool4', msg_id=701)!r}.encode()))\n"
        f"s = store_inbound({account.pk}, msg, reply={{}}, handled_by='desk', rule_id=None,"
        " now=timezone.now(), may_spool=True)\n"
        "print('stored', s.id, flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govwx.settings",
        "GOVWX_DATABASE_URL": database_url(),
    }
    with writer_elsewhere():
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == b"stored 0"  # spooled, answered
            lines = spooled_lines()
            assert len(lines) == 1
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not InboundMessage.objects.exists()
    take_in_pending()  # the desk's pass replays what the killed process left
    row = InboundMessage.objects.get()
    assert (row.msg_id, row.handled_by, row.content) == (701, "desk", "垃圾没人收")
    assert CaseMessage.objects.filter(inbound=row).count() == 1
    assert not spooled_lines()
    # the same spool found again: nothing doubled
    (spool.directory(connection) / "1-gone.jsonl").write_bytes(lines[0] + b"\n")
    assert spool.recover() == 1
    take_in_pending()
    assert InboundMessage.objects.count() == 1 and CaseMessage.objects.count() == 1
    assert Follower.objects.filter(openid="oSpool4").count() == 1


@sqlite_file
def test_a_torn_line_is_skipped_and_the_rest_replayed(account: Account) -> None:
    folder = spool.directory(connection)
    folder.mkdir(exist_ok=True)
    good = (
        b'[["inbound",[%d,"oSpool5","m:801","text","","801","\\u8def\\u706f","{}",'
        b'"2026-12-06 01:00:00","2026-12-06 01:00:00","{}","desk",null]]]' % account.pk
    )
    (folder / "2-gone.jsonl").write_bytes(good + b"\n" + good[:30])
    assert spool.recover() == 1
    assert InboundMessage.objects.get().content == "路灯"
    assert not (folder / "2-gone.jsonl").exists()


def test_postgresql_or_a_free_writer_stores_at_once(account: Account, peer: Peer) -> None:
    """No other writer: the callback's own write, nothing spooled (on PostgreSQL always)."""
    peer.post(text_xml("请问社保怎么查", openid="oSpool6", msg_id=901))
    assert InboundMessage.objects.filter(msg_id=901).exists()
    assert not spool.directory(connection).exists() or not spooled_lines()


@sqlite_file
def test_a_delivery_the_database_refuses_is_set_aside_not_blocking(
    account: Account, peer: Peer
) -> None:
    """A spooled delivery whose account was deleted meanwhile: set aside with the reason,
    the other spooled deliveries and the next callback are written."""
    folder = spool.directory(connection)
    folder.mkdir(exist_ok=True)
    line = (
        b'[["inbound",[%d,"oSpool7","m:%d","text","","%d","x","{}",'
        b'"2026-12-06 01:00:00","2026-12-06 01:00:00","{}","desk",null]]]'
    )
    gone = line % (987654, 1, 1)  # no such account
    kept = line % (account.pk, 2, 2)
    (folder / "3-gone.jsonl").write_bytes(gone + b"\n" + kept + b"\n")
    assert spool.recover() == 2
    assert list(InboundMessage.objects.values_list("msg_id", flat=True)) == [2]
    rejected = (folder / "rejected.log").read_text(encoding="utf-8")
    assert "account 987654 does not exist" in rejected and '"oSpool7"' in rejected
    # the same in a live process: its next callback is not held up by it
    own = spool.spool_of(connection)
    assert own is not None
    own.add(json.loads(gone.replace(b"m:1", b"m:3")), (987654, "m:3"), {})
    r = peer.post(text_xml("请问社保怎么查", openid="oSpool8", msg_id=903))
    assert r.status_code == 200
    assert InboundMessage.objects.filter(msg_id=903).exists()
    assert not own.take()


@sqlite_file
def test_a_reply_drawn_at_random_waits_for_the_writer(account: Account) -> None:
    """A rule that answers with one of several replies: the delivery waits for the lock
    and is stored before the answer, so that a retry gets the same reply."""
    replies = [ReplyInput("text", {"content": f"签{i}"}) for i in range(3)]
    create_rule(account, RuleInput("抽签", [KeywordInput("抽签")], replies))
    peer = Peer(Client(), appid=account.appid)
    held = threading.Event()

    def hold() -> None:
        with writer_elsewhere():
            held.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    started = time.monotonic()
    first = peer.reply(peer.post(text_xml("抽签", openid="oSpool9", msg_id=951, create_time=AT)))
    assert time.monotonic() - started > 0.3  # it waited for the writer
    holder.join()
    stored = InboundMessage.objects.get(msg_id=951)  # stored before the answer
    assert first is not None and first["Content"] in stored.reply["data"]["content"]
    assert not spooled_lines()
