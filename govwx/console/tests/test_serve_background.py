"""`govwx serve`'s background workers for real: started before the port opens, each
telling when it is ready, started again when one dies (kill -9)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from govwx.console.management.commands import serve
from govwx.inbox.tests.test_serve import _server_database
from govwx.lib import ready


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated installation of the workers' own (a scratch SQLite file, or a new
    PostgreSQL database on a PostgreSQL run)."""
    monkeypatch.setenv("GOVWX_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVWX_SECRET_KEY", "k" * 60)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "govwx.settings")
    if os.environ.get("GOVWX_TEST_DATABASE_URL"):
        monkeypatch.setenv("GOVWX_DATABASE_URL", _server_database(tmp_path))
    else:
        monkeypatch.delenv("GOVWX_DATABASE_URL", raising=False)
    subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    return tmp_path


def _wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_the_workers_are_ready_before_the_port_and_a_killed_one_comes_back(
    installation: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(serve, "RESTART_AFTER", 0.5)
    background = serve.Background(serve.WORKERS[1:])  # the desk's loop and link health
    try:
        assert background.start(timeout=120) is True
        desk, links = background.procs
        assert desk.poll() is None and links.poll() is None  # ready, and running
        if hasattr(os, "SCHED_BATCH"):  # batch processes: they do not preempt the web's
            assert os.sched_getscheduler(desk.pid) == os.SCHED_BATCH
            assert os.sched_getscheduler(links.pid) == os.SCHED_BATCH
        os.kill(desk.pid, signal.SIGKILL)
        with caplog.at_level(logging.ERROR):
            assert _wait_for(lambda: background.procs[0].pid != desk.pid, 15)
        assert background.procs[0].poll() is None
        if hasattr(os, "SCHED_BATCH"):
            assert os.sched_getscheduler(background.procs[0].pid) == os.SCHED_BATCH
        assert "desk --skip-checks run exited (-9): starting it again" in caplog.text
    finally:
        background.stop()
    assert all(proc.poll() is not None for proc in background.procs)
    # stopped for good: nothing is started again after the stop
    time.sleep(1)
    assert all(proc.poll() is not None for proc in background.procs)


def test_a_worker_that_cannot_start_does_not_hold_up_the_port(installation: Path) -> None:
    background = serve.Background(((["desk", "--no-such-option", "run"], True),))
    try:
        started = time.monotonic()
        assert background.start(timeout=120) is True  # its exit closed the pipe
        assert time.monotonic() - started < 60
        assert background.procs[0].wait(timeout=10) != 0
    finally:
        background.stop()


def test_waiting_for_readiness_ends_at_the_timeout() -> None:
    read_fd, write_fd = os.pipe()
    # a process that holds the pipe and never tells
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=(write_fd,)
    )
    os.close(write_fd)
    try:
        started = time.monotonic()
        assert ready.wait(read_fd, 0.5) is False
        assert 0.5 <= time.monotonic() - started < 5
    finally:
        proc.kill()
        proc.wait()


def test_notify_closes_the_inherited_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    read_fd, write_fd = os.pipe()
    monkeypatch.setenv(ready.FD_ENV, str(write_fd))
    ready.notify()
    assert ready.FD_ENV not in os.environ
    assert ready.wait(read_fd, 5) is True  # the only writer closed it
    ready.notify()  # once only: nothing left to close
