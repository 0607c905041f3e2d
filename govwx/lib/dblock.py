"""Serialise hot-path writes to an SQLite database across threads and processes.

SQLite allows one writer at a time; a second writer's BEGIN IMMEDIATE fails with BUSY
and SQLite's busy handler then sleeps 1, 2, 5, 10… ms before trying again, which under
load turns a 100 µs write into milliseconds of latency. Queuing writers on a kernel file
lock instead wakes the next one the moment the lock is free. PostgreSQL needs none of
this: there it is a no-op.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db.backends.base.base import BaseDatabaseWrapper

_thread_lock = threading.RLock()
_fds: dict[tuple[str, int], int] = {}
_depth = threading.local()


def _fd(path: str) -> int:
    # One descriptor per process: a descriptor inherited across fork() shares its lock
    # with the parent, so it would not keep the two apart.
    key = (path, os.getpid())
    fd = _fds.get(key)
    if fd is None:
        fd = os.open(path + ".writelock", os.O_CREAT | os.O_RDWR, 0o600)
        _fds[key] = fd
    return fd


@contextlib.contextmanager
def serialized_writes(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Hold the database's write lock for the block. Re-entrant in one thread (a batch
    that takes it may call code that takes it again)."""
    with _write_lock(connection, wait=True):
        yield


def try_serialized_writes(
    connection: BaseDatabaseWrapper,
) -> contextlib.AbstractContextManager[bool]:
    """Like `serialized_writes`, but only if no other process holds the write lock now:
    yields True with the lock held for the block, or False at once (nothing held). Other
    threads of this process are still waited for (their writes are short)."""
    return _write_lock(connection, wait=False)


@contextlib.contextmanager
def _write_lock(connection: BaseDatabaseWrapper, *, wait: bool) -> Iterator[bool]:
    if not _file_of(connection):
        yield True
        return
    name = str(connection.settings_dict["NAME"])
    # flock is held per open file description, so threads of one process that share
    # the descriptor need the thread lock as well.
    with _thread_lock:
        depth = getattr(_depth, "n", 0)
        fd = _fd(name)
        if depth == 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                free = True
            except BlockingIOError:
                free = False
            if not free:
                yield False
                return
        _depth.n = depth + 1
        try:
            yield True
        finally:
            _depth.n = depth
            if depth == 0:
                fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def held_apart(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """The write lock taken through a descriptor of its own, waiting as long as it takes,
    for a thread whose wait must not hold up the other threads of its process (they see
    the lock taken, as if by another process, while it waits and while it holds it)."""
    if not _file_of(connection):
        yield
        return
    fd = os.open(
        str(connection.settings_dict["NAME"]) + ".writelock", os.O_CREAT | os.O_RDWR, 0o600
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor of the description releases the lock


def _file_of(connection: BaseDatabaseWrapper) -> bool:
    """Whether the connection is to an SQLite file (the only database with one writer)."""
    if connection.vendor != "sqlite":
        return False
    name = str(connection.settings_dict["NAME"])
    return not (name == ":memory:" or "mode=memory" in name)


def checkpoint(connection: BaseDatabaseWrapper) -> None:
    """Copy what the write-ahead log holds back into an SQLite database, as far as the
    readers allow, without waiting for anyone (PASSIVE) and outside the write lock: the
    log's pages then no longer wait for a committing callback to copy them. A no-op on
    other databases."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return  # inside a transaction SQLite refuses to checkpoint; the next pass will
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_checkpoint(PASSIVE)")
