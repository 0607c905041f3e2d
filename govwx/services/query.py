"""What a follower asks of the service hub in the chat: a service's keyword answers with
its guide's card, 查询 / 服务 with the hub's card, a location with the nearest offices.

Each process keeps one `ServiceIndex` per account beside its compiled rules, rebuilt
when `Account.rules_version` changes (`catalogue.bump`). Keywords go through the same
compiled matcher as auto-reply (`replies.matcher.compile_rules`), so a message costs
the same with 10 services or 10,000; the offices' coordinates are kept in radians, so
the nearest three of a few hundred are found in Python within a fraction of a
millisecond.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

from govwx.accounts.models import Account
from govwx.replies.matcher import CONTAINS, EXACT, Matcher, RuleSpec, compile_rules
from govwx.wechat.protocol import Reply

from .catalogue import guide_url, hub_url, office_url, offices_for, services_for
from .models import Office, Service

# The words that open the hub (exact: "查询社保" is a service's keyword, not the hub).
HUB_WORDS = ("查询", "服务", "办事", "服务大厅", "办事指南")
NEAREST = 3
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
TEXT_LIMIT = 2048  # bytes: WeChat cuts longer passive text replies
DESCRIPTION_CHARS = 120
HUB_PK = 0  # the hub's spec in the matcher; services use their own pk


@dataclass(frozen=True)
class OfficePoint:
    """An office with coordinates, ready for the distance formula."""

    code: str
    name: str
    address: str
    hours: str
    phone: str
    lat: float  # radians
    lon: float  # radians
    cos_lat: float
    link: str  # the office's H5 page
    link_label: str


@dataclass
class ServiceIndex:
    """One account's compiled service query."""

    version: int
    matcher: Matcher = field(default_factory=Matcher)
    offices: tuple[OfficePoint, ...] = ()
    hub: str = ""

    def answer(self, text: str) -> Reply | None:
        """The card for a service's keyword or a hub word, or None."""
        hit = self.matcher.match(text.strip())
        return hit.replies[0] if hit is not None else None

    def nearest(
        self, latitude: float, longitude: float, n: int = NEAREST
    ) -> list[tuple[float, OfficePoint]]:
        """The n nearest offices as (metres, office), nearest first."""
        lat, lon = math.radians(latitude), math.radians(longitude)
        cos_lat = math.cos(lat)
        scored = ((_haversine(lat, lon, cos_lat, o), o) for o in self.offices)
        return heapq.nsmallest(n, scored, key=lambda x: (x[0], x[1].code))

    def nearby(self, latitude: float, longitude: float) -> Reply | None:
        """A text reply naming the nearest offices, or None when no office has
        coordinates (the location then goes to the desk)."""
        if not self.offices or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return Reply("text", {"content": nearby_text(self.nearest(latitude, longitude), self.hub)})


