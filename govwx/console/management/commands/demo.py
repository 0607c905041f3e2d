"""`govwx demo`: set up a demo installation and (with --serve) run it.

Migrates, seeds 「示例市发布」 with its rules, an admin user and an operator when the
database has no account yet, registers the account in the sandbox (the simulated WeChat
platform), and serves. Once the server is up it publishes the demo custom menu through
the WeChat API client, exactly as against the real platform.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request
from datetime import time as clock
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from govwx.accounts.models import Account, Department, Membership, Organisation
from govwx.accounts.services import AccountInput, add_member, create_account
from govwx.content.models import ProofEntry
from govwx.content.proofread.services import EntryInput, add_entry
from govwx.replies.services import import_ruleset

from .serve import default_workers, serve

DEMO = Path(__file__).resolve().parents[2] / "demo"
APPID = "wx5a3c9e1f0b7d2468"
SECRET = "demo-app-secret-5a3c9e1f0b7d2468"
TOKEN = "govwxDemoToken2026"
AES_KEY = "GovwxDemoEncodingAESKey0123456789abcdefABCD"
ORIGINAL_ID = "gh_5a3c9e1f0b7d"
ADMIN = ("admin", "govwx-demo")
OPERATOR = ("operator", "govwx-demo")


def seed() -> Account:
    """Create the demo organisation, account, rules and users (idempotent)."""
    existing = Account.objects.filter(appid=APPID).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        city = Organisation.objects.create(name="示例市人民政府", level=Organisation.Level.CITY)
        account = create_account(
            AccountInput(
                name="示例市发布",
                appid=APPID,
                app_secret=SECRET,
                token=TOKEN,
                aes_key=AES_KEY,
                mode=Account.Mode.SAFE,
                kind=Account.Kind.SUBSCRIPTION,
                original_id=ORIGINAL_ID,
                organisation=city,
                positioning="示例市人民政府新闻办公室官方账号：发布本地权威信息，提供一站式政务服务。",
            )
        )
        with open(DEMO / "ruleset.json", encoding="utf-8") as f:
            import_ruleset(account, json.load(f))
        User = get_user_model()
        if not User.objects.filter(username=ADMIN[0]).exists():
            User.objects.create_superuser(ADMIN[0], "admin@example.gov.cn", ADMIN[1])
        op = User.objects.filter(username=OPERATOR[0]).first() or User.objects.create_user(
            OPERATOR[0], password=OPERATOR[1], first_name="运营值班员"
        )
        add_member(account, op, Membership.Role.OPERATOR)
        seed_desk(account)
        seed_team(account, op)
        seed_catalogue(account)
        seed_content(account)
        seed_county(city)
    return account


COUNTY_APPID = "wx7c1e0d2b4a6f8e35"


def seed_county(city: Organisation) -> Account:
    """A county of the matrix: its account reuses the city's catalogue, overrides the
    social security card with its own counter, withdraws what the county does not
    offer and adds a service of its own; its follow, default and menu-click replies
    answer the demo menu it publishes too."""
    from govwx.services.io import import_catalogue

    county = Organisation.objects.create(
        name="示例县人民政府", level=Organisation.Level.COUNTY, parent=city
    )
    account = create_account(
        AccountInput(
            name="示例县发布",
            appid=COUNTY_APPID,
            app_secret="demo-app-secret-7c1e0d2b4a6f8e35",
            token="govwxDemoCountyToken",
            aes_key="GovwxDemoCountyAESKey0123456789abcdefABCDEF",
            mode=Account.Mode.SAFE,
            kind=Account.Kind.SUBSCRIPTION,
            original_id="gh_7c1e0d2b4a6f",
            organisation=county,
            positioning="示例县人民政府官方账号：县内政务信息与办事服务。",
        )
    )
    # the county centre's consultation line, which its menu reply gives: a number it
    # publishes, so the proofreading's personal-data check lets it through
    add_entry(
        account,
        EntryInput(ProofEntry.Kind.PUBLIC_NUMBER, "0000-7654321", "县政务服务中心咨询电话"),
        actor=get_user_model().objects.get(username=ADMIN[0]),
    )
    with open(DEMO / "county_ruleset.json", encoding="utf-8") as f:
        import_ruleset(account, json.load(f))
    for name in ("county_offices.csv", "county_services.csv"):
        import_catalogue(county, name, _demo_file(name), account=account)
    return account


def _demo_file(name: str) -> bytes:
    """A demo file, its links on this installation's public address (they stay offline:
    online entries open the sandbox's stand-in of the government service website)."""
    text = (DEMO / name).read_text(encoding="utf-8")
    return text.replace("{public}", settings.GOVWX_PUBLIC_URL).encode("utf-8")


