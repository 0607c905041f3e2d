"""`govwx desk run [--once]`: the desk's worker loop. It takes in the messages the
pipeline gave the desk (a batch a transaction) and announces the new cases, sends again
the replies held for a closed 48-hour window, sends the alerts through their channels,
looks for surges of concern (舆情异动), fetches the files of pictures, voice and video
from WeChat (a thread of its own), and marks warnings and breaches of time limits and
a missing holiday calendar; run it beside the web server (`govwx serve` starts one). Any
number may run: the work is idempotent and kept in the database."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from govwx.desk import topics
from govwx.desk.calendar_watch import check_calendar
from govwx.desk.services import (
    BATCH_SIZE,
    announce_new_cases,
    notify_held_replies,
    sweep,
    take_in_pending,
)
from govwx.lib import chores, ready
from govwx.lib.dblock import checkpoint
from govwx.notify.services import deliver_due
from govwx.team.services import check_gaps, escalate
from govwx.wechat import media
from govwx.wechat.services import release_held

log = logging.getLogger(__name__)


def _fetch_media(interval: float) -> None:
    """The files of pictures, voice and video taken in: fetched from WeChat when due
    (each failure waits longer: an unreachable API is not asked in a loop)."""
    while True:
        tried = 0
        try:
            tried = media.fetch_due()
        except Exception:  # the thread must outlive a bad row or a lost database
            log.exception("media fetch pass failed")
        finally:
            close_old_connections()
        if tried < media.FETCH_BATCH:
            time.sleep(interval)


SWEEP_EVERY = 30.0  # seconds between searches for warnings and breaches
SURGE_EVERY = 15.0  # seconds between looks for a surge (an alert within a minute)
PRUNE_EVERY = 3600.0  # seconds between prunings of old topic counts


class Command(BaseCommand):
    help = "Run the desk's background work (intake of messages into cases)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="take in pending messages, in a loop")
        run.add_argument("--once", action="store_true", help="one pass, then exit")
        run.add_argument("--interval", type=float, default=1.0, help="seconds between passes")
        run.add_argument(
            "--sweep-every", type=float, default=SWEEP_EVERY, help="seconds between sweeps"
        )
        run.add_argument(
            "--surge-every", type=float, default=SURGE_EVERY, help="seconds between surge checks"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        topics.warm_up()
        if not opts["once"]:
            # media/get may be slow or unreachable: its own thread, so intake never waits
            threading.Thread(
                target=_fetch_media, args=(opts["interval"],), name="media-fetch", daemon=True
            ).start()
        ready.notify()  # `govwx serve` opens its port now
        last_chores = last_sweep = last_surge = last_prune = 0.0
        while True:
            done, failed = take_in_pending()
            checkpoint(connection)
            # the rest at most once per interval: a burst is taken in by full batches
            if time.monotonic() - last_chores >= opts["interval"] or opts["once"]:
                announce_new_cases()  # the digest of a window that has passed
                done += release_held() + notify_held_replies()
                escalate()
                deliver_due()  # alerts through the notification channels, retries when due
                chores.run_due()  # what other apps registered (publishing's due jobs)
                last_chores = time.monotonic()
            if time.monotonic() - last_surge >= opts["surge_every"]:
                topics.detect_surges()
                last_surge = time.monotonic()
            if time.monotonic() - last_sweep >= opts["sweep_every"]:
                sweep()
                check_gaps()
                check_calendar()
                last_sweep = time.monotonic()
            if time.monotonic() - last_prune >= PRUNE_EVERY:
                topics.prune()
                last_prune = time.monotonic()
            if opts["once"]:
                media.fetch_due()
                self.stdout.write(
                    f"受理 {done} 条，失败 {failed} 条 / taken in {done}, failed {failed}"
                )
                return
            close_old_connections()
            if done < BATCH_SIZE:  # a full batch: more are waiting, go on at once
                time.sleep(opts["interval"])
