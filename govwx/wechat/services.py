"""Writes on what WeChat gives us: inbound messages and followers.

`store_inbound` is on the hot path of every callback, so it speaks SQL through Django's
connection: one INSERT … ON CONFLICT DO NOTHING RETURNING decides, across processes and
hosts, whether this delivery is the first (SQLite ≥ 3.35 and PostgreSQL both have it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from govwx.lib.dblock import serialized_writes, try_serialized_writes

from . import spool
from .models import Follower, InboundMessage, OutboundMessage
from .protocol import Message, SubscribeEvent, UnsubscribeEvent
from .tasks import deliver_outbound

# Events a follower causes by acting in the chat; they count as an interaction.
INTERACTION_EVENTS = frozenset(
    {
        "subscribe",
        "scan",
        "click",
        "view",
        "view_miniprogram",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)


# A follower's last interaction is written at most once a minute per process: the
# 48-hour window then closes at most a minute early (never late), and a busy follower
# costs one row write a minute instead of one per message.
TOUCH_INTERVAL = 60.0
_touched: dict[tuple[int, str], float] = {}


@dataclass(frozen=True)
class Stored:
    id: int
    created: bool
    reply: dict[str, Any]


INBOUND_COLUMNS = (
    "account_id", "openid", "dedup_key", "msg_type", "event", "msg_id", "content", "payload",
    "sent_at", "received_at", "reply", "handled_by", "rule_id",
)  # fmt: skip
FOLLOWER_COLUMNS = (
    "account_id", "openid", "subscribed", "subscribed_at", "unsubscribed_at", "scene",
    "first_seen_at", "last_interaction_at", "nickname",
)  # fmt: skip


@dataclass(frozen=True)
class Statements:
    """The hot path's SQL for one database vendor, built once per process."""

    sqlite: bool
    inbound: str
    subscribe: str
    unsubscribe: str
    touch: str

    @classmethod
    def build(cls, conn: BaseDatabaseWrapper) -> Statements:
        q = conn.ops.quote_name
        sqlite = conn.vendor == "sqlite"
        # The sqlite3 module itself runs SQLite statements (see _run): qmark style.
        p = "?" if sqlite else "%s"

        def cols(names: tuple[str, ...]) -> str:
            return ", ".join(q(c) for c in names)

        inbound = (
            f"INSERT INTO {q(InboundMessage._meta.db_table)} ({cols(INBOUND_COLUMNS)}) "
            f"VALUES ({', '.join([p] * len(INBOUND_COLUMNS))}) "
            f"ON CONFLICT ({q('account_id')}, {q('dedup_key')}) DO NOTHING RETURNING {q('id')}"
        )

        def follower(update: tuple[str, ...]) -> str:
            sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in update)
            return (
                f"INSERT INTO {q(Follower._meta.db_table)} ({cols(FOLLOWER_COLUMNS)}) "
                f"VALUES ({', '.join([p] * len(FOLLOWER_COLUMNS))}) "
                f"ON CONFLICT ({q('account_id')}, {q('openid')}) DO UPDATE SET {sets}"
            )

        return cls(
            sqlite=sqlite,
            inbound=inbound,
            subscribe=follower(("subscribed", "subscribed_at", "scene", "last_interaction_at")),
            unsubscribe=follower(("subscribed", "unsubscribed_at")),
            touch=follower(("last_interaction_at",)),
        )

    def dt(self, value: datetime) -> Any:
        if self.sqlite:  # Django's own SQLite format: naive UTC, str(datetime)
            return str(value.astimezone(UTC).replace(tzinfo=None))
        return value


_STATEMENTS: dict[str, Statements] = {}


def _statements(conn: BaseDatabaseWrapper) -> Statements:
    st = _STATEMENTS.get(conn.vendor)
    if st is None:
        st = _STATEMENTS[conn.vendor] = Statements.build(conn)
    return st


def payload_of(msg: Message) -> dict[str, Any]:
    return msg.raw


