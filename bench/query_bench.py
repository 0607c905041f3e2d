"""The service query's cost in the message pipeline, in-process.

    .venv/bin/python bench/query_bench.py [--services 1000] [--offices 500] [--n 20000]

Sets up a scratch SQLite database (or GOVWX_DATABASE_URL), an account in a city with 10
and then 10,000 keyword rules, each with and without a catalogue of 1,000 services
(three keywords each) and 500 offices with coordinates, and times `pipeline.decide` per
message (no HTTP, no storage: the decision only). Messages are a mix: a rule's keyword,
a service's keyword, 查询, and text nothing matches (which goes on to the desk). Also
the location answer (nearest three of 500 offices). Figures are medians of 7 rounds, in
microseconds per message; the index's build time is reported once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROUNDS = 7


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--offices", type=int, default=500)
    ap.add_argument("--n", type=int, default=20000, help="messages per round")
    a = ap.parse_args()
    os.environ.setdefault("GOVWX_DATA_DIR", tempfile.mkdtemp(prefix="govwx-qbench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    import django

    django.setup()
    from govwx.accounts.models import Account, Organisation
    from govwx.accounts.services import AccountInput, create_account
    from govwx.inbox import pipeline, runtime
    from govwx.replies.models import Keyword, Reply, Rule
    from govwx.services import catalogue
    from govwx.services.models import Office, Service
    from govwx.wechat.protocol import LocationMessage, TextMessage

    rng = random.Random(5)
    org = Organisation.objects.create(name="示例市", level="city")
    account = create_account(
        AccountInput(
            name="示例市发布",
            appid="wx00000000000b0e01",
            app_secret="s",
            token="token123",
            aes_key="a" * 43,
            mode="safe",
            organisation=org,
        )
    )

    def set_rules(k: int) -> None:
        Rule.objects.filter(account=account).delete()
        rules = Rule.objects.bulk_create(
            Rule(account=account, name=f"规则{i}", priority=i) for i in range(k)
        )
        Keyword.objects.bulk_create(
            Keyword(rule=r, text=f"规则词{i:05d}", match="contains") for i, r in enumerate(rules)
        )
        Reply.objects.bulk_create(
            Reply(
                account=account,
                trigger="rule",
                rule=r,
                kind="text",
                payload={"content": f"答复{i}"},
            )
            for i, r in enumerate(rules)
        )
        Account.objects.filter(pk=account.pk).update(rules_version=k)

    def set_catalogue(on: bool) -> None:
        Service.objects.all().delete()
        Office.objects.all().delete()
        if on:
            Service.objects.bulk_create(
                Service(
                    organisation=org,
                    code=f"S{i:05d}",
                    name=f"事项{i:05d}",
                    category="other",
                    summary=f"事项{i:05d}的简介",
                    keywords=[f"服务词{i:05d}", f"别名{i:05d}", f"办{i:05d}"],
                )
                for i in range(a.services)
            )
            Office.objects.bulk_create(
                Office(
                    organisation=org,
                    code=f"O{i:04d}",
                    name=f"网点{i:04d}",
                    address="某路1号",
                    latitude=30 + rng.uniform(-0.5, 0.5),
                    longitude=120 + rng.uniform(-0.5, 0.5),
                )
                for i in range(a.offices)
            )
        catalogue.bump(org)

    def text(content: str, i: int) -> TextMessage:
        return TextMessage(
            "gh_bench", f"o{i % 500}", 1700000000 + i, "text", i, {}, content=content
        )

    def messages(k: int, with_services: bool) -> list[Any]:
        out = []
        for i in range(a.n):
            kind = i % 4
            if kind == 0:
                out.append(text(f"请问规则词{rng.randrange(k):05d}怎么办理", i))
            elif kind == 1 and with_services:
                out.append(text(f"我想问问服务词{rng.randrange(a.services):05d}的事", i))
            elif kind == 2:
                out.append(text("查询", i))
            else:
                out.append(text("今天的天气怎么样，路灯坏了好几天了", i))
        return out

    def per_message(rt: Any, msgs: list[Any]) -> float:
        rounds = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            for m in msgs:
                pipeline.decide(rt, m)
            rounds.append((time.perf_counter() - t) / len(msgs) * 1e6)
        return round(statistics.median(rounds), 2)

    out: dict[str, Any] = {"services": a.services, "offices": a.offices, "n": a.n}
    for k in (10, 10_000):
        set_rules(k)
        for with_services in (False, True):
            set_catalogue(with_services)
            runtime.clear()
            t = time.perf_counter()
            rt = runtime.get(account.appid)
            assert rt is not None
            load_ms = round((time.perf_counter() - t) * 1000, 1)
            label = f"rules_{k}_{'services' if with_services else 'no_services'}"
            out[label] = {
                "decide_us": per_message(rt, messages(k, with_services)),
                "load_ms": load_ms,
            }
            if with_services and k == 10:
                locs = [
                    LocationMessage(
                        "gh_bench",
                        "o1",
                        1700000000 + i,
                        "location",
                        i,
                        {},
                        latitude=30 + rng.uniform(-0.5, 0.5),
                        longitude=120 + rng.uniform(-0.5, 0.5),
                    )
                    for i in range(2000)
                ]
                decided = pipeline.decide(rt, locs[0])
                assert decided.handled_by == "service", decided
                out["location_500_offices_us"] = per_message(rt, locs)
    print(json.dumps(out, ensure_ascii=False, indent=1), flush=True)


if __name__ == "__main__":
    main()