def seed_catalogue(account: Account) -> None:
    """The city's service catalogue from the spreadsheets an office keeps: offices with
    their coordinates, then services with guides, keywords and online entries."""
    from govwx.services.io import import_catalogue

    assert account.organisation is not None
    for name in ("offices.csv", "services.csv"):
        import_catalogue(account.organisation, name, _demo_file(name), account=account)


def publish_demo_menu(account: Account) -> None:
    """Build the demo menu in the menu builder's form and publish it through the WeChat
    API client, once: a restart keeps the published version."""
    from govwx.services.menu import current_version, publish_menu, save_menu_draft

    if current_version(account) is not None:
        return
    tree = json.loads(_demo_file("menu.json"))
    version = save_menu_draft(account, tree, [], actor=None, note="示例菜单")
    publish_menu(version, actor=None)


LEADER = ("daiban", "govwx-demo")
STAFF = [  # username, name, role, title, skills
    (LEADER[0], "带班领导", Membership.Role.SUPERVISOR, "新闻办副主任", ["policy", "writing"]),
    ("zhiban2", "值班员二", Membership.Role.OPERATOR, "网评员", ["community", "data"]),
    ("zhiban3", "值班员三", Membership.Role.OPERATOR, "值班员", ["community", "proofreading"]),
    ("bianji", "编辑", Membership.Role.EDITOR, "编辑", ["writing", "proofreading", "photography"]),
    ("shenhe", "审核", Membership.Role.REVIEWER, "审核", ["proofreading", "policy"]),
]


def seed_team(account: Account, operator: Any) -> None:
    """The office's team: a leader on duty, two more operators, an editor and a
    reviewer, with their skills (video and design are left missing on purpose)."""
    from govwx.team.models import StaffProfile

    User = get_user_model()
    StaffProfile.objects.update_or_create(
        user=operator,
        defaults={"title": "值班员", "skills": ["writing", "community"], "phone": "13800000001"},
    )
    for n, (username, name, role, title, skills) in enumerate(STAFF, start=2):
        user = User.objects.filter(username=username).first() or User.objects.create_user(
            username, password=LEADER[1], first_name=name
        )
        add_member(account, user, role)
        StaffProfile.objects.update_or_create(
            user=user, defaults={"title": title, "skills": skills, "phone": f"1380000000{n}"}
        )


def seed_rota(account: Account) -> None:
    """A 24-hour rota for the demo account over this month and the next (from the
    evening before the first): day and night shifts taken in turn by three operators
    (each works days and nights by turns, two shifts in three days), and a leader on
    duty, following the holiday calendar. Days of a year whose arrangement is not
    confirmed yet (in December, the next January) are planned on the provisional
    calendar and shown as such."""
    from govwx.team import services as team

    User = get_user_model()
    rota = team.create_rota("示例市发布 24 小时值班", [account])
    team.add_pattern(rota, name="白班", start=clock(8), hours=12)
    team.add_pattern(rota, name="夜班", start=clock(20), hours=12)
    team.add_pattern(rota, name="带班", start=clock(8), hours=24, layer="leader")
    this_month = timezone.localdate().replace(day=1)
    first = this_month - timedelta(days=1)
    after_next = (this_month + timedelta(days=62)).replace(day=1)
    people = {
        "operator": [
            User.objects.get(username=name) for name in (OPERATOR[0], "zhiban2", "zhiban3")
        ],
        "leader": list(User.objects.filter(username=LEADER[0])),
    }
    team.generate(rota, first, (after_next - first).days, people)


DEPARTMENTS = {
    "市人力资源和社会保障局": ["社保", "养老", "就业", "失业"],
    "市城市管理局": ["路灯", "井盖", "垃圾", "噪音", "占道"],
    "市公安局": ["户口", "户籍", "身份证", "居住证"],
    "市教育局": ["入学", "学位", "招生"],
    "市卫生健康委员会": ["疫苗", "医院", "医保"],
    "市住房和城乡建设局": ["物业", "公积金", "房产"],
}
LIAISON = ("chengguan", "govwx-demo")


def seed_desk(account: Account) -> None:
    """The departments the desk routes to, keyword routing rules, and a liaison of the
    city management bureau (城管)."""
    from govwx.desk.models import RoutingRule

    org = account.organisation
    assert org is not None
    depts = {name: Department.objects.create(organisation=org, name=name) for name in DEPARTMENTS}
    RoutingRule.objects.bulk_create(
        RoutingRule(account=account, keyword=word, department=depts[name], priority=i)
        for i, (name, words) in enumerate(DEPARTMENTS.items())
        for word in words
    )
    User = get_user_model()
    liaison = User.objects.filter(username=LIAISON[0]).first() or User.objects.create_user(
        LIAISON[0], password=LIAISON[1], first_name="城管局联络员"
    )
    add_member(account, liaison, Membership.Role.LIAISON, department=depts["市城市管理局"])