def store_inbound(
    account_id: int,
    msg: Message,
    *,
    reply: dict[str, Any],
    handled_by: str,
    rule_id: int | None,
    now: datetime,
    may_spool: bool = False,
) -> Stored:
    """Store one delivery and, when due, touch its follower, in one transaction.

    If WeChat already delivered this message (a retry), nothing is written and the
    reply stored with the first delivery is returned. Most deliveries are one INSERT in
    autocommit mode; a second statement (the follower) makes it a transaction.

    `may_spool`: when another process holds SQLite's write lock, store the delivery in
    this process's spool instead of waiting (`spool.py`); its id is then 0, so callers
    that need the row (replies sent after the answer) leave it False.
    """
    conn = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` is a thread-local lookup
    st = _statements(conn)
    openid = msg.from_user
    sent_at = datetime.fromtimestamp(msg.create_time, UTC) if msg.create_time else now
    params = [
        account_id, openid, msg.dedup_key, msg.msg_type, msg.event, msg.msg_id,
        getattr(msg, "content", ""), json.dumps(payload_of(msg), ensure_ascii=False),
        st.dt(sent_at), st.dt(now), json.dumps(reply, ensure_ascii=False), handled_by, rule_id,
    ]  # fmt: skip
    record: spool.Record = [("inbound", params)]
    touch = _follower_write(account_id, msg)
    if touch is not None:
        record.append((touch[0], touch[1](st.dt(now))))
    if may_spool and st.sqlite:
        with try_serialized_writes(conn) as free:
            if free:
                row = _run(conn, st, record)
        if not free:
            return _spooled(conn, record, account_id, msg, reply)
    else:
        with serialized_writes(conn):
            row = _run(conn, st, record)
    if row is None:
        _touched.pop((account_id, openid), None)
        stored = (
            InboundMessage.objects.filter(account_id=account_id, dedup_key=msg.dedup_key)
            .values_list("id", "reply")
            .get()
        )
        return Stored(stored[0], False, stored[1])
    return Stored(row[0], True, reply)


_STORED_SQL = (
    f'SELECT "id", "reply" FROM "{InboundMessage._meta.db_table}" '
    'WHERE "account_id" = ? AND "dedup_key" = ?'
)


def _spooled(
    conn: BaseDatabaseWrapper,
    record: spool.Record,
    account_id: int,
    msg: Message,
    reply: dict[str, Any],
) -> Stored:
    """The delivery kept in the spool (a retry of one stored or spooled gets its reply;
    reading needs no lock)."""
    key = (account_id, msg.dedup_key)
    own = spool.spool_of(conn)
    assert own is not None
    earlier = own.reply_of(key)
    if earlier is not None:
        return Stored(0, False, earlier)
    conn.ensure_connection()
    stored = conn.connection.execute(_STORED_SQL, key).fetchone()
    if stored is not None:
        return Stored(stored[0], False, json.loads(stored[1]))
    own.add(record, key, reply)
    return Stored(0, True, reply)


def _run(conn: BaseDatabaseWrapper, st: Statements, record: spool.Record) -> Any:
    """Run the INSERT … RETURNING and, if it inserted, the statements after it, as one
    transaction; return the INSERT's row (None: a duplicate). On SQLite, what this
    process spooled goes first, in the same transaction."""
    if st.sqlite:  # the sqlite3 connection itself (spool.write): Django's wrappers cost more
        waiting = spool.spool_of(conn, create=False)
        earlier = waiting.take() if waiting is not None else []
        row = spool.write(conn, [*earlier, record], spooled=len(earlier))[-1]
        if waiting is not None and earlier:
            waiting.written(len(earlier))
        return row
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute(getattr(st, record[0][0]), record[0][1])
        row = cur.fetchone()
        if row is not None:
            for name, params in record[1:]:
                cur.execute(getattr(st, name), params)
    return row


def _follower_write(account_id: int, msg: Message) -> tuple[str, Any] | None:
    """Which follower statement this delivery needs, if any: (sql key, params(now))."""
    openid = msg.from_user
    event = msg.event.lower()
    if not openid or (
        msg.msg_type == "event" and event not in INTERACTION_EVENTS and event != "unsubscribe"
    ):
        return None
    key = (account_id, openid)
    if isinstance(msg, SubscribeEvent):
        _touched.pop(key, None)
        scene = msg.scene
        return "subscribe", lambda t: [account_id, openid, True, t, None, scene, t, t, ""]
    if isinstance(msg, UnsubscribeEvent):
        _touched.pop(key, None)
        return "unsubscribe", lambda t: [account_id, openid, False, None, t, "", t, t, ""]
    clock = time.monotonic()
    last = _touched.get(key)
    if last is not None and clock - last < TOUCH_INTERVAL:
        return None
    if len(_touched) > 200_000:
        _touched.clear()
    _touched[key] = clock
    # Only followers can write to an account, so a first message means following.
    return "touch", lambda t: [account_id, openid, True, None, None, "", t, t, ""]


def queue_customer_messages(
    account_id: int, openid: str, replies: Any, *, in_reply_to: int | None = None
) -> list[int]:
    """Store customer-service messages and send each once, after the commit."""
    with transaction.atomic():
        rows = [
            OutboundMessage.objects.create(
                account_id=account_id,
                openid=openid,
                kind=r.kind,
                payload=r.data,
                in_reply_to_id=in_reply_to,
            )
            for r in replies
        ]
        for row in rows:
            transaction.on_commit(partial(deliver_outbound.enqueue, row.pk))
    return [r.pk for r in rows]


def release_held(limit: int = 500) -> int:
    """Send again the held messages whose follower has interacted since they were held
    (the interaction opened a new window). Returns how many were released."""
    held = (
        OutboundMessage.objects.filter(status=OutboundMessage.Status.HELD)
        .order_by("id")
        .values_list("id", "account_id", "openid", "held_at")[:limit]
    )
    released = 0
    for pk, account_id, openid, held_at in held:
        seen = (
            Follower.objects.filter(account_id=account_id, openid=openid)
            .values_list("last_interaction_at", flat=True)
            .first()
        )
        if seen is None or held_at is None or seen <= held_at:
            continue
        with transaction.atomic():
            if OutboundMessage.objects.filter(pk=pk, status=OutboundMessage.Status.HELD).update(
                status=OutboundMessage.Status.PENDING
            ):
                transaction.on_commit(partial(deliver_outbound.enqueue, pk))
                released += 1
    return released
