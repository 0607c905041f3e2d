"""Link health: every URL the menu, the hub and the guides point to, checked on a schedule.

`links_for(account)` lists what an account's followers can open: the current published
menu (default and conditional), the hub and its category pages, each guide page and each
guide's online entry. One `LinkCheck` row per URL (`url_hash`), shared by every account
that uses it, keeps the last result, `failing_since` (the first failure, kept until the
link works again) and `next_check_at` (6 hours after a good check, 30 minutes after a
bad one). `check_links` claims due rows with a conditional UPDATE of `next_check_at`, so
any number of processes may run it at once and each row is checked by one of them; it
is run by `govwx links run` (started by `govwx serve`) and, for one account at once, by
the 立即检查 button (`request_link_check`, then the `check_account_links` task).

Checks use the standard library only: HEAD, then GET when HEAD is refused (405 / 501),
at most 5 redirects followed by hand (a loop is named as one), no proxy, a timeout of
`GOVWX_LINK_TIMEOUT` seconds per request. Each host is resolved once and the connection
goes to the addresses found (`resolve`); unless `GOVWX_LINK_CHECK_PRIVATE` is on (service
sites on an internal network, the demo), a host with any internal address (`is_internal`:
loopback, private, link-local, metadata, …) is reported broken without being connected
to — citizens cannot open it from the internet, and the checker does not probe the
internal network for whoever edits the catalogue.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.accounts import permissions
from govwx.accounts.models import Account
from govwx.accounts.services import record

from . import catalogue
from .menu import current_version
from .menutree import leaves
from .models import Category, LinkCheck, MenuVersion

EVERY = timedelta(hours=6)  # after a good check
RETRY = timedelta(minutes=30)  # after a bad one
MAX_REDIRECTS = 5
BATCH = 200  # rows claimed per pass
WORKERS = 8  # requests in flight at once
USER_AGENT = "govwx-linkcheck/1 (+service hub link health)"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


# ------------------------------------------------------------------ what an account links to


@dataclass(frozen=True)
class LinkUse:
    """A URL and where the account uses it."""

    url: str
    where: str  # "菜单：办事 › 公积金提取", "办事指南：HF-001 住房公积金提取", …
    kind: str  # menu / hub / category / guide / online
    code: str = ""  # the service's code, for guides and online entries


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def _menu_urls(menu: Any, label: str) -> list[LinkUse]:
    return [
        LinkUse(leaf["url"], _("%(menu)s：%(item)s") % {"menu": label, "item": item}, "menu")
        for item, leaf in leaves(menu)
        if isinstance(leaf.get("url"), str) and leaf["url"]
    ]


def _tag_label(version: MenuVersion, i: int, cond: dict[str, Any]) -> str:
    tag = str((cond.get("matchrule") or {}).get("tag_id", ""))
    source = version.conditional[i] if i < len(version.conditional or []) else {}
    name = source.get("tag_name") if isinstance(source, dict) else ""
    return _("个性化菜单（%(tag)s）") % {"tag": name or _("标签 %(id)s") % {"id": tag}}


def links_for(account: Account) -> list[LinkUse]:
    """Every URL the account's followers can open from the menu, the hub and the guides,
    with where each is used (a URL used in two places is listed twice)."""
    uses: list[LinkUse] = []
    version = current_version(account)
    if version is not None:
        compiled = version.compiled or {}
        uses += _menu_urls(compiled.get("menu"), _("菜单"))
        for i, cond in enumerate(compiled.get("conditional") or []):
            if isinstance(cond, dict):
                uses += _menu_urls(cond, _tag_label(version, i, cond))
    uses.append(LinkUse(catalogue.hub_url(account), _("服务大厅首页"), "hub"))
    services = catalogue.services_for(account)
    labels = dict(Category.choices)
    for category in dict.fromkeys(s.category for s in services):
        where = _("服务大厅类别：%(category)s") % {"category": labels.get(category, category)}
        uses.append(LinkUse(catalogue.category_url(account, category), where, "category"))
    for s in services:
        where = _("办事指南：%(code)s %(name)s") % {"code": s.code, "name": s.name}
        uses.append(LinkUse(catalogue.guide_url(account, s.code), where, "guide", s.code))
        if s.online_url.strip():
            where = _("在线办理：%(code)s %(name)s") % {"code": s.code, "name": s.name}
            uses.append(LinkUse(s.online_url.strip(), where, "online", s.code))
    return uses


# ------------------------------------------------------------------ the state shown


@dataclass(frozen=True)
class LinkState:
    use: LinkUse
    check: LinkCheck | None  # None: not known yet (the next pass adds it)

    @property
    def broken(self) -> bool:
        return self.check is not None and self.check.ok is False


def states_for(account: Account) -> list[LinkState]:
    """Each link of the account with its last check: broken ones first."""
    uses = links_for(account)
    checks = {
        c.url_hash: c
        for c in LinkCheck.objects.filter(url_hash__in={url_hash(u.url) for u in uses})
    }
    states = [LinkState(u, checks.get(url_hash(u.url))) for u in uses]
    return sorted(states, key=lambda s: not s.broken)


def broken_for(account: Account) -> list[LinkState]:
    """The account's broken links, oldest failure first. One query when nothing is broken
    anywhere (the usual case); the account's links are listed only when something is."""
    broken = {c.url_hash: c for c in LinkCheck.objects.filter(ok=False)}
    if not broken:
        return []
    found = [
        LinkState(u, broken[url_hash(u.url)])
        for u in links_for(account)
        if url_hash(u.url) in broken
    ]

    def since(s: LinkState) -> datetime:
        assert s.check is not None
        return s.check.failing_since or s.check.checked_at or timezone.now()

    return sorted(found, key=since)


