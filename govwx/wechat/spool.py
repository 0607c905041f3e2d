"""The callback's spool: a message stored in a file while SQLite's writer is busy.

SQLite has one writer. When the desk's loop writes a batch of cases (a few milliseconds
in a burst), a callback that waited for the write lock would hold up every request
queued behind it in its single-threaded web process. Instead, a callback that finds the
lock taken by another process appends its statements to this process's spool file — a
line of JSON, written before the answer, as durable as SQLite's own commit in WAL mode
with synchronous=NORMAL (it survives the process, not the machine) — and answers at
once. The spool goes into the database, in one transaction and in order, with the next
write this process makes (`take` / `written`, in `store_inbound`), or after
`IDLE_AFTER` seconds from the spool's own thread, which waits for the lock on a
descriptor of its own so that the process's callbacks never wait with it.

Replaying a spool is idempotent: the message's INSERT skips a delivery already stored
(its dedup key), and the follower's statements run only when the message was new. Each
process holds a lock on its own file for its life; `recover` (run by the desk's loop)
replays and removes the files whose process is gone, whatever killed it.

PostgreSQL has no single writer and never spools.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from govwx.accounts.models import Account
from govwx.lib.dblock import held_apart, serialized_writes

log = logging.getLogger(__name__)

# A statement of the hot path by its name in `services.Statements` and its parameters
# (adapted for SQLite); a record is one delivery: its INSERT first, then what follows it.
Statement = tuple[str, list[Any]]
Record = list[Statement]

_ACCOUNT_SQL = f'SELECT 1 FROM "{Account._meta.db_table}" WHERE "id" = ?'

IDLE_AFTER = 0.05  # seconds a spooled message may wait for this process's next write


def directory(connection: BaseDatabaseWrapper) -> Path:
    return Path(str(connection.settings_dict["NAME"]) + ".spool")


class Spool:
    """This process's spool. Used by the thread that serves callbacks and by the spool's
    own thread; `lock` keeps the two apart."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)  # held for the process's life: it is alive
        self.records: list[Record] = []
        self.replies: dict[tuple[int, str], dict[str, Any]] = {}
        self.since = 0.0
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def add(self, record: Record, key: tuple[int, str], reply: dict[str, Any]) -> None:
        """Store one delivery in the file, then remember it (raises if the file cannot
        take it: the callback then fails and WeChat delivers again)."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self.lock:
            written = os.write(self.fd, line)
            if written != len(line):
                raise OSError(f"spool: wrote {written} of {len(line)} bytes")
            if not self.records:
                self.since = time.monotonic()
            self.records.append(record)
            self.replies[key] = reply
        if self.thread is None or not self.thread.is_alive():
            # it looks every IDLE_AFTER: waking it at each message would take the
            # interpreter from the thread that serves the callbacks
            self.thread = threading.Thread(target=self._drain_idle, name="spool", daemon=True)
            self.thread.start()

    def reply_of(self, key: tuple[int, str]) -> dict[str, Any] | None:
        with self.lock:
            return self.replies.get(key)

    def take(self) -> list[Record]:
        """The records waiting, to be written in the caller's transaction; the caller
        holds the write lock and calls `written` after its commit."""
        with self.lock:
            return list(self.records)

    def written(self, n: int) -> None:
        """The first `n` records are in the database (committed)."""
        with self.lock:
            del self.records[:n]
            if not self.records:
                # The file is emptied only when nothing waits: a crash before this
                # replays what was written, which the dedup key makes harmless.
                os.ftruncate(self.fd, 0)
                self.replies.clear()
            else:
                self.since = time.monotonic()

    def _drain_idle(self) -> None:
        while True:
            time.sleep(IDLE_AFTER)
            with self.lock:
                due = bool(self.records) and time.monotonic() - self.since >= IDLE_AFTER
            if not due:
                continue
            conn = connections[DEFAULT_DB_ALIAS]
            try:
                with held_apart(conn):
                    records = self.take()
                    if records:
                        write(conn, records)
                        self.written(len(records))
            except Exception:  # kept in the file; tried again, and `recover` has it
                log.exception("writing the callback spool failed")
                time.sleep(1)


_spools: dict[tuple[str, int], Spool] = {}
_spools_lock = threading.Lock()


def spool_of(connection: BaseDatabaseWrapper, *, create: bool = True) -> Spool | None:
    """This process's spool for the connection's database (made at the first use)."""
    key = (str(connection.settings_dict["NAME"]), os.getpid())
    found = _spools.get(key)
    if found is None and create:
        with _spools_lock:
            found = _spools.get(key)
            if found is None:
                name = f"{os.getpid()}-{secrets.token_hex(4)}.jsonl"
                found = _spools[key] = Spool(directory(connection) / name)
    return found


def write(
    connection: BaseDatabaseWrapper, records: Sequence[Record], *, spooled: int | None = None
) -> list[Any]:
    """Run the records' statements in one transaction (the caller holds the write
    lock): each record's INSERT, and what follows it only if it inserted. Returns each
    record's INSERT row (None: the delivery was stored already, or set aside).

    The first `spooled` records (all, by default) come from a spool: one the database
    refuses (its account was deleted meanwhile) is set aside in `rejected.log` (JSON lines) beside
    the spools, logged, and does not hold up the others; the caller's own record raises."""
    from .services import _statements  # the statements of the hot path, built once

    st = _statements(connection)
    connection.ensure_connection()
    raw = connection.connection  # Django runs it in autocommit mode (isolation_level None)
    spooled = len(records) if spooled is None else spooled
    # one statement of the caller's own is autocommitted: the usual callback's only write
    own = not connection.in_atomic_block and (spooled or len(records) > 1 or len(records[0]) > 1)
    rows: list[Any] = []
    # SQLite checks foreign keys at the commit (Django makes them deferred): whether a
    # spooled delivery's account still exists is asked before its statements
    accounts: dict[int, bool] = {}

    if own:
        raw.execute("BEGIN IMMEDIATE")
    try:
        for i, record in enumerate(records):
            (first, params), rest = record[0], record[1:]
            guarded = i < spooled
            if guarded:
                account = params[0]
                if account not in accounts:
                    accounts[account] = bool(raw.execute(_ACCOUNT_SQL, [account]).fetchone())
                if not accounts[account]:
                    _reject(connection, record, f"account {account} does not exist")
                    rows.append(None)
                    continue
                raw.execute("SAVEPOINT spooled")
            try:
                row = raw.execute(getattr(st, first), params).fetchone()
                if row is not None:
                    for name, more in rest:
                        raw.execute(getattr(st, name), more)
            except sqlite3.IntegrityError as exc:
                if not guarded:
                    raise IntegrityError(str(exc)) from exc
                raw.execute("ROLLBACK TO spooled")
                _reject(connection, record, exc)
                row = None
            if guarded:
                raw.execute("RELEASE spooled")
            rows.append(row)
    except BaseException:
        if own:
            raw.execute("ROLLBACK")
        raise
    if own:
        raw.execute("COMMIT")
    return rows


