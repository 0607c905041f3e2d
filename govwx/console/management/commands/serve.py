"""`govwx serve`: the web server (Granian) and a task worker, for an installation that is
already set up (`govwx migrate`)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from govwx.lib import ready

log = logging.getLogger(__name__)

# How long the port waits for the background workers' start-up (a slow disk, a cold
# cache); past it the web server starts anyway: citizens are never kept waiting.
READY_TIMEOUT = 60.0
# A background worker that exits is started again after this long (its work is kept in
# the database: nothing is lost meanwhile, and a crash loop does not spin).
RESTART_AFTER = 5.0

# The background workers: jobs (customer-service sends) are rows in the database, and
# the desk's queue is the stored messages; these claim and run them. Any number may
# run, on any host. The system checks ran when the installation was set up (`govwx
# migrate`); the desk's loop and link health tell when they are ready (lib/ready.py).
WORKERS: tuple[tuple[list[str], bool], ...] = (
    (["db_worker", "--skip-checks", "--interval", "0.5"], False),
    (["desk", "--skip-checks", "run"], True),
    (["links", "--skip-checks", "run"], True),  # link health
)


def batch(pid: int) -> None:
    """Run a background worker as a batch process (Linux's SCHED_BATCH): it keeps its
    fair share of the CPU, but waking up it does not take the CPU from a web process in
    the middle of a callback. In a burst the desk's loop wakes every few milliseconds
    with a batch's work; as an ordinary process it preempted the web processes, and
    the requests queued behind them waited. No privilege is needed; elsewhere a no-op."""
    try:
        os.sched_setscheduler(pid, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError) as exc:  # not Linux, or the process is gone
        log.debug("background worker %s keeps the default scheduling: %s", pid, exc)


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


class Background:
    """The background workers of one `govwx serve`: started before the port opens,
    started again when one exits, stopped with the server."""

    def __init__(self, commands: tuple[tuple[list[str], bool], ...] = WORKERS) -> None:
        self.commands = commands
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stopping = threading.Event()

    def _start(self, command: list[str], env: dict[str, str] | None = None,
               fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "govwx", *command], env=env, pass_fds=fds)
        batch(proc.pid)
        return proc

    def start(self, timeout: float = READY_TIMEOUT) -> bool:
        """Start every worker and wait until those that tell are ready (True), or the
        timeout passed (False). Then watch them."""
        read_fd, write_fd = os.pipe()
        env = {**os.environ, ready.FD_ENV: str(write_fd)}
        for command, tells in self.commands:
            self.procs.append(
                self._start(command, env, (write_fd,)) if tells else self._start(command)
            )
        os.close(write_fd)
        was_ready = ready.wait(read_fd, timeout)
        if not was_ready:
            log.warning("background workers not ready after %s s: serving anyway", timeout)
        threading.Thread(target=self._watch, name="background-watch", daemon=True).start()
        return was_ready

    def _watch(self) -> None:
        while not self.stopping.wait(RESTART_AFTER):
            for i, proc in enumerate(self.procs):
                code = proc.poll()
                if code is not None and not self.stopping.is_set():
                    command = self.commands[i][0]
                    log.error("background worker %s exited (%s): starting it again",
                              " ".join(command), code)  # fmt: skip
                    self.procs[i] = self._start(command)

    def stop(self) -> None:
        self.stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def serve(host: str, port: int, *, workers: int, threads: int, task_worker: bool) -> None:
    """Run Granian (a Rust HTTP server; keep-alive, no Python in the HTTP layer) on
    govwx.wsgi, and the background workers beside it."""
    from granian import Granian
    from granian.constants import Interfaces

    background = Background()
    if task_worker:
        background.start()
    try:
        Granian(
            "govwx.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            log_access=False,
            respawn_failed_workers=True,
            websockets=False,
        ).serve()
    finally:
        background.stop()


class Command(BaseCommand):
    help = "Serve govwx (web server and task worker)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=default_workers(), help="web server processes"
        )
        parser.add_argument(
            "--threads", type=int, default=1, help="threads per process for blocking work"
        )
        parser.add_argument(
            "--no-task-worker",
            action="store_true",
            help="do not start a task worker beside the web server",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(
            opts["host"],
            opts["port"],
            workers=opts["workers"],
            threads=opts["threads"],
            task_worker=not opts["no_task_worker"],
        )
