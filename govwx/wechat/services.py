"""Writes on what WeChat gives us: inbound messages and followers.

`store_inbound` is on the hot path of every callback, so it speaks SQL through Django's
connection: one INSERT … ON CONFLICT DO NOTHING RETURNING decides, across processes and
hosts, whether this delivery is the first (SQLite ≥ 3.35 and PostgreSQL both have it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from govwx.lib.dblock import serialized_writes

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
    touched: str

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
            touched=touched_sql(conn),
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
) -> Stored:
    """Store one delivery and, when due, touch its follower, in one transaction.

    If WeChat already delivered this message (a retry), nothing is written and the
    reply stored with the first delivery is returned. Most deliveries are one INSERT in
    autocommit mode; a (un)subscription's follower row makes it a transaction. Other
    interactions reach the follower's row through the desk's loop (`touch_followers`).
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
    statements = [(st.inbound, params)]
    follow = _follower_write(account_id, msg)
    if follow is not None:
        statements.append((getattr(st, follow[0]), follow[1](st.dt(now))))
    with serialized_writes(conn):
        row = _run(conn, st, statements)
    if row is None:
        stored = (
            InboundMessage.objects.filter(account_id=account_id, dedup_key=msg.dedup_key)
            .values_list("id", "reply")
            .get()
        )
        return Stored(stored[0], False, stored[1])
    return Stored(row[0], True, reply)


def _run(conn: BaseDatabaseWrapper, st: Statements, statements: list[tuple[str, list[Any]]]) -> Any:
    """Run the INSERT … RETURNING and, if it inserted, the statements after it, as one
    transaction; return the INSERT's row (None: a duplicate)."""
    if st.sqlite:
        # The sqlite3 connection itself: Django's cursor wrappers cost more than the
        # statement here. Django runs it in autocommit mode (isolation_level None).
        conn.ensure_connection()
        raw = conn.connection
        own = len(statements) > 1 and not conn.in_atomic_block
        if own:
            raw.execute("BEGIN IMMEDIATE")
        try:
            row = raw.execute(*statements[0]).fetchone()
            if row is not None:
                for sql, params in statements[1:]:
                    raw.execute(sql, params)
        except BaseException:
            if own:
                raw.execute("ROLLBACK")
            raise
        if own:
            raw.execute("COMMIT")
        return row
    with transaction.atomic(using=conn.alias), conn.cursor() as cur:
        cur.execute(*statements[0])
        row = cur.fetchone()
        if row is not None:
            for sql, params in statements[1:]:
                cur.execute(sql, params)
    return row


def _follower_write(account_id: int, msg: Message) -> tuple[str, Any] | None:
    """The follower statement a (un)subscription needs in the callback's own transaction:
    (sql key, params(now)). Other interactions are written by the desk's loop, a pass at
    a time (`touch_followers`), so that most deliveries are one INSERT."""
    openid = msg.from_user
    if not openid:
        return None
    if isinstance(msg, SubscribeEvent):
        scene = msg.scene
        return "subscribe", lambda t: [account_id, openid, True, t, None, scene, t, t, ""]
    if isinstance(msg, UnsubscribeEvent):
        return "unsubscribe", lambda t: [account_id, openid, False, None, t, "", t, t, ""]
    return None


def touched_sql(conn: BaseDatabaseWrapper) -> str:
    """One statement for the followers of the stored messages with ids in (%s, %s]: a
    follower seen for the first time is added (only followers can write to an account,
    so a first message means following), and each one's last interaction moves forward,
    never back."""
    q = conn.ops.quote_name
    f, m = q(Follower._meta.db_table), q(InboundMessage._meta.db_table)
    last = q("last_interaction_at")
    later = (
        f"max(coalesce({f}.{last}, excluded.{last}), excluded.{last})"
        if conn.vendor == "sqlite"
        else f"greatest({f}.{last}, excluded.{last})"
    )
    events = ", ".join(f"'{e}'" for e in sorted(INTERACTION_EVENTS))
    return (
        f"INSERT INTO {f} ({', '.join(q(c) for c in FOLLOWER_COLUMNS)}) "
        f"SELECT {q('account_id')}, {q('openid')}, TRUE, NULL, NULL, '', "
        f"min({q('received_at')}), max({q('received_at')}), '' FROM {m} "
        f"WHERE {q('id')} > %s AND {q('id')} <= %s AND {q('openid')} <> '' "
        f"AND ({q('msg_type')} <> 'event' OR lower({q('event')}) IN ({events})) "
        f"GROUP BY {q('account_id')}, {q('openid')} ORDER BY {q('account_id')}, {q('openid')} "
        f"ON CONFLICT ({q('account_id')}, {q('openid')}) DO UPDATE SET {last} = {later}"
    )


def touch_followers(after: int, upto: int) -> int:
    """Add and touch the followers of the stored messages with ids in (after, upto], in
    the caller's transaction (the desk's pass). Returns the rows written."""
    st = _statements(connection)
    with connection.cursor() as cur:
        cur.execute(st.touched, [after, upto])
        return max(cur.rowcount, 0)


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