# ------------------------------------------------------------------ probing one URL


@dataclass(frozen=True)
class Probe:
    ok: bool
    status: int | None = None
    error: str = ""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_internal(address: str) -> bool:
    """Whether an address is one citizens cannot reach from the internet: loopback,
    private, link-local, multicast, reserved, unspecified, shared (100.64/10) and other
    non-global ranges, and IPv6 forms that carry such an IPv4 address (IPv4-mapped,
    6to4, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0: the scope aside
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None or ip.is_site_local:
            return True
        embedded = ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and is_internal(str(embedded)):
            return True
    return (
        not ip.is_global
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str) -> list[str]:
    """The addresses of `host`, in the resolver's order (a literal address is itself).
    The one lookup of a request: the connection goes to these addresses."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refused_address(addresses: Iterable[str]) -> str | None:
    """The first internal address of a host's addresses, unless
    `GOVWX_LINK_CHECK_PRIVATE` lets every address be checked."""
    if settings.GOVWX_LINK_CHECK_PRIVATE:
        return None
    return next((a for a in addresses if is_internal(a)), None)


def _internal_error(address: str) -> str:
    return (
        f"指向内网或本机地址（{address}），群众无法访问，未检查 / "
        f"points to an internal address ({address}) that citizens cannot reach: not checked"
    )


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to addresses already resolved and checked (no second lookup that
    could answer differently); the Host header is the URL's host."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def _open(self) -> socket.socket:
        error: OSError | None = None
        for address in self.addresses:  # like socket.create_connection, over these only
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address")

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPS(_PinnedHTTP):
    """The same over TLS; the certificate is verified against the URL's host name."""

    default_port = 443

    def connect(self) -> None:
        sock = self._open()
        try:
            self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _is_web(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _request(url: str, addresses: list[str], method: str, timeout: float) -> tuple[int, str]:
    """(status, Location) of one request to `url` at `addresses`; the body is not read."""
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if tls else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    target = quote(target, safe="/%:@!$&'()*+,;=?~[]")  # non-ASCII and spaces encoded
    conn = (_PinnedHTTPS if tls else _PinnedHTTP)(host, port, addresses, timeout)
    try:
        conn.request(method, target, headers={"User-Agent": USER_AGENT, "Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location") or ""
    finally:
        conn.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "连接超时 / timed out"
    if isinstance(exc, socket.gaierror):
        return f"域名解析失败 / DNS lookup failed: {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "连接被拒绝 / connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS 证书无效 / TLS certificate invalid: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS 握手失败 / TLS error: {exc.reason or exc}"
    if isinstance(exc, ConnectionError):
        return f"连接中断 / connection failed: {exc.__class__.__name__}"
    return f"请求失败 / request failed: {exc}"[:300]


def probe(url: str, timeout: float | None = None) -> Probe:
    """Check one URL: its final HTTP status after redirects, or what went wrong. Each
    host (the first and every redirect's) is resolved once; unless
    `GOVWX_LINK_CHECK_PRIVATE` is on, a host with an internal address is reported broken
    without being connected to."""
    if timeout is None:
        timeout = float(settings.GOVWX_LINK_TIMEOUT)
    if not _is_web(url):
        return Probe(False, None, "不是 http/https 链接，无法检查 / not an http(s) URL")
    seen = [url]
    method = "HEAD"
    current = url
    status: int | None = None
    try:
        for _ in range(MAX_REDIRECTS + 1):
            addresses = resolve(urlsplit(current).hostname or "")
            internal = refused_address(addresses)
            if internal is not None:
                return Probe(False, status, _internal_error(internal))
            status, location = _request(current, addresses, method, timeout)
            if method == "HEAD" and status in (405, 501):
                method = "GET"
                status, location = _request(current, addresses, method, timeout)
            if status not in REDIRECT_CODES:
                return Probe(
                    200 <= status < 300, status, "" if 200 <= status < 300 else f"HTTP {status}"
                )
            if not location:
                return Probe(False, status, f"重定向没有目标 / HTTP {status} without Location")
            current = urljoin(current, location)
            if not _is_web(current):
                return Probe(
                    False, status, f"重定向到非 http/https 地址 / redirect to {current[:200]}"
                )
            if current in seen:
                return Probe(False, status, "重定向循环 / redirect loop")
            seen.append(current)
        return Probe(
            False, status, f"重定向超过 {MAX_REDIRECTS} 次 / more than {MAX_REDIRECTS} redirects"
        )
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Probe(False, None, _describe(exc))


# ------------------------------------------------------------------ the schedule


def sync_links(uses: Iterable[LinkUse], now: datetime) -> None:
    """Make sure each URL has its row (new ones are due at once)."""
    rows = {url_hash(u.url): u.url for u in uses}
    LinkCheck.objects.bulk_create(
        [LinkCheck(url=url, url_hash=h, next_check_at=now) for h, url in rows.items()],
        ignore_conflicts=True,
        batch_size=500,
    )


def claim(due: Iterable[tuple[int, datetime]], now: datetime) -> list[int]:
    """Take the rows read as due; a row another process took since is skipped. The lease
    lets a row cut off mid-check (a killed process) come due again."""
    timeout = float(settings.GOVWX_LINK_TIMEOUT)
    lease = now + timedelta(seconds=timeout * 2 * (MAX_REDIRECTS + 1) + 60)
    return [
        pk
        for pk, was in due
        if LinkCheck.objects.filter(pk=pk, next_check_at=was).update(next_check_at=lease) == 1
    ]


def _record(pk: int, result: Probe, now: datetime) -> None:
    if result.ok:
        LinkCheck.objects.filter(pk=pk).update(
            ok=True,
            http_status=result.status,
            error="",
            failing_since=None,
            checked_at=now,
            last_ok_at=now,
            next_check_at=now + EVERY,
        )
    else:
        LinkCheck.objects.filter(pk=pk).update(
            ok=False,
            http_status=result.status,
            error=result.error[:300],
            failing_since=Coalesce("failing_since", Value(now, output_field=DateTimeField())),
            checked_at=now,
            next_check_at=now + RETRY,
        )


def all_links() -> list[LinkUse]:
    uses: list[LinkUse] = []
    for account in Account.objects.filter(is_active=True).select_related("organisation"):
        uses += links_for(account)
    return uses


def check_links(now: datetime | None = None, *, urls: Collection[str] | None = None) -> int:
    """Check the links that are due, of every active account (or only `urls`); return
    how many were checked. Rows no account uses any more are removed."""
    now = now or timezone.now()
    uses = [LinkUse(u, "", "") for u in urls] if urls is not None else all_links()
    sync_links(uses, now)
    in_use = {url_hash(u.url) for u in uses}
    due = LinkCheck.objects.filter(next_check_at__lte=now)
    if urls is not None:
        due = due.filter(url_hash__in=in_use)
    rows = list(
        due.order_by("next_check_at", "pk").values_list("pk", "url_hash", "next_check_at", "url")[
            :BATCH
        ]
    )
    unused = [pk for pk, h, _, _ in rows if h not in in_use]
    if unused:
        LinkCheck.objects.filter(pk__in=unused, next_check_at__lte=now).delete()
    urls_of = {pk: url for pk, h, _, url in rows if h in in_use}
    mine = claim(((pk, was) for pk, h, was, _ in rows if h in in_use), now)
    targets = {pk: urls_of[pk] for pk in mine}
    if not targets:
        return 0
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(targets))) as pool:
        results = dict(zip(targets, pool.map(probe, targets.values()), strict=True))
    for pk, result in results.items():
        _record(pk, result, now)
    return len(results)


def request_link_check(account: Account, *, actor: Any = None) -> int:
    """立即检查: make the account's links due now and check them in the background (the
    `check_account_links` task, after commit). Returns how many links were queued."""
    if actor is not None:
        permissions.require(actor, account, "services.edit")
    now = timezone.now()
    uses = links_for(account)
    hashes = {url_hash(u.url) for u in uses}
    with transaction.atomic():
        sync_links(uses, now)
        LinkCheck.objects.filter(url_hash__in=hashes, next_check_at__gt=now).update(
            next_check_at=now
        )
        record("links.check_requested", account=account, actor=actor, links=len(hashes))

        def enqueue() -> None:
            from .tasks import check_account_links

            check_account_links.enqueue(account.pk)

        transaction.on_commit(enqueue)
    return len(hashes)
