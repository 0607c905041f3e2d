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


def _rows_in_the_file_alone(path: str, tmp: Any) -> int:
    """Rows of organisations in the database file without its write-ahead log."""
    import shutil
    import sqlite3

    copy = str(tmp / "alone.sqlite3")
    shutil.copyfile(path, copy)
    db = sqlite3.connect(f"file:{copy}?immutable=1", uri=True)
    try:
        return db.execute("SELECT count(*) FROM accounts_organisation").fetchone()[0]
    finally:
        db.close()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a no-op off SQLite")
@pytest.mark.django_db(transaction=True)
def test_the_desk_checkpoints_so_that_commits_need_not(tmp_path: Any) -> None:
    from govwx.accounts.models import Organisation

    path = str(connection.settings_dict["NAME"])
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        assert cur.fetchone()[0] == 4000  # a commit copies the log back only past 16 MB
    dblock.checkpoint(connection)  # what the test database holds so far
    before = _rows_in_the_file_alone(path, tmp_path)
    for n in range(50):
        Organisation.objects.create(name=f"市{n}", level="city")
    assert _rows_in_the_file_alone(path, tmp_path) == before  # still only in the log
    dblock.checkpoint(connection)
    assert _rows_in_the_file_alone(path, tmp_path) == before + 50


@pytest.mark.django_db
def test_a_checkpoint_inside_a_transaction_waits_for_the_next_pass() -> None:
    from django.db import transaction

    from govwx.accounts.models import Organisation

    with transaction.atomic():  # SQLite refuses a checkpoint here: nothing is attempted
        Organisation.objects.create(name="市", level="city")
        dblock.checkpoint(connection)
        # the transaction goes on unharmed
        assert Organisation.objects.filter(name="市").count() == 1
