"""The SQLite writer queue keeps processes apart, forked ones included."""

from __future__ import annotations

import fcntl
import os
from typing import Any

import pytest
from django.db import connection

from govwx.lib import dblock


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a no-op off SQLite")
def test_a_forked_child_opens_its_own_descriptor(tmp_path: Any) -> None:
    path = str(tmp_path / "db.sqlite3")
    parent_fd = dblock._fd(path)
    fcntl.flock(parent_fd, fcntl.LOCK_EX)
    try:
        pid = os.fork()
        if pid == 0:  # the child: its own descriptor, so the parent's lock excludes it
            child_fd = dblock._fd(path)
            try:
                fcntl.flock(child_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os._exit(0)
            os._exit(1)
        _, status = os.waitpid(pid, 0)
    finally:
        fcntl.flock(parent_fd, fcntl.LOCK_UN)
    assert os.waitstatus_to_exitcode(status) == 0
