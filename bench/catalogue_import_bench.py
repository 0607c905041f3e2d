"""The catalogue's spreadsheet import at its limit (5,000 rows), in-process.

    .venv/bin/python bench/catalogue_import_bench.py [--services 5000] [--offices 50]

Sets up a scratch SQLite database (or GOVWX_DATABASE_URL), a city under a province with
--offices offices, and a CSV of --services services (two keywords each, one or two
offices each, a guide's materials and steps), then times `import_catalogue` three times
each: into an empty catalogue (every row new), the same file again (nothing changes),
and the file with every tenth row changed (a new name and another office). The catalogue
is emptied before each first import. Figures are the median of 3 runs, in milliseconds,
with the number of SQL statements of the last run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

RUNS = 3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=5000)
    ap.add_argument("--offices", type=int, default=50)
    a = ap.parse_args()
    os.environ.setdefault("GOVWX_DATA_DIR", tempfile.mkdtemp(prefix="govwx-ibench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    subprocess.run([sys.executable, "-m", "govwx", "migrate", "-v0"], check=True)
    import django

    django.setup()
    from django.db import connection

    from govwx.accounts.models import Organisation
    from govwx.services.io import import_catalogue
    from govwx.services.models import Office, Service
    from govwx.services.services import OfficeInput, create_office

    province = Organisation.objects.create(name="示例省", level="province")
    org = Organisation.objects.create(name="示例市", level="city", parent=province)
    for i in range(a.offices):
        create_office(
            OfficeInput(
                f"O{i:03d}", f"网点{i:03d}", f"人民路 {i} 号", latitude=30.2, longitude=120.1
            ),
            organisation=org,
        )

    def services_csv(changed_every: int = 0) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(
            ["事项编码", "事项名称", "类别", "简介", "申请材料", "办理流程", "关键词", "办理地点"]
        )
        for i in range(a.services):
            changed = changed_every and i % changed_every == 0
            offices = [f"O{i % a.offices:03d}"]
            if i % 2:
                offices.append(f"O{(i * 7 + 1) % a.offices:03d}")
            if changed:
                offices = [f"O{(i + 3) % a.offices:03d}"]
            w.writerow(
                [
                    f"S{i:05d}",
                    f"事项{i:05d}" + ("（新）" if changed else ""),
                    "其他",
                    f"第 {i} 项服务的简介",
                    "居民身份证\n户口簿",
                    "提交申请\n窗口受理\n办结",
                    f"服务词{i:05d}、别名{i:05d}",
                    "、".join(offices),
                ]
            )
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    first, changed = services_csv(), services_csv(changed_every=10)
    times: dict[str, list[float]] = {"new": [], "unchanged": [], "tenth_changed": []}
    queries: dict[str, int] = {}
    count = [0]

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    for _run in range(RUNS):
        Service.objects.filter(organisation=org).delete()
        for label, content, want in (
            ("new", first, a.services),
            ("unchanged", first, 0),
            ("tenth_changed", changed, (a.services + 9) // 10),
        ):
            count[0] = 0
            with connection.execute_wrapper(counted):
                t = time.perf_counter()
                result = import_catalogue(org, "services.csv", content)
                times[label].append((time.perf_counter() - t) * 1000)
            assert result.changed == want, (label, result.changed, want)
            queries[label] = count[0]
    assert Service.objects.filter(organisation=org).count() == a.services
    assert Office.objects.filter(organisation=org).count() == a.offices
    out: dict[str, Any] = {
        "database": connection.vendor,
        "services": a.services,
        "offices": a.offices,
    }
    for label, runs in times.items():
        out[label] = {
            "median_ms": round(statistics.median(runs)),
            "runs_ms": [round(t) for t in runs],
            "queries": queries[label],
        }
    print(json.dumps(out, ensure_ascii=False, indent=1), flush=True)


if __name__ == "__main__":
    main()
