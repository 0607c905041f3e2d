"""Link health against real HTTP servers on 127.0.0.1, with the schedule on time_machine."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from govwx.accounts.models import Account, AuditEvent, Organisation
from govwx.services import catalogue
from govwx.services.links import (
    EVERY,
    RETRY,
    check_links,
    claim,
    links_for,
    probe,
    request_link_check,
    url_hash,
)
from govwx.services.models import Category, LinkCheck, MenuVersion, Service

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 2, 9, 0, tzinfo=SH)


class Site(BaseHTTPRequestHandler):
    """/ok 200, /missing 404, /error 500, /nohead (HEAD 405, GET 200), /r/N a redirect
    chain to /ok, /loop/a ⇄ /loop/b, /many/N ever onwards, /slow answers after the
    client gave up, /flaky answers `Site.flaky`; any other path 200 (the hub's pages)."""

    flaky = 404
    release = threading.Event()
    seen: list[tuple[str, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, method: str) -> None:
        Site.seen.append((method, self.path))
        p = self.path
        if p == "/missing":
            return self._send(404)
        if p == "/error":
            return self._send(500)
        if p == "/nohead" and method == "HEAD":
            return self._send(405)
        if p.startswith("/r/"):
            n = int(p[3:])
            return self._send(302 if n % 2 else 301, "/ok" if n == 0 else f"/r/{n - 1}")
        if p == "/loop/a":
            return self._send(302, "/loop/b")
        if p == "/loop/b":
            return self._send(307, "/loop/a")
        if p.startswith("/many/"):
            return self._send(302, f"/many/{int(p[6:]) + 1}")
        if p == "/to-ftp":
            return self._send(302, "ftp://127.0.0.1/file")
        if p == "/slow":
            Site.release.wait(5)
        if p == "/flaky":
            return self._send(Site.flaky)
        return self._send(200)

    def _send(self, status: int, location: str = "") -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")


@pytest.fixture
def site(settings: Any) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.daemon_threads = True
    Site.flaky, Site.seen = 404, []
    Site.release.clear()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.GOVWX_PUBLIC_URL = base  # the hub's own pages answer 200 here
    settings.GOVWX_LINK_TIMEOUT = 2
    yield base
    Site.release.set()
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------ probing


@pytest.mark.parametrize(
    ("path", "ok", "status", "error"),
    [
        ("/ok", True, 200, ""),
        ("/missing", False, 404, "HTTP 404"),
        ("/error", False, 500, "HTTP 500"),
        ("/nohead", True, 200, ""),
        ("/r/4", True, 200, ""),  # five redirects: followed
        ("/r/5", False, 301, "重定向超过 5 次 / more than 5 redirects"),
        ("/loop/a", False, 307, "重定向循环 / redirect loop"),
        ("/many/0", False, 302, "重定向超过 5 次 / more than 5 redirects"),
        ("/to-ftp", False, 302, "重定向到非 http/https 地址 / redirect to ftp://127.0.0.1/file"),
    ],
)
def test_a_probe_reports_the_final_status_or_what_went_wrong(
    site: str, path: str, ok: bool, status: int, error: str
) -> None:
    result = probe(site + path)
    assert (result.ok, result.status, result.error) == (ok, status, error)


def test_head_refused_is_retried_with_get(site: str) -> None:
    probe(site + "/nohead")
    assert Site.seen == [("HEAD", "/nohead"), ("GET", "/nohead")]


def test_a_redirect_chain_is_followed_with_head(site: str) -> None:
    probe(site + "/r/2")
    assert Site.seen == [("HEAD", "/r/2"), ("HEAD", "/r/1"), ("HEAD", "/r/0"), ("HEAD", "/ok")]


def test_a_slow_site_times_out(site: str) -> None:
    result = probe(site + "/slow", timeout=0.2)
    assert (result.ok, result.status, result.error) == (False, None, "连接超时 / timed out")


def test_a_closed_port_is_refused() -> None:
    result = probe(f"http://127.0.0.1:{closed_port()}/")
    assert (result.ok, result.status, result.error) == (
        False,
        None,
        "连接被拒绝 / connection refused",
    )


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "weixin://dl/chat", "javascript:alert(1)", "/relative", "http://"]
)
def test_a_url_that_is_not_http_is_broken_with_the_reason(url: str) -> None:
    result = probe(url)
    assert (result.ok, result.status, result.error) == (
        False,
        None,
        "不是 http/https 链接，无法检查 / not an http(s) URL",
    )


# ------------------------------------------------------------------ what an account links to


@pytest.fixture
def catalogue_rows(city: Organisation, site: str) -> list[Service]:
    return [
        Service.objects.create(
            organisation=city,
            code="HF-001",
            name="住房公积金提取",
            category=Category.HOUSING,
            online_url=site + "/missing",
        ),
        Service.objects.create(
            organisation=city,
            code="SS-001",
            name="社保卡申领",
            category=Category.SOCIAL_SECURITY,
            online_url=site + "/ok",
        ),
    ]