def _picture(color: str, mark: str) -> bytes:
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (900, 500), color)
    draw = ImageDraw.Draw(img)
    for i in range(0, 900, 60):
        draw.line([(i, 500), (i + 200, 0)], fill="white", width=3)
    draw.rectangle([(40, 40), (260, 120)], outline="white", width=6)
    draw.text((60, 70), mark, fill="white")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_content(account: Account) -> None:
    """The publishing desk: two pictures in the material library (one of a meeting, by
    its caption), a draft by the editor, information the city management bureau's
    liaison submitted (waiting for the bureau to verify it), and this week's plan."""
    from govwx.content import articles, materials, plan, workflow

    User = get_user_model()
    editor = User.objects.get(username="bianji")
    liaison = User.objects.get(username=LIAISON[0])
    water = materials.upload(
        account, _picture("#2f6fb0", "water"), kind="image", title="东湖水厂",
        caption="东湖水厂新建的清水池", tags="水务 民生", actor=editor, filename="water.jpg",
    ).material  # fmt: skip
    materials.upload(
        account, _picture("#8a5a2b", "meeting"), kind="image", title="常务会议",
        caption="市政府召开常务会议", tags="会议", actor=editor, filename="meeting.jpg",
    )  # fmt: skip
    text = (
        "<p>因东湖水厂清水池连通施工，<strong>12 月 10 日 9:00 至 17:00</strong>，"
        "东湖区人民路、建设路沿线小区停水，请提前储水。</p>"
        "<p>停水期间可拨打供水服务热线 12345 咨询。</p>"
    )
    articles.create_article(
        account,
        articles.ArticleInput(
            "东湖区 12 月 10 日部分小区停水", [{"type": "text", "html": text},
            {"type": "image", "material": water.pk}], author="市水务局",
            digest="12 月 10 日 9:00 至 17:00，人民路、建设路沿线小区停水", cover=water,
        ),
        actor=editor,
    )  # fmt: skip
    info = articles.create_article(
        account,
        articles.ArticleInput(
            "中山路夜间施工时间调整",
            [{"type": "text", "html": "<p>中山路改造工程夜间施工时间调整为 22:00 前结束。</p>"}],
            author="市城市管理局",
        ),
        actor=liaison,
    )
    workflow.submit(info, revision=info.revision, actor=liaison)
    today = timezone.localdate()
    for offset, title in ((1, "冬季供暖常见问题答问"), (3, "社保卡补办一次办好")):
        plan.add_topic(
            account,
            plan.TopicInput(title, today + timedelta(days=offset), owner=editor),
            actor=editor,
        )


def on_duty_now(account: Account, now: Any = None) -> list[str]:
    """「值班员二 zhiban2 / govwx-demo（值班员，至 20:00）」 for each demo person on duty
    now on the account's rotas (the operators, then the leader): new-case alerts go to
    the operator on duty, so that is the login to watch the alert bell with."""
    from govwx.team.models import Layer, Shift

    now = now or timezone.now()
    passwords = dict([ADMIN, OPERATOR, LEADER, LIAISON])
    lines = []
    for layer, label in ((Layer.OPERATOR, "值班员"), (Layer.LEADER, "带班领导")):
        shifts = (
            Shift.objects.filter(
                rota__accounts=account,
                layer=layer,
                starts_at__lte=now,
                ends_at__gt=now,
                person__isnull=False,
            )
            .select_related("person")
            .order_by("starts_at", "pk")
        )
        for shift in shifts:
            person = shift.person
            if person is None:  # pragma: no cover - filtered out above
                continue
            until = timezone.localtime(shift.ends_at).strftime("%H:%M")
            password = passwords.get(person.username, LEADER[1])
            name = person.get_full_name() or person.username
            lines.append(f"{name} {person.username} / {password}（{label}，至 {until}）")
    return lines


def register_in_sandbox(account: Account, base: str) -> None:
    """Register a demo account in the sandbox, calling back to govwx at `base`."""
    call_command(
        "sandbox",
        "register",
        "--name",
        account.name,
        "--appid",
        account.appid,
        "--secret",
        account.app_secret,
        "--token",
        account.token,
        "--aes-key",
        account.aes_key,
        "--mode",
        "safe",
        "--callback-url",
        f"{base}/wx/{account.appid}/callback",
        "--original-id",
        account.original_id,
    )