def _haversine(lat: float, lon: float, cos_lat: float, o: OfficePoint) -> float:
    h = math.sin((o.lat - lat) / 2) ** 2 + cos_lat * o.cos_lat * math.sin((o.lon - lon) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_label(metres: float) -> str:
    """ "850 米" under a kilometre (to 10 m), "1.2 公里" up to 100 km, then "123 公里"."""
    if metres < 995:
        return f"{max(10, int(round(metres / 10.0)) * 10)} 米"
    km = metres / 1000
    if km < 99.95:
        return f"{km:.1f} 公里"
    return f"{round(km)} 公里"


def _link(url: str, label: str) -> str:
    """A link in a text reply. WeChat reads `<a href="…">…</a>` in a text message and
    shows the rest as it is (no entities), so the label is made plain and `"`, `<`, `>`
    and spaces in the URL are percent-encoded: a name with `</a>` or a quote can
    neither break the link nor add another."""
    return f'<a href="{_attr(url)}">{plain(label)}</a>'


def plain(s: str) -> str:
    """Text for a WeChat text reply: no angle brackets that could open a tag."""
    return s.replace("<", "＜").replace(">", "＞")


def _attr(url: str) -> str:
    return url.replace('"', "%22").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def _block(i: int, metres: float, o: OfficePoint, cut: int | None = None) -> str:
    def f(s: str) -> str:
        return s if cut is None or len(s) <= cut else s[:cut] + "…"

    lines = [f"{i}. {plain(f(o.name))}（{distance_label(metres)}）", f"地址：{plain(f(o.address))}"]
    if o.hours:
        lines.append(f"办公时间：{plain(f(o.hours))}")
    if o.phone:
        lines.append(f"电话：{plain(o.phone)}")
    lines.append(_link(o.link, f(o.link_label)))
    return "\n".join(lines)


def nearby_text(found: list[tuple[float, OfficePoint]], hub: str) -> str:
    """The reply: the offices with distance, address, hours, phone and a link each.

    A text reply, not a news card: WeChat shows one article at most in a passive reply
    to a message a follower sent, and three offices with their distances do not fit in
    one card's title and description; a text reply carries a link per office.
    """
    head, tail = "离您最近的办事网点：", _link(hub, "查看全部服务 →")
    text = ""
    for cut in (None, 60, 30, 12):  # long names and addresses are cut, every office stays
        blocks = [_block(i, m, o, cut) for i, (m, o) in enumerate(found, start=1)]
        text = "\n\n".join([head, *blocks, tail])
        if len(text.encode()) <= TEXT_LIMIT:
            break
    return text


# ------------------------------------------------------------------ building the index


def _keywords(service: Service) -> list[tuple[str, str]]:
    """The service's keywords (contained in the message), and its name (the whole message)."""
    found: list[tuple[str, str]] = [(service.name.strip(), EXACT)]
    raw: Any = service.keywords if isinstance(service.keywords, list) else []
    for kw in raw:
        if isinstance(kw, dict):
            text, how = str(kw.get("text", "")).strip(), str(kw.get("match", CONTAINS))
        else:
            text, how = str(kw).strip(), CONTAINS
        if text and how in (EXACT, CONTAINS):
            found.append((text, how))
    return found


def describe(service: Service) -> str:
    """The card's description: the summary, else the first lines of the guide."""
    if service.summary.strip():
        text = service.summary.strip()
    else:
        parts = []
        if service.eligibility.strip():
            parts.append("办理对象：" + service.eligibility.strip().splitlines()[0])
        if service.material_list:
            parts.append("申请材料：" + "、".join(service.material_list[:3]))
        if service.time_limit:
            parts.append("办理时限：" + service.time_limit)
        text = "\n".join(parts) or "点击查看办事指南"
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1] + "…"


def guide_card(account: Account, service: Service) -> Reply:
    article = {
        "title": service.name,
        "description": describe(service),
        "pic_url": "",
        "url": guide_url(account, service.code),
    }
    return Reply("news", {"articles": [article]})


def hub_card(account: Account) -> Reply:
    article = {
        "title": f"{account.name} · 服务大厅",
        "description": "按类别查找办事指南、办理地点和在线办理入口",
        "pic_url": "",
        "url": hub_url(account),
    }
    return Reply("news", {"articles": [article]})


def office_label(services: int) -> str:
    return f"查看网点详情（可办 {services} 项）" if services else "查看网点详情"


def _point(office: Office, link: str, label: str) -> OfficePoint:
    assert office.latitude is not None and office.longitude is not None
    lat, lon = math.radians(office.latitude), math.radians(office.longitude)
    return OfficePoint(
        office.code,
        office.name,
        office.address,
        office.opening_hours,
        office.phone,
        lat,
        lon,
        math.cos(lat),
        link,
        label,
    )


def load_index(account: Account, version: int) -> ServiceIndex:
    """Read the account's catalogue and compile it (a few queries; none without an
    organisation)."""
    if account.organisation_id is None:
        return ServiceIndex(version)
    services = services_for(account)
    hub = hub_url(account)
    specs = [
        RuleSpec(
            HUB_PK, "服务大厅", False, tuple((w, EXACT) for w in HUB_WORDS), (hub_card(account),)
        )
    ]
    # One spec per keyword, longest first: "公积金贷款" finds the loan's guide even though
    # it contains the withdrawal's "公积金" (the matcher's lowest rank wins).
    handled: dict[str, int] = {}  # office code → how many services are handled there
    entries: list[tuple[int, int, str, str, Service, Reply]] = []
    for order, s in enumerate(services):
        card = guide_card(account, s)
        for text, how in _keywords(s):
            entries.append((-len(text), order, text, how, s, card))
        for o in s.offices.all():
            handled[o.code] = handled.get(o.code, 0) + 1
    entries.sort(key=lambda e: (e[0], e[1]))
    specs += [
        RuleSpec(s.pk, s.name, False, ((text, how),), (card,))
        for _, _, text, how, s, card in entries
    ]
    # Each office links to its own page: where it is, its hours, a call and a map button,
    # and the services handled there.
    points = [
        _point(o, office_url(account, o.code), office_label(handled.get(o.code, 0)))
        for o in offices_for(account)
        if o.latitude is not None and o.longitude is not None
    ]
    return ServiceIndex(version, compile_rules(specs), tuple(points), hub)
