"""`govwx serve`: the web server (Granian) and a task worker, for an installation that is
already set up (`govwx migrate`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


def serve(host: str, port: int, *, workers: int, threads: int, task_worker: bool) -> None:
    """Run Granian (a Rust HTTP server; keep-alive, no Python in the HTTP layer) on
    govwx.wsgi, and a task worker beside it."""
    from granian import Granian
    from granian.constants import Interfaces

    background: list[subprocess.Popen[bytes]] = []
    if task_worker:
        # Jobs (customer-service sends) are rows in the database, and the desk's queue is
        # the stored messages: these claim and run them. Any number may run, on any host.
        govwx = [sys.executable, "-m", "govwx"]
        background.append(subprocess.Popen([*govwx, "db_worker", "--interval", "0.5"]))
        background.append(subprocess.Popen([*govwx, "desk", "run"]))
        background.append(subprocess.Popen([*govwx, "links", "run"]))  # link health
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
        for worker in background:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in background:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


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