def publish_menu_when_up(base: str, account_id: int) -> None:
    """Wait for the server, then publish the demo menu and set up the duty group."""
    for _ in range(120):
        try:
            urllib.request.urlopen(base + "/sandbox/", timeout=2).close()
            break
        except OSError:
            time.sleep(0.5)
    for account in Account.objects.filter(pk=account_id) | Account.objects.filter(
        appid=COUNTY_APPID
    ):
        try:
            publish_demo_menu(account)
        except Exception as exc:  # the demo still runs; say why the menu is missing
            print(f"自定义菜单发布失败 / could not publish the demo menu ({account.name}): {exc}")
    try:
        add_duty_group(base, Account.objects.get(pk=account_id))
    except Exception as exc:  # the demo still runs; say why the group is missing
        print(f"值班群机器人未建立 / could not set up the duty group robot: {exc}")


def add_duty_group(base: str, account: Account) -> None:
    """A WeCom duty group in the sandbox (/sandbox/wecom/) and its robot as the account's
    notification channel: alerts reach the group as they would a real 值班群."""
    from govwx.notify.models import Channel
    from govwx.notify.services import ChannelInput, create_channel

    if Channel.objects.filter(account=account, kind=Channel.Kind.WECOM).exists():
        return
    body = json.dumps({"name": "示例市发布 值班群", "key": "demo-duty-group"}).encode()
    request = urllib.request.Request(
        base + "/sandbox/api/robots",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        robot = json.load(response)
    admin = get_user_model().objects.get(username=ADMIN[0])
    create_channel(
        account,
        ChannelInput(kind=Channel.Kind.WECOM, name="值班群机器人", target=robot["webhook_url"]),
        actor=admin,
    )


class Command(BaseCommand):
    help = "Set up the demo (示例市发布) and optionally serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--serve", action="store_true")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        host, port = opts["host"], opts["port"]
        base = f"http://{host}:{port}"
        Path(settings.DATA_DIR).mkdir(parents=True, exist_ok=True)
        if "GOVWX_PUBLIC_URL" not in os.environ:  # links in replies and the menu
            os.environ["GOVWX_PUBLIC_URL"] = base
            settings.GOVWX_PUBLIC_URL = base
        if "GOVWX_LINK_CHECK_PRIVATE" not in os.environ:  # the demo's links are on this host
            os.environ["GOVWX_LINK_CHECK_PRIVATE"] = "1"
            settings.GOVWX_LINK_CHECK_PRIVATE = True
        call_command("migrate", interactive=False, verbosity=0)
        fresh = not Account.objects.exists()
        account = seed() if fresh else Account.objects.filter(appid=APPID).first()
        if fresh and account is not None:
            seed_rota(account)
        if settings.GOVWX_SANDBOX and account is not None:
            register_in_sandbox(account, base)
            county = Account.objects.filter(appid=COUNTY_APPID).first()
            if county is not None:
                register_in_sandbox(county, base)
        self.stdout.write("")
        self.stdout.write(f"govwx: {base}/")
        self.stdout.write(
            f"  控制台登录 / console login: {ADMIN[0]} / {ADMIN[1]}"
            f"  (运营人员 / operator: {OPERATOR[0]} / {OPERATOR[1]};"
            f" 带班领导 / leader on duty: {LEADER[0]} / {LEADER[1]};"
            f" 城管局联络员 / liaison: {LIAISON[0]} / {LIAISON[1]};"
            f" 编辑 / editor: bianji / {LEADER[1]}; 审核 / reviewer: shenhe / {LEADER[1]})"
        )
        if account is not None:
            duty = on_duty_now(account)
            self.stdout.write(
                "  现在值班 / on duty now: "
                + ("；".join(duty) if duty else "无人 / nobody")
                + "  (新诉求提醒发给值班员 / new-case alerts go to the operator on duty)"
            )
        if settings.GOVWX_SANDBOX:
            self.stdout.write(f"  手机模拟器 / phone sandbox: {base}/sandbox/")
        if not fresh:
            self.stdout.write("  (数据库已有数据，未重新导入演示数据 / existing data kept)")
        if not opts["serve"]:
            return
        api = f"{base}/sandbox"
        if settings.GOVWX_SANDBOX and "GOVWX_WECHAT_API_BASE" not in os.environ:
            os.environ["GOVWX_WECHAT_API_BASE"] = api
            settings.GOVWX_WECHAT_API_BASE = api
        if settings.GOVWX_SANDBOX and account is not None:
            threading.Thread(
                target=publish_menu_when_up, args=(base, account.pk), daemon=True
            ).start()
        # Threads: the sandbox's phone page calls back into this same server.
        serve(host, port, workers=default_workers(), threads=4, task_worker=True)
