"""`govwx serve`: the web server (gunicorn) and a task worker, for an installation that is
already set up (`govwx migrate`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def default_workers() -> int:
    return max(2, min(8, (os.cpu_count() or 1) * 2))


def serve(host: str, port: int, *, workers: int, threads: int, task_worker: bool,
          on_ready: Any = None) -> None:
    from gunicorn.app.base import BaseApplication

    from govwx.wsgi import application

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            self.cfg.set("keepalive", 5)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)
            if on_ready is not None:
                self.cfg.set("when_ready", lambda server: on_ready())

        def load(self) -> Any:
            return application

    worker = None
    if task_worker:
        # Jobs (customer-service sends, later deadlines and schedules) are rows in the
        # database; this worker claims and runs them. Any number may run, on any host.
        worker = subprocess.Popen([sys.executable, "-m", "govwx", "db_worker", "--interval", "0.5"])
    try:
        App().run()
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
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
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="web server processes")
        parser.add_argument("--threads", type=int, default=4,
                            help="threads per process (1 = sync workers)")
        parser.add_argument("--no-task-worker", action="store_true",
                            help="do not start a task worker beside the web server")

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(opts["host"], opts["port"], workers=opts["workers"], threads=opts["threads"],
              task_worker=not opts["no_task_worker"])