def _reject(connection: BaseDatabaseWrapper, record: Record, exc: Exception | str) -> None:
    log.error("a spooled delivery was refused by the database and set aside: %s", exc)
    line = json.dumps({"error": str(exc), "record": record}, ensure_ascii=False) + "\n"
    with open(directory(connection) / "rejected.log", "a", encoding="utf-8") as f:
        f.write(line)


def recover(connection: BaseDatabaseWrapper | None = None) -> int:
    """Write the spools left by processes that are gone into the database and remove
    them; returns the deliveries replayed. Safe in several processes at once."""
    conn = connection or connections[DEFAULT_DB_ALIAS]
    if conn.vendor != "sqlite":
        return 0
    folder = directory(conn)
    if not folder.is_dir():
        return 0
    mine = {s.path for s in _spools.values()}
    replayed = 0
    for path in sorted(folder.glob("*.jsonl")):
        if path in mine:
            continue
        with _claimed(path) as claimed:
            if claimed is None:
                continue  # its process is alive (or another process is replaying it)
            records = _read(claimed)
            if records:
                with serialized_writes(conn):
                    write(conn, records)
                replayed += len(records)
                log.warning("replayed %s spooled deliveries of %s", len(records), path.name)
            path.unlink(missing_ok=True)
    return replayed


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[bytes | None]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        if not path.exists():  # replayed and removed by another process meanwhile
            yield None
            return
        with open(fd, "rb", closefd=False) as f:
            yield f.read()
    finally:
        os.close(fd)


def _read(data: bytes) -> list[Record]:
    records: list[Record] = []
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:  # a write cut short (a full disk): that callback was not answered
            log.warning("spool: line %s is incomplete and was skipped", i + 1)
    return records