def publish(
    account: Account, compiled: dict[str, Any], conditional: list[Any] | None = None
) -> None:
    n = MenuVersion.objects.filter(account=account).count() + 1
    MenuVersion.objects.create(
        account=account,
        number=n,
        status=MenuVersion.Status.PUBLISHED,
        compiled=compiled,
        conditional=conditional or [],
        published_at=T0 + timedelta(minutes=n),
    )


def test_links_for_names_every_url_and_where_it_is_used(
    city_account: Account, catalogue_rows: list[Service], site: str
) -> None:
    a = city_account
    MenuVersion.objects.create(
        account=a,
        number=1,
        status=MenuVersion.Status.DRAFT,
        compiled={"menu": {"button": [{"type": "view", "name": "草稿", "url": site + "/draft"}]}},
    )
    publish(
        a,
        {
            "menu": {
                "button": [
                    {"type": "view", "name": "服务大厅", "url": catalogue.hub_url(a)},
                    {
                        "name": "办事",
                        "sub_button": [
                            {"type": "view", "name": "公积金", "url": site + "/missing"},
                            {"type": "click", "name": "投诉", "key": "COMPLAIN"},
                            {"type": "miniprogram", "name": "小程序", "url": site + "/mp",
                             "appid": "wx1", "pagepath": "p"},
                        ],
                    },
                ]
            },
            "conditional": [
                {"button": [{"type": "view", "name": "老年人", "url": site + "/elder"}],
                 "matchrule": {"tag_id": "100"}}
            ],
        },
        [{"tag_id": 100, "tag_name": "老年人", "button": []}],
    )  # fmt: skip
    got = [(u.url.removeprefix(site), u.where, u.kind, u.code) for u in links_for(a)]
    hub = catalogue.hub_url(a).removeprefix(site)
    assert got == [
        (hub, "菜单：服务大厅", "menu", ""),
        ("/missing", "菜单：办事 › 公积金", "menu", ""),
        ("/mp", "菜单：办事 › 小程序", "menu", ""),
        ("/elder", "个性化菜单（老年人）：老年人", "menu", ""),
        (hub, "服务大厅首页", "hub", ""),
        (
            catalogue.category_url(a, "housing").removeprefix(site),
            "服务大厅类别：住房公积金",
            "category",
            "",
        ),
        (
            catalogue.category_url(a, "social_security").removeprefix(site),
            "服务大厅类别：社会保障",
            "category",
            "",
        ),
        (
            catalogue.guide_url(a, "HF-001").removeprefix(site),
            "办事指南：HF-001 住房公积金提取",
            "guide",
            "HF-001",
        ),
        ("/missing", "在线办理：HF-001 住房公积金提取", "online", "HF-001"),
        (
            catalogue.guide_url(a, "SS-001").removeprefix(site),
            "办事指南：SS-001 社保卡申领",
            "guide",
            "SS-001",
        ),
        ("/ok", "在线办理：SS-001 社保卡申领", "online", "SS-001"),
    ]


# ------------------------------------------------------------------ the schedule


def row(url: str) -> LinkCheck:
    return LinkCheck.objects.get(url_hash=url_hash(url))


def test_a_failure_is_kept_since_its_first_check_until_it_is_fixed(
    city_account: Account, catalogue_rows: list[Service], site: str
) -> None:
    flaky = site + "/flaky"
    Service.objects.filter(code="HF-001").update(online_url=flaky)
    with time_machine.travel(T0, tick=False):
        assert check_links() == 7  # hub, 2 categories, 2 guides, 2 online entries
        r = row(flaky)
        assert (r.ok, r.http_status, r.error) == (False, 404, "HTTP 404")
        assert (r.failing_since, r.checked_at, r.last_ok_at) == (T0, T0, None)
        assert r.next_check_at == T0 + RETRY
        assert row(site + "/ok").next_check_at == T0 + EVERY
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        assert check_links() == 0  # nothing due
    Site.flaky = 500
    with time_machine.travel(T0 + RETRY, tick=False):
        assert check_links() == 1  # only the broken one is due again
        r = row(flaky)
        assert (r.http_status, r.error, r.failing_since) == (500, "HTTP 500", T0)
        assert r.checked_at == T0 + RETRY
    Site.flaky = 200
    fixed = T0 + 2 * RETRY
    with time_machine.travel(fixed, tick=False):
        assert check_links() == 1
        r = row(flaky)
        assert (r.ok, r.http_status, r.error, r.failing_since) == (True, 200, "", None)
        assert (r.last_ok_at, r.next_check_at) == (fixed, fixed + EVERY)


def test_one_row_per_url_shared_by_every_account(
    city_account: Account, county_account: Account, catalogue_rows: list[Service], site: str
) -> None:
    with time_machine.travel(T0, tick=False):
        check_links()
    # the online entries are the same URLs for both; hub, categories and guides are not
    assert LinkCheck.objects.filter(url=site + "/ok").count() == 1
    assert LinkCheck.objects.count() == 2 * 5 + 2
    assert [m for m, p in Site.seen if p == "/ok"] == ["HEAD"]


