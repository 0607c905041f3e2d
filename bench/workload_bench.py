"""The workload page at scale, on PostgreSQL.

    GOVWX_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/govwx_workloadbench \\
        .venv/bin/python bench/workload_bench.py [--cases 1000000] [--reuse]

Creates (or with --reuse keeps) that database, migrates it, and fills it server-side with
generate_series: one case a minute for --cases minutes up to now (1,000,000 ≈ 23 months),
each with a citizen's message, a first reply by one of 20 operators and its history
event, a new-case alert (acknowledged for two in three), a breach for one case in ten;
and a rota of three 8-hour shifts a day over the whole time plus a leader on duty. Then
it measures, through Django's test client as a supervisor uses the console, the page for
the current month and its Excel export (median and p90 of repeated requests, ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

REQUESTS = 15
PEOPLE = 20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--reuse", action="store_true", help="keep an already filled database")
    a = ap.parse_args()
    url = os.environ.get(
        "GOVWX_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govwx_workloadbench"
    )
    os.environ["GOVWX_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    import psycopg

    base, _, name = url.rpartition("/")
    if not a.reuse:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"')
        subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from govwx.accounts.models import Account, Membership
    from govwx.accounts.services import AccountInput, add_member, create_account
    from govwx.team.models import Rota

    if not a.reuse:
        t0 = time.perf_counter()
        account = create_account(
            AccountInput(
                name="示例市发布",
                appid="wx00000000000de5c0",
                app_secret="s",
                token="token123",
                aes_key="a" * 43,
                mode="safe",
            )
        )
        make = get_user_model().objects.create_user
        ops = [make(f"op{i:02d}") for i in range(PEOPLE)]
        for u in ops:
            add_member(account, u, Membership.Role.OPERATOR)
        boss = make("boss", password="x")
        add_member(account, boss, Membership.Role.SUPERVISOR)
        rota = Rota.objects.create(name="值班")
        rota.accounts.add(account)
        first_op = ops[0].pk
        n = a.cases
        with connection.cursor() as cur:
            # case g opened (n - g) minutes ago, answered 5–125 minutes later by an operator
            cur.execute(f"""
                INSERT INTO desk_case (account_id, openid, case_type, type_confirmed, subject,
                    status, opened_at, first_response_due, resolve_due, revision, extensions,
                    first_responded_at, breached_at)
                SELECT {account.pk}, 'o' || g, 'consultation', true, '诉求 ' || g, 'closed',
                    now() - make_interval(mins => {n} - g),
                    now() - make_interval(mins => {n} - g) + interval '1 day',
                    now() - make_interval(mins => {n} - g) + interval '3 days',
                    1, 0, now() - make_interval(mins => {n} - g - 5 - g % 121),
                    CASE WHEN g % 10 = 0
                         THEN now() - make_interval(mins => {n} - g) + interval '3 days' END
                FROM generate_series(1, {n}) g""")
            cur.execute("SELECT min(id) FROM desk_case")
            low = cur.fetchone()[0]
            cur.execute(f"""
                INSERT INTO desk_casemessage (case_id, direction, text, created_at, author_id)
                SELECT id, 'in', '请问办理需要哪些材料？', opened_at, NULL FROM desk_case
                UNION ALL
                SELECT id, 'out', '您好，需要身份证。', first_responded_at,
                    {first_op} + (id - {low}) % {PEOPLE} FROM desk_case""")
            cur.execute(f"""
                INSERT INTO desk_caseevent (case_id, name, data, created_at, actor_id)
                SELECT id, 'case.opened', '{{}}'::jsonb, opened_at, NULL FROM desk_case
                UNION ALL
                SELECT id, 'case.replied', '{{}}'::jsonb, first_responded_at,
                    {first_op} + (id - {low}) % {PEOPLE} FROM desk_case""")
            cur.execute(f"""
                INSERT INTO team_alert (account_id, kind, text, link, subject, level,
                    created_at, acknowledged_at, acknowledged_by_id)
                SELECT {account.pk}, 'new_case', '新诉求', '', 'case:' || id, 1, opened_at,
                    CASE WHEN id % 3 > 0 THEN opened_at + interval '3 minutes' END,
                    CASE WHEN id % 3 > 0 THEN {first_op} + (id - {low}) % {PEOPLE} END
                FROM desk_case""")
            # three 8-hour shifts a day and a 24-hour leader over the whole time
            days = n // (24 * 60) + 2
            cur.execute(f"""
                INSERT INTO team_shift (rota_id, layer, person_id, starts_at, ends_at, source,
                    note)
                SELECT {rota.pk}, 'operator', {first_op} + ((d + 1) * 3 + s) % {PEOPLE},
                    date_trunc('day', now()) - make_interval(days => d, hours => 8 * s),
                    date_trunc('day', now()) - make_interval(days => d, hours => 8 * s - 8),
                    'generated', ''
                FROM generate_series(-1, {days}) d, generate_series(0, 2) s
                UNION ALL
                SELECT {rota.pk}, 'leader', {boss.pk},
                    date_trunc('day', now()) - make_interval(days => d),
                    date_trunc('day', now()) - make_interval(days => d - 1), 'generated', ''
                FROM generate_series(-1, {days}) d""")
            cur.execute("VACUUM ANALYZE")
        print(json.dumps({"filled_s": round(time.perf_counter() - t0, 1)}), flush=True)

    account = Account.objects.get()
    client = Client()
    client.force_login(get_user_model().objects.get(username="boss"))

    def timed(path: str) -> float:
        t = time.perf_counter()
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        return (time.perf_counter() - t) * 1000

    def stats(samples: list[float]) -> dict[str, Any]:
        samples = sorted(samples)
        return {
            "median_ms": round(statistics.median(samples), 1),
            "p90_ms": round(samples[int(0.9 * len(samples)) - 1], 1),
            "n": len(samples),
        }

    timed("/desk/workload/")  # warm
    page = stats([timed("/desk/workload/") for _ in range(REQUESTS)])
    xlsx = stats([timed("/desk/workload/export.xlsx") for _ in range(REQUESTS)])
    print(
        json.dumps(
            {
                "cases": a.cases,
                "account": account.pk,
                "workload_page_month": page,
                "workload_xlsx_month": xlsx,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
