"""`govwx links run [--once]`: link health's loop. Every pass checks the links that are
due (each URL every 6 hours, a broken one after 30 minutes); `govwx serve` starts one.
Any number may run: a due link is claimed by one of them (`services.links.claim`).

It is a loop of its own, not a step of `govwx desk run`: a pass may wait on slow sites
for a while (a timeout of GOVWX_LINK_TIMEOUT seconds per request), and the desk's loop
takes in citizens' messages every second.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from govwx.lib import ready
from govwx.services.links import check_links


class Command(BaseCommand):
    help = "Check the links of the menus, the hub and the guides when they are due."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="check due links, in a loop")
        run.add_argument("--once", action="store_true", help="one pass, then exit")
        run.add_argument("--interval", type=float, default=60.0, help="seconds between passes")

    def handle(self, *args: Any, **opts: Any) -> None:
        ready.notify()  # `govwx serve` opens its port now
        while True:
            checked = check_links()
            if opts["once"]:
                self.stdout.write(f"检查了 {checked} 个链接 / checked {checked} links")
                return
            close_old_connections()
            if not checked:
                time.sleep(opts["interval"])