def test_a_due_row_is_claimed_once(city_account: Account, site: str) -> None:
    with time_machine.travel(T0, tick=False):
        check_links(urls=[site + "/ok"])
    r = row(site + "/ok")
    due_at = r.next_check_at
    later = due_at + timedelta(seconds=1)
    read_by_both = [(r.pk, due_at)]
    assert claim(read_by_both, later) == [r.pk]  # the first process takes it
    assert claim(read_by_both, later) == []  # the second, which read the same, does not
    assert row(site + "/ok").next_check_at > later  # leased, not due for anyone
    Site.seen.clear()
    assert check_links(later, urls=[site + "/ok"]) == 0
    assert Site.seen == []


def test_rows_no_account_uses_are_removed_when_due(city_account: Account, site: str) -> None:
    with time_machine.travel(T0, tick=False):
        check_links(urls=[site + "/gone-from-menus"])
        assert LinkCheck.objects.filter(url=site + "/gone-from-menus").exists()
    with time_machine.travel(T0 + EVERY, tick=False):
        check_links()
    assert not LinkCheck.objects.filter(url=site + "/gone-from-menus").exists()
    assert LinkCheck.objects.filter(url=catalogue.hub_url(city_account)).exists()


def test_the_command_runs_one_pass(city_account: Account, site: str, capsys: Any) -> None:
    call_command("links", "run", "--once")
    assert capsys.readouterr().out == "检查了 1 个链接 / checked 1 links\n"
    assert row(catalogue.hub_url(city_account)).ok is True


# ------------------------------------------------------------------ the console


def test_check_now_checks_the_accounts_links_at_once(
    client: Client,
    operator: Any,
    city_account: Account,
    catalogue_rows: list[Service],
    django_capture_on_commit_callbacks: Any,
    site: str,
) -> None:
    client.force_login(operator)
    with time_machine.travel(T0, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post("/services/links/check/")
        assert r.status_code == 302 and r["Location"] == "/services/links/"
    assert AuditEvent.objects.filter(name="links.check_requested").count() == 1
    r = client.get("/services/links/")
    html = r.content.decode()
    states = {(s.use.where, s.check.ok if s.check else None) for s in r.context["states"]}
    assert ("在线办理：HF-001 住房公积金提取", False) in states
    assert ("在线办理：SS-001 社保卡申领", True) in states
    assert r.context["broken"] == 1
    assert "自 2025-06-02 09:00 起失效" in html
    assert "HTTP 404" in html


def test_check_now_is_refused_without_the_permission_and_changes_nothing(
    client: Client, city_account: Account, django_user_model: Any, catalogue_rows: list[Service]
) -> None:
    from govwx.accounts.models import Membership
    from govwx.accounts.services import add_member

    reviewer = django_user_model.objects.create_user("reviewer1")
    add_member(city_account, reviewer, Membership.Role.SUPERVISOR)
    client.force_login(reviewer)
    assert client.post("/services/links/check/").status_code == 403
    assert LinkCheck.objects.count() == 0
    with pytest.raises(Exception, match="Permission|403|denied|权限"):
        request_link_check(city_account, actor=reviewer)


def test_the_home_lists_the_accounts_broken_links(
    client: Client,
    operator: Any,
    city_account: Account,
    catalogue_rows: list[Service],
    other_account: Account,
    site: str,
) -> None:
    with time_machine.travel(T0, tick=False):
        check_links()
    LinkCheck.objects.create(
        url="http://127.0.0.1:9/elsewhere", url_hash=url_hash("http://127.0.0.1:9/elsewhere"),
        ok=False, error="连接被拒绝 / connection refused", failing_since=T0, next_check_at=T0,
    )  # fmt: skip
    client.force_login(operator)
    r = client.get("/")
    rows = [(s.use.where, s.check.error) for s in r.context["broken_links"]]
    assert rows == [("在线办理：HF-001 住房公积金提取", "HTTP 404")]
    html = r.content.decode()
    assert 'id="broken-links"' in html and "2025-06-02 09:00" in html


def test_the_home_costs_one_query_when_nothing_is_broken(
    client: Client, operator: Any, account: Account, django_assert_num_queries: Any
) -> None:
    client.force_login(operator)
    # session, user, accounts list, account, membership, latest messages, 2 aggregates,
    # enabled rules, the account's rotas, broken links (none), failed intakes, the bell's
    # alerts, the last 30 days' published articles (the positioning panel)
    with django_assert_num_queries(14):
        r = client.get("/")
    assert r.context["broken_links"] == []
    assert 'id="broken-links"' not in r.content.decode()


def test_links_of_an_outsider_are_not_shown(
    client: Client, outsider: Any, city_account: Account, catalogue_rows: list[Service]
) -> None:
    with time_machine.travel(T0, tick=False):
        check_links()
    client.force_login(outsider)
    r = client.get("/services/links/")
    assert r.status_code == 200
    assert [s.use.kind for s in r.context["states"]] == ["hub"]
    assert r.context["broken"] == 0
