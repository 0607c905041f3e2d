"""The desk's intake during a benchmark run: beside `govwx serve` (bench/govwx-target.sh).

Every 0.5 s it notes the intake lag: how long the oldest message the desk has not taken
in yet has been stored (0 when none waits). Stopped (SIGTERM: the harness stops the
target when the load ends), it waits for the desk to take in every stored message, at
most --drain seconds, and writes a JSON summary: the lag's median, p90 and max during
the load, how long the last messages took after the end, and the counts of messages,
cases, alerts and channel deliveries (a message in two cases, or a case message without
its stored message, would show as `doubled` / `lost`).

    python bench/intake_watch.py --appid APPID --out intake.json [--drain 12]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--appid", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--drain", type=float, default=12.0)
    a = ap.parse_args()
    import django

    django.setup()
    from django.db.models import Count, Exists, OuterRef
    from django.utils import timezone

    from govwx.accounts.models import Account
    from govwx.desk.models import Case, CaseMessage, IntakeCursor
    from govwx.notify.models import Delivery
    from govwx.team.models import Alert
    from govwx.wechat.models import InboundMessage

    stopping = {"at": 0.0}
    signal.signal(signal.SIGTERM, lambda *_: stopping.update(at=time.monotonic()))

    account = None
    samples: list[float] = []

    def oldest_waiting() -> float | None:
        """Seconds the oldest message not yet in a case has waited (None: none waits).
        Asked from the desk's cursor on (behind it every message is in a case, or a
        failure the summary would count as not in a case): a scan from the first
        message took 15-35 ms of CPU a sample by the end of a run, beside the server."""
        after = IntakeCursor.objects.values_list("last_inbound_id", flat=True).first() or 0
        row = (
            InboundMessage.objects.filter(account=account, handled_by="desk", pk__gt=after)
            .exclude(Exists(CaseMessage.objects.filter(inbound_id=OuterRef("pk"))))
            .order_by("pk")
            .values_list("received_at", flat=True)
            .first()
        )
        return None if row is None else (timezone.now() - row).total_seconds()

    while not stopping["at"]:
        if account is None:
            account = Account.objects.filter(appid=a.appid).first()
        if account is not None:
            lag = oldest_waiting()
            # only while messages arrive (the first one stored starts the run)
            if lag is not None or samples:
                samples.append(lag or 0.0)
        time.sleep(a.interval)
    drained = None
    while account is not None and time.monotonic() - stopping["at"] < a.drain:
        if oldest_waiting() is None:
            drained = time.monotonic() - stopping["at"]
            break
        time.sleep(0.1)
    desk = InboundMessage.objects.filter(account=account, handled_by="desk")
    linked = CaseMessage.objects.filter(inbound__account=account)
    summary = {
        "lag_samples": len(samples),
        "lag_median_s": round(statistics.median(samples), 3) if samples else None,
        "lag_p90_s": round(sorted(samples)[int(len(samples) * 0.9)], 3) if samples else None,
        "lag_max_s": round(max(samples), 3) if samples else None,
        "drained_after_end_s": None if drained is None else round(drained, 2),
        "messages": InboundMessage.objects.filter(account=account).count(),
        "desk_messages": desk.count(),
        "in_cases": linked.count(),
        "not_in_a_case": desk.exclude(
            Exists(CaseMessage.objects.filter(inbound_id=OuterRef("pk")))
        ).count(),
        "doubled": linked.values("inbound").annotate(n=Count("id")).filter(n__gt=1).count(),
        "cases": Case.objects.filter(account=account).count(),
        "alerts": Alert.objects.filter(account=account).count(),
        "deliveries": Delivery.objects.filter(channel__account=account).count(),
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
