"""Publishing at scale, on PostgreSQL: 100,000 articles with 1,000,000 revisions.

    GOVWX_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/govwx_contentbench \\
        .venv/bin/python bench/content_bench.py [--articles 100000] [--revisions 1000000]
        [--requests 30] [--reuse]

Creates (or with --reuse keeps) that database, migrates it and fills it server-side:
three accounts of one organisation with ten departments, their editors, reviewers,
approvers and department liaisons, twenty pictures each; the articles (bodies of five
paragraphs and a picture, about 2 KB of text and as much HTML) in the workflow's states
in realistic shares (most published, about 15 % drafts — a fifth of them returned with a
reason —, about 1 % in each of 核实, 校对 and 签发), each with its steps; the revisions
(one in a hundred articles edited hundreds of times, the rest up to 14 times), each
revision the whole text as saved. Then it measures in-process through Django's test
client, logged in as people of the first account: the editor's save (the editor page's
real POST, a new revision each time), the editor page, 待我处理 (an editor, a reviewer, a
liaison), an article's workflow page, the article list and the comparison of two
revisions: median and p90 in ms of `--requests` requests each after warm-up, with the
number of SQL statements of each; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

ACCOUNTS = 3
DEPARTMENTS = 10
PICTURES = 20
# a heavily edited article: one in HEAVY_EVERY has HEAVY_MIN..HEAVY_MIN+HEAVY_SPAN revisions
HEAVY_EVERY, HEAVY_MIN, HEAVY_SPAN = 100, 150, 214
LIGHT_MAX = 14  # the others: 1..LIGHT_MAX

# The statuses by share (per mille), drawn from a hash of the article's number.
SHARES = [
    ("published", 800), ("withdrawn", 15), ("failed", 5), ("publishing", 1),
    ("scheduled", 4), ("approving", 5), ("proofreading", 10), ("verifying", 5),
    ("draft", 155),
]  # fmt: skip

SENTENCES = [
    "市政府常务会议研究部署了今冬明春城市运行保障工作，要求各部门压实责任、细化措施。",
    "会议强调，要坚持以人民为中心的发展思想，切实解决群众急难愁盼问题。",
    "东湖水厂将于本周六九时至十七时进行设备检修，东湖片区届时暂停供水。",
    "请沿线居民提前做好储水准备，如遇紧急情况可拨打供水服务热线咨询。",
    "市人社局提醒，城乡居民医疗保险集中参保缴费期截至本月底，请及时办理。",
    "参保人可通过政务服务网、手机银行或到所在社区服务中心缴费。",
    "今年以来，全市新增城镇就业岗位三万余个，高校毕业生就业率保持稳定。",
    "市场监管部门开展节前食品安全专项检查，重点检查农贸市场和大型商超。",
    "检查发现的问题已责令限期整改，对拒不整改的将依法从严处理。",
    "市交通运输局发布春运期间客流预测，预计发送旅客同比增长百分之八。",
    "地铁三号线二期工程进入铺轨阶段，计划明年年底具备试运行条件。",
    "施工期间部分路段实行交通管制，请过往车辆按照指示标志绕行。",
    "市教育局公布义务教育阶段学校招生政策，坚持免试就近入学原则。",
    "适龄儿童家长可登录招生服务平台查询学区划分并进行网上报名。",
    "气象台发布寒潮蓝色预警，预计未来三天全市气温下降八到十度。",
    "请市民注意防寒保暖，农业生产单位做好大棚蔬菜和畜禽的防冻工作。",
    "市卫健委提示，冬季是呼吸道疾病高发季节，老年人和儿童要加强防护。",
    "全市各级医疗机构已开设发热门诊，为群众提供及时便捷的诊疗服务。",
    "市住建局启动老旧小区改造工程，今年计划改造小区一百二十个。",
    "改造内容包括管网更新、屋面防水、加装电梯和完善无障碍设施等。",
    "市民政局开展冬季困难群众走访慰问，发放救助资金和生活物资。",
    "各区县将建立动态监测机制，确保困难群众温暖过冬、应保尽保。",
    "市生态环境局通报，上月全市空气质量优良天数比例为百分之九十二。",
    "下一步将持续推进扬尘治理和机动车尾气排放监管，巩固治理成效。",
    "市政务服务中心推出周末延时服务，部分高频事项实现全程网办。",
    "企业开办时间压缩至一个工作日以内，营商环境持续优化提升。",
    "市文旅局举办迎新春文化惠民活动，全市公共文化场馆免费开放。",
    "活动期间将推出非遗展示、民俗表演和图书漂流等系列文化项目。",
    "市应急管理局部署安全生产大检查，覆盖危化品、建筑施工等重点行业。",
    "对检查中发现的重大隐患实行挂牌督办，确保按期整改到位。",
    "市农业农村局介绍，今年全市粮食总产量再创新高，实现连续丰收。",
    "高标准农田建设任务全面完成，农业机械化水平进一步提高。",
    "市商务局发放新一轮消费券，覆盖餐饮、零售、文旅等多个领域。",
    "消费券通过线上平台分批次发放，每人每次限领一张，先到先得。",
    "市公安局交警支队提醒，雨雪天气行车请减速慢行，保持安全车距。",
    "遇道路结冰路段应避免急刹车和急转弯，确保出行安全。",
    "市自然资源局完成年度国土变更调查，为规划编制提供数据支撑。",
    "全市城市绿化覆盖率达到百分之四十一，人均公园绿地面积稳步增加。",
    "市退役军人事务局开展走访慰问活动，向优抚对象送去节日祝福。",
    "市医保局将更多创新药品纳入报销范围，减轻患者用药负担。",
    "市统计局发布数据，前三季度全市地区生产总值同比增长百分之五点六。",
    "规模以上工业增加值和社会消费品零售总额均保持平稳增长态势。",
    "市司法局开展法治宣传进社区活动，为群众提供免费法律咨询。",
    "律师志愿者现场解答婚姻家庭、劳动争议和房屋租赁等方面的问题。",
    "市科技局组织企业申报高新技术企业认定，符合条件的可享受税收优惠。",
    "申报材料须于下月十五日前通过科技业务管理系统在线提交。",
    "市水务局加强防汛设施冬季维护，对泵站和排水管网进行全面排查。",
    "市体育局举办全民健身冬季长跑活动，欢迎广大市民踊跃报名参加。",
]  # fmt: skip
P = len(SENTENCES)


def _para(k: int, varying: bool) -> str:
    """Paragraph k of article G at revision N, as SQL: three sentences of the pool
    (the fifth paragraph changes with the revision, as an editor's saves do)."""
    n = " + N" if varying else ""
    return (
        f"'<p>' || s[1 + (G * 7 + {k * 13}) % {P}] || s[1 + (G * 11 + {k * 17 + 3}) % {P}]"
        f" || s[1 + (G * 5 + {k * 19}{n}) % {P}] || '</p>'"
    )


def _text(expr: str, g: str, n: str) -> str:
    return expr.replace("G", g).replace("N", n)


def body_sql(g: str, n: str, material: str) -> tuple[str, str]:
    """(the body's blocks as jsonb, its HTML) of article g at revision n, as SQL over
    the array parameter `s` of sentences."""
    paras = [_text(_para(k, k == 4), g, n) for k in range(5)]
    cap = f"'图为' || split_part(s[1 + ({g} * 3) % {P}], '，', 1)"
    img = (
        f'\'<p style="text-align:center"><img src="/content/materials/\' || {material} || '
        f'\'/file" alt="\' || {cap} || \'" style="max-width:100%"></p>\''
    )
    blocks = [f"jsonb_build_object('type', 'text', 'html', {p})" for p in paras]
    blocks.insert(
        2, f"jsonb_build_object('type', 'image', 'material', {material}, 'caption', {cap})"
    )
    html = " || ".join([paras[0], paras[1], img, paras[2], paras[3], paras[4]])
    return f"jsonb_build_array({', '.join(blocks)})", html


def status_sql(g: str) -> str:
    cases, upto = [], 0
    for name, share in SHARES:
        upto += share
        cases.append(f"WHEN ({g} * 37) % 1000 < {upto} THEN '{name}'")
    return "CASE " + " ".join(cases) + " END"


def revisions_sql(g: str) -> str:
    return (
        f"CASE WHEN {g} % {HEAVY_EVERY} = 7 THEN {HEAVY_MIN} + ({g} * 31) % {HEAVY_SPAN} "
        f"ELSE 1 + ({g} * 5) % {LIGHT_MAX} END"
    )


def q(sql: str) -> str:
    """SQL with parameters: its own % (modulo, 100%) doubled."""
    return sql.replace("%", "%%").replace("%%(", "%(")


def fill(n_articles: int, cur: Any, setup: dict[str, Any], log: Callable[[str], None]) -> None:
    accounts, depts, mats = setup["accounts"], setup["departments"], setup["materials"]
    editors, liaisons, actors = setup["editors"], setup["liaisons"], setup["actors"]
    cur.execute("SET synchronous_commit = off")
    acc = f"(ARRAY{accounts}::bigint[])[1 + g % {ACCOUNTS}]"
    dept = (
        f"CASE WHEN g % 5 < 3 OR st = 'verifying' "
        f"THEN (ARRAY{depts}::bigint[])[1 + (g / 3) % {DEPARTMENTS}] END"
    )
    mat = f"(ARRAY{mats}::bigint[])[1 + (g % {ACCOUNTS}) * {PICTURES} + (g / 3) % {PICTURES}]"
    # per account (g % 3): its three editors, then its liaisons by department
    ed = f"(ARRAY{editors}::int[])[1 + (g % {ACCOUNTS}) * 3 + (g / 3) % 3]"
    li = f"(ARRAY{liaisons}::int[])[1 + (g % {ACCOUNTS}) * {DEPARTMENTS} + (g / 3) % {DEPARTMENTS}]"
    creator = f"CASE WHEN g % 5 < 3 AND g % 10 = 1 THEN {li} ELSE {ed} END"
    body, html = body_sql("g", "rc", mat)
    t = time.perf_counter()
    chunk = 20_000
    for lo in range(1, n_articles + 1, chunk):
        hi = min(n_articles, lo + chunk - 1)
        cur.execute(
            q(f"""
            INSERT INTO content_article (title, author, digest, original, source_name,
                source_url, locality, category, major, emergency, body, html, status,
                revision, created_at, updated_at, submitted_at, scheduled_for, published_at,
                token, wechat_draft_id, publish_id, msg_data_id, wechat_article_id,
                wechat_url, publish_error, publish_started_at, reads, likes, account_id,
                created_by_id, source_department_id)
            SELECT left(split_part(s[1 + (g * 7) % {P}], '，', 1), 24) || '（' || g || '）',
                '市融媒体中心', left(s[1 + (g * 11 + 3) % {P}], 54), true, '', '',
                'city', CASE WHEN g % 10 = 3 THEN 'policy' WHEN g % 10 = 4 THEN 'service'
                    ELSE 'routine' END,
                g % 10 = 3, false, {body}, {html}, st, rc,
                t - make_interval(mins => rc * 7 + 60), t,
                CASE WHEN st <> 'draft' THEN t - interval '50 minutes' END,
                CASE WHEN st IN ('scheduled', 'publishing') THEN now() + make_interval(mins => g % 600) END,
                CASE WHEN st IN ('published', 'withdrawn') THEN t - interval '5 minutes' END,
                'b' || g,
                CASE WHEN st IN ('published', 'withdrawn', 'publishing') THEN 'draft-' || g ELSE '' END,
                CASE WHEN st IN ('published', 'withdrawn') THEN (2247483650 + g)::text ELSE '' END,
                '', CASE WHEN st IN ('published', 'withdrawn') THEN 'art-' || g ELSE '' END,
                '', CASE WHEN st = 'failed' THEN '微信发布失败：常规失败（状态 3）/ publishing failed' ELSE '' END,
                CASE WHEN st IN ('published', 'withdrawn', 'publishing', 'failed') THEN t - interval '6 minutes' END,
                CASE WHEN st = 'published' THEN (g * 13) % 5000 ELSE 0 END,
                CASE WHEN st = 'published' THEN (g * 7) % 200 ELSE 0 END,
                {acc}, {creator}, {dept}
            FROM (SELECT g, {status_sql("g")} AS st, {revisions_sql("g")} AS rc,
                    now() - make_interval(mins => ({n_articles} - g) * 20 + 10) AS t
                  FROM generate_series(%(lo)s, %(hi)s) g) x
            CROSS JOIN (SELECT %(s)s::text[] AS s) pool
            """),
            {"s": SENTENCES, "lo": lo, "hi": hi},
        )
    log(f"articles {n_articles} in {time.perf_counter() - t:.0f} s")

    # the steps each state has been through (核实 when the article has a source department)
    t = time.perf_counter()
    reviewer = f"(ARRAY{actors['reviewer']}::int[])[1 + a.account_id % {ACCOUNTS}]"
    approver = (
        f"CASE WHEN a.major THEN (ARRAY{actors['leader']}::int[])[1 + a.account_id % {ACCOUNTS}]"
        f" ELSE (ARRAY{actors['admin']}::int[])[1 + a.account_id % {ACCOUNTS}] END"
    )
    verifier = (
        "(SELECT m.user_id FROM accounts_membership m WHERE m.account_id = a.account_id "
        "AND m.department_id = a.source_department_id AND m.role = 'liaison' LIMIT 1)"
    )
    # draft: a fifth of them returned (by 核实, 校对 or 签发, with a reason); the others
    # never submitted
    returned_at = "CASE WHEN a.source_department_id IS NULL THEN 1 + g % 2 ELSE g % 3 END"
    cur.execute(
        f"""
        INSERT INTO content_step (kind, outcome, role, revision, comment, started_at,
            finished_at, due_at, data, actor_id, article_id, department_id)
        SELECT k.kind,
            CASE WHEN k.ord = here.stop AND here.open THEN 'open'
                 WHEN k.ord = here.stop AND here.returned THEN 'returned' ELSE 'done' END,
            CASE k.kind WHEN 'verify' THEN 'liaison' WHEN 'proofread' THEN 'reviewer'
                WHEN 'approve' THEN CASE WHEN a.major THEN 'supervisor' ELSE 'admin' END
                ELSE '' END,
            a.revision,
            CASE WHEN k.ord = here.stop AND here.returned
                THEN '请核对第三段的数据来源，并补充发布单位全称。' ELSE '' END,
            coalesce(a.submitted_at, a.updated_at - interval '3 hours')
                + make_interval(mins => k.ord * 25),
            CASE WHEN k.ord = here.stop AND here.open THEN NULL
                ELSE coalesce(a.submitted_at, a.updated_at - interval '3 hours')
                    + make_interval(mins => k.ord * 25 + 20) END,
            NULL, '{{}}'::jsonb,
            CASE WHEN k.ord = here.stop AND here.open THEN NULL ELSE
                CASE k.kind WHEN 'submit' THEN a.created_by_id WHEN 'verify' THEN {verifier}
                    WHEN 'proofread' THEN {reviewer} WHEN 'approve' THEN {approver} END END,
            a.id, CASE WHEN k.kind = 'verify' THEN a.source_department_id END
        FROM content_article a
        CROSS JOIN LATERAL (SELECT substring(a.token from 2)::int AS g) gg
        CROSS JOIN LATERAL (
            SELECT CASE a.status
                    WHEN 'verifying' THEN 1 WHEN 'proofreading' THEN 2
                    WHEN 'approving' THEN 3 WHEN 'draft' THEN {returned_at} + 1
                    WHEN 'published' THEN 4 WHEN 'withdrawn' THEN 4 ELSE 3 END AS stop,
                a.status IN ('verifying', 'proofreading', 'approving') AS open,
                a.status = 'draft' AS returned
        ) here
        JOIN (VALUES ('submit', 0), ('verify', 1), ('proofread', 2), ('approve', 3),
                     ('publish', 4)) k(kind, ord) ON k.ord <= here.stop
        WHERE (a.status <> 'draft' OR gg.g % 5 = 0)
          AND (k.kind <> 'verify' OR a.source_department_id IS NOT NULL)
        ORDER BY a.id, k.ord
        """
    )
    cur.execute("SELECT count(*) FROM content_step")
    log(f"steps {cur.fetchone()[0]} in {time.perf_counter() - t:.0f} s")

    t = time.perf_counter()
    rbody, rhtml = body_sql("gg.g", "n", "m.mat")
    cur.execute("SELECT min(id), max(id) FROM content_article")
    low, high = cur.fetchone()
    step = 5_000
    for lo in range(low, high + 1, step):
        cur.execute(
            q(f"""
            INSERT INTO content_revision (article_id, number, data, note, created_at, author_id)
            SELECT a.id, n, jsonb_build_object(
                    'title', a.title, 'author', a.author, 'digest', a.digest, 'cover_id', NULL,
                    'source_department_id', a.source_department_id, 'original', true,
                    'source_name', '', 'source_url', '', 'locality', a.locality,
                    'category', a.category, 'body', {rbody}, 'html', {rhtml}),
                CASE WHEN n = 1 THEN '新建' ELSE '' END,
                a.created_at + make_interval(mins => n * 7), a.created_by_id
            FROM content_article a
            CROSS JOIN (SELECT %(s)s::text[] AS s) pool
            CROSS JOIN LATERAL (SELECT substring(a.token from 2)::int AS g) gg
            CROSS JOIN LATERAL (SELECT (a.body -> 2 ->> 'material')::bigint AS mat) m
            CROSS JOIN LATERAL generate_series(1, a.revision) n
            WHERE a.id BETWEEN %(lo)s AND %(hi)s
            """),
            {"s": SENTENCES, "lo": lo, "hi": min(high, lo + step - 1)},
        )
        done = lo + step - low
        if done % 20_000 == 0:
            log(f"revisions: articles up to {done} in {time.perf_counter() - t:.0f} s")
    cur.execute("SELECT count(*) FROM content_revision")
    log(f"revisions {cur.fetchone()[0]} in {time.perf_counter() - t:.0f} s")
    t = time.perf_counter()
    cur.execute("VACUUM ANALYZE")
    log(f"vacuum analyze in {time.perf_counter() - t:.0f} s")


def people(n_accounts: int) -> dict[str, Any]:
    """The organisation, its accounts, departments, people and pictures (ORM)."""
    from django.contrib.auth import get_user_model

    from govwx.accounts.models import Department, Membership, Organisation
    from govwx.accounts.services import AccountInput, add_member, create_account
    from govwx.content.models import Material

    User = get_user_model()
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    names = ["市水务局", "市人社局", "市卫健委", "市教育局", "市交通运输局", "市住建局",
             "市民政局", "市市场监管局", "市应急管理局", "市文旅局"]  # fmt: skip
    depts = [Department.objects.create(organisation=org, name=n) for n in names[:DEPARTMENTS]]
    accounts, editors, liaisons, mats = [], [], [], []
    actors: dict[str, list[int]] = {"reviewer": [], "admin": [], "leader": []}
    for i in range(n_accounts):
        account = create_account(
            AccountInput(
                name=["示例市发布", "示例市政务服务", "示例市水务"][i % 3]
                + ("" if i < 3 else str(i)),
                appid=f"wx00000000000c{i:04x}",
                app_secret="s",
                token="token123",
                aes_key="a" * 43,
                mode="safe",
                organisation=org,
            )
        )
        accounts.append(account)
        # the first account's people have short names: they are the ones measured
        prefix = "" if i == 0 else f"a{i}_"

        def user(
            name: str,
            role: str,
            department: Any = None,
            account: Any = account,
            prefix: str = prefix,
        ) -> Any:
            u = User.objects.create_user(prefix + name)
            add_member(account, u, role, department=department)
            return u

        editors += [user(n, Membership.Role.EDITOR).pk for n in ("editor", "editor_b", "editor_c")]
        actors["reviewer"].append(user("reviewer", Membership.Role.REVIEWER).pk)
        actors["admin"].append(user("admin", Membership.Role.ADMIN).pk)
        actors["leader"].append(user("leader", Membership.Role.SUPERVISOR).pk)
        for k, d in enumerate(depts):
            liaisons.append(user("liaison" if k == 0 else f"liaison{k}", "liaison", d).pk)
        made = Material.objects.bulk_create(
            Material(
                account=account, kind="image", title=f"现场图片{j}", caption=f"现场图片{j}",
                file=f"bench/{i}-{j}.jpg", content_type="image/jpeg", size=180_000,
                width=1080, height=720, sha256=f"{i:032x}{j:032x}",
                wechat_media_id=f"media-{i}-{j}", article_url=f"https://mmbiz.qpic.cn/{i}/{j}",
            )
            for j in range(PICTURES)
        )  # fmt: skip
        mats += [m.pk for m in made]
    return {
        "accounts": [a.pk for a in accounts],
        "departments": [d.pk for d in depts],
        "materials": mats,
        "editors": editors,
        "liaisons": liaisons,
        "actors": actors,
    }


def stats(samples: list[float], queries: list[int]) -> dict[str, Any]:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p90_ms": round(samples[max(0, int(0.9 * len(samples)) - 1)], 1),
        "n": len(samples),
        "queries": int(statistics.median(queries)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--revisions", type=int, default=1_000_000, help="reported; see HEAVY_*")
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--reuse", action="store_true", help="keep an already filled database")
    ap.add_argument("--only", default="", help="comma-separated measures to run")
    a = ap.parse_args()
    url = os.environ.get("GOVWX_BENCH_DATABASE_URL") or os.environ.get(
        "GOVWX_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govwx_contentbench"
    )
    os.environ["GOVWX_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govwx.settings")
    import psycopg

    def log(text: str) -> None:
        print(json.dumps({"fill": text}, ensure_ascii=False), file=sys.stderr, flush=True)

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
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from govwx.accounts.models import Account
    from govwx.content.models import Article, Revision

    if not a.reuse:
        t0 = time.perf_counter()
        setup = people(ACCOUNTS)
        with connection.cursor() as cur:
            fill(a.articles, cur, setup, log)
        print(json.dumps({"filled_s": round(time.perf_counter() - t0, 1)}), flush=True)

    User = get_user_model()
    account = Account.objects.order_by("pk").first()
    assert account is not None
    rng = random.Random(7)
    S = Article.Status

    def client(username: str) -> Client:
        c = Client()
        c.force_login(User.objects.get(username=username))
        return c

    editor, reviewer, liaison = client("editor"), client("reviewer"), client("liaison")
    results: dict[str, Any] = {
        "articles": Article.objects.count(),
        "revisions": Revision.objects.count(),
        "by_status": dict(Article.objects.values_list("status").annotate(n=Count("id"))),
    }

    def measure(name: str, calls: list[Callable[[], Any]], warm: int = 3) -> None:
        """Time each call (after `warm` untimed); a call's `prepare()`, if it has one,
        runs first, untimed (what the page in the browser already holds)."""
        if a.only and name not in a.only.split(","):
            return
        for call in calls[:warm]:
            getattr(call, "prepare", lambda: None)()
            call()
        samples, queries = [], []
        for call in calls[warm:]:
            getattr(call, "prepare", lambda: None)()
            with CaptureQueriesContext(connection) as q:
                t = time.perf_counter()
                call()
                samples.append((time.perf_counter() - t) * 1000)
            queries.append(len(q.captured_queries))
        results[name] = stats(samples, queries)
        print(json.dumps({name: results[name]}, ensure_ascii=False), file=sys.stderr, flush=True)

    def get(c: Client, path: str) -> Callable[[], Any]:
        def call() -> Any:
            r = c.get(path)
            assert r.status_code == 200, (path, r.status_code)
            return r

        return call

    n = a.requests
    mine = Article.objects.filter(account=account)
    drafts = list(mine.filter(status=S.DRAFT, locked_by__isnull=True).values_list("pk", "revision"))
    heavy = [d for d in drafts if d[1] >= HEAVY_MIN]
    light = [d for d in drafts if d[1] < HEAVY_MIN]
    rng.shuffle(heavy)
    rng.shuffle(light)

    # the editor's save: the page's POST, naming the revision it loaded; 8 articles (half
    # of them edited hundreds of times before) saved again and again
    saving = heavy[:4] + light[:4]
    per = -(-(n + 3) // len(saving))
    saves: list[Callable[[], Any]] = []
    counter = iter(range(10**9))

    class Save:
        """The editor page's POST of an article: the form as the page holds it (read
        first, untimed), its last paragraph changed, naming the revision it loaded."""

        def __init__(self, pk: int) -> None:
            self.pk, self.form = pk, {}

        def prepare(self) -> None:
            art = Article.objects.get(pk=self.pk)
            body = list(art.body)
            i = next(counter)
            body[-1] = {"type": "text", "html": f"<p>{SENTENCES[i % P]}（第 {i} 次修改）</p>"}
            self.form = {
                "title": art.title, "author": art.author, "digest": art.digest, "cover": "",
                "source_department": art.source_department_id or "", "original": "1",
                "locality": art.locality, "category": art.category,
                "body": json.dumps(body, ensure_ascii=False), "revision": art.revision,
                "note": "bench",
            }  # fmt: skip

        def __call__(self) -> Any:
            r = editor.post(f"/content/articles/{self.pk}/edit/", self.form)
            assert r.status_code == 302, (self.pk, r.status_code, r.content[:2000])
            return r

    for pk, _ in saving:
        saves += [Save(pk) for _k in range(per)]
    measure("editor_save", saves[: n + 3])

    pages = [pk for pk, _ in heavy[4:] + light[4:]]
    rng.shuffle(pages)
    measure("editor_page", [get(editor, f"/content/articles/{pk}/edit/") for pk in pages[: n + 3]])
    measure("workflow_inbox_editor", [get(editor, "/content/workflow/")] * (n + 3))
    measure("workflow_inbox_reviewer", [get(reviewer, "/content/workflow/")] * (n + 3))
    measure("workflow_inbox_liaison", [get(liaison, "/content/workflow/")] * (n + 3))
    waiting = list(
        mine.filter(status__in=[S.PROOFREADING, S.APPROVING]).values_list("pk", flat=True)
    )
    rng.shuffle(waiting)
    measure(
        "workflow_article_waiting",
        [get(reviewer, f"/content/articles/{pk}/workflow/") for pk in waiting[: n + 3]],
    )
    anything = list(mine.values_list("pk", flat=True)[:50_000])
    rng.shuffle(anything)
    measure(
        "workflow_article_any",
        [get(editor, f"/content/articles/{pk}/workflow/") for pk in anything[: n + 3]],
    )
    measure("article_list", [get(editor, "/content/articles/")] * (n + 3))
    measure(
        "article_list_pages",
        [get(editor, f"/content/articles/?tab=published&page={p}") for p in range(1, n + 4)],
    )
    measure("article_list_liaison", [get(liaison, "/content/articles/")] * (n + 3))
    many = list(mine.filter(revision__gte=HEAVY_MIN).values_list("pk", flat=True))
    rng.shuffle(many)
    measure(
        "compare_heavy",
        [get(editor, f"/content/articles/{pk}/compare/") for pk in many[: n + 3]],
    )
    measure(
        "compare",
        [get(editor, f"/content/articles/{pk}/compare/?a=1") for pk in anything[: n + 3]],
    )
    measure(
        "article_page",
        [get(editor, f"/content/articles/{pk}/") for pk in (many + anything)[: n + 3]],
    )
    print(json.dumps(results, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
