"""The desk at scale, on PostgreSQL: 1,000,000 cases with 10,000,000 messages.

    GOVWX_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/govwx_deskbench \\
        .venv/bin/python bench/desk_bench.py [--cases 1000000] [--messages 10000000] [--reuse]

Creates (or with --reuse keeps) that database, migrates it, fills it server-side with
generate_series, then measures in-process through Django's test client, as a person
uses the console: the inbox's first page and case pages (median and p90 of repeated
requests, ms), and the SLA sweep over 100,000 open cases past their deadline (s).
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

REQUESTS = 40


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--overdue", type=int, default=100_000)
    ap.add_argument("--reuse", action="store_true", help="keep an already filled database")
    a = ap.parse_args()
    url = os.environ.get(
        "GOVWX_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govwx_deskbench"
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

    from govwx.accounts.models import Account, Department, Membership, Organisation
    from govwx.accounts.services import AccountInput, add_member, create_account
    from govwx.desk.models import Case
    from govwx.desk.services import sweep

    if not a.reuse:
        t0 = time.perf_counter()
        org = Organisation.objects.create(name="示例市人民政府", level="city")
        account = create_account(
            AccountInput(
                name="示例市发布",
                appid="wx00000000000de5c0",
                app_secret="s",
                token="token123",
                aes_key="a" * 43,
                mode="safe",
                organisation=org,
            )
        )
        depts = [
            Department.objects.create(organisation=org, name=f"部门{i:02d}") for i in range(20)
        ]
        user = get_user_model().objects.create_user("operator", password="x")
        add_member(account, user, Membership.Role.OPERATOR)
        first_dept = depts[0].pk
        with connection.cursor() as cur:
            # every case closed but the last `overdue`, which are open and past their deadline
            cur.execute(f"""
                INSERT INTO desk_case (account_id, openid, case_type, type_confirmed, subject,
                    status, opened_at, first_response_due, resolve_due, revision, extensions,
                    department_id, first_responded_at, resolved_at)
                SELECT {account.pk}, 'o' || g, (ARRAY['consultation','complaint','suggestion',
                    'report','praise','help'])[1 + g % 6], true,
                    '诉求 ' || g || '：小区路灯不亮，请尽快处理',
                    CASE WHEN g > {a.cases - a.overdue} THEN 'in_progress' ELSE 'closed' END,
                    now() - make_interval(mins => ({a.cases} - g)) ,
                    now() - make_interval(mins => ({a.cases} - g)) + interval '1 day',
                    now() - make_interval(mins => ({a.cases} - g)) + interval '3 days',
                    1, 0, {first_dept} + g % 20,
                    CASE WHEN g % 3 = 0 THEN NULL ELSE now() END,
                    CASE WHEN g > {a.cases - a.overdue} THEN NULL ELSE now() END
                FROM generate_series(1, {a.cases}) g""")
            cur.execute("SELECT min(id) FROM desk_case")
            low = cur.fetchone()[0]
            cur.execute(f"""
                INSERT INTO desk_casemessage (case_id, direction, text, created_at)
                SELECT {low} + (g % {a.cases}), CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END,
                    '消息 ' || g || '：请问办理需要哪些材料？我的电话13812345678',
                    now() - make_interval(secs => ({a.messages} - g))
                FROM generate_series(1, {a.messages}) g""")
            cur.execute(f"""
                INSERT INTO desk_caseevent (case_id, name, data, created_at)
                SELECT {low} + g - 1, 'case.opened', '{{}}'::jsonb, now()
                FROM generate_series(1, {a.cases}) g""")
            cur.execute("VACUUM ANALYZE")
        print(json.dumps({"filled_s": round(time.perf_counter() - t0, 1)}), flush=True)

    account = Account.objects.get()
    client = Client()
    client.force_login(get_user_model().objects.get(username="operator"))

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

    timed("/desk/cases/")  # warm
    inbox = stats([timed("/desk/cases/") for _ in range(REQUESTS)])
    ids = list(
        Case.objects.filter(account=account).order_by("?").values_list("pk", flat=True)[:REQUESTS]
    )
    page = stats([timed(f"/desk/cases/{pk}/") for pk in ids])
    # a sweep that finds everything to mark (also when --reuse keeps an already swept one)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE desk_case SET warned_at = NULL, breached_at = NULL, "
            "response_breached_at = NULL WHERE status = 'in_progress'"
        )
        cur.execute(
            "DELETE FROM desk_caseevent WHERE name IN "
            "('case.warning', 'case.breached', 'case.response_breached')"
        )
        cur.execute("VACUUM ANALYZE desk_case")
    t = time.perf_counter()
    found = sweep()
    sweep_s = time.perf_counter() - t
    print(
        json.dumps(
            {
                "cases": Case.objects.count(),
                "messages": a.messages,
                "inbox_first_page": inbox,
                "case_page": page,
                "sweep_s": round(sweep_s, 2),
                "sweep_found": found,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
