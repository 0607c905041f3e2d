"""The desk's intake throughput, in-process: how fast `take_in_pending` turns stored
messages into cases (what `govwx desk run` does each pass), on a fresh database.

    .venv/bin/python bench/intake_bench.py [--messages 20000] [--followers 12000]
    GOVWX_DATABASE_URL=postgres://postgres@127.0.0.1:5432/govwx_intakebench \\
        .venv/bin/python bench/intake_bench.py

Stores the messages first (as the callback would: handled by the desk, 3 routing rules
and a few departments), then runs passes until none is left and reports messages and
new cases per second, and the median time of a batch. On SQLite a scratch file in a
temporary folder; on PostgreSQL the database named is dropped and created.
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
from datetime import UTC, datetime

TEXTS = [
    "{d}区{r}路小区门口路灯不亮，已经好几天了", "请问{d}区的社保卡怎么补办", "停水了，什么时候来水",
    "{d}区{r}路下水道堵了，麻烦尽快处理", "投诉：{d}区夜间施工噪音扰民", "我想提个建议：公交线路太少",
    "咨询一下{d}区居住证需要什么材料", "举报{d}区{r}路有人占道经营", "紧急求助：老人走失了",
    "表扬{d}区政务大厅的工作人员", "为什么没人回复", "[图片]",
]  # fmt: skip
DISTRICTS = ["东湖", "江北", "青石", "白沙", "城西", "经开", "高新", "南港"]
ROADS = ["黄河", "人民", "建设", "解放", "中山", "和平", "长江"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--followers", type=int, default=12_000)
    ap.add_argument(
        "--media", type=float, default=0.0,
        help="share of pictures and locations, half each (the shared workload: 0.1)",
    )  # fmt: skip
    a = ap.parse_args()
    url = os.environ.get("GOVWX_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{name}"')
    else:
        os.environ["GOVWX_DATA_DIR"] = tempfile.mkdtemp(prefix="govwx-intakebench-")
        os.environ.pop("GOVWX_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    import django

    django.setup()
    from django.db import connection

    from govwx.accounts.models import Department, Organisation
    from govwx.accounts.services import AccountInput, create_account
    from govwx.desk import services
    from govwx.desk.models import Case, RoutingRule
    from govwx.wechat.models import InboundMessage

    org = Organisation.objects.create(name="示例市人民政府", level="city")
    account = create_account(
        AccountInput(
            name="示例市发布", appid="wx1234567890abcdef", app_secret="s" * 32,
            token="benchtoken", aes_key="a" * 43, mode="safe",
            original_id="gh_0123456789ab", organisation=org,
        )
    )  # fmt: skip
    for kw, dept in (("路灯", "市城管局"), ("社保", "市人社局"), ("停水", "市水务局")):
        d = Department.objects.create(organisation=org, name=dept)
        RoutingRule.objects.create(account=account, keyword=kw, department=d)
    rng = random.Random(7)
    openids = [f"o{rng.randrange(16**27):027x}" for _ in range(a.followers)]
    now = datetime.now(UTC)

    def message(i: int) -> InboundMessage:
        x = rng.random()
        kind, content, payload = "text", "", {}
        if x < a.media / 2:  # a picture: its file is fetched later, apart from intake
            kind, payload = "image", {"PicUrl": f"http://p/{i}.jpg", "MediaId": f"M{i:060d}"}
        elif x < a.media:
            kind = "location"
            payload = {"Location_X": "34.26", "Location_Y": "108.94", "Label": "钟楼"}
        else:
            content = rng.choice(TEXTS).format(d=rng.choice(DISTRICTS), r=rng.choice(ROADS))
        return InboundMessage(
            account=account, openid=rng.choice(openids), dedup_key=f"b:{i}", msg_type=kind,
            msg_id=i, sent_at=now, received_at=now, handled_by="desk", content=content,
            payload=payload,
        )  # fmt: skip

    rows = [message(i) for i in range(a.messages)]
    InboundMessage.objects.bulk_create(rows, batch_size=2000)
    services.take_in_pending()  # warm up: the calendar, jieba's dictionary
    Case.objects.all().delete()
    from govwx.desk.models import CaseEvent, IntakeCursor, TopicCount
    from govwx.wechat.models import MessageMedia

    MessageMedia.objects.all().delete()
    CaseEvent.objects.all().delete()
    TopicCount.objects.all().delete()
    IntakeCursor.objects.update(last_inbound_id=0)
    batches: list[float] = []
    taken = 0
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        done, failed = services.take_in_pending()
        if not done and not failed:
            break
        batches.append(time.perf_counter() - t)
        taken += done
    took = time.perf_counter() - start
    cases = Case.objects.count()
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "messages": taken,
                "cases": cases,
                "seconds": round(took, 2),
                "messages_per_s": round(taken / took),
                "cases_per_s": round(cases / took),
                "batch_median_ms": round(statistics.median(batches) * 1000, 1),
                "batch_size": services.BATCH_SIZE,
                "media_share": a.media,
                "media_rows": MessageMedia.objects.count(),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
