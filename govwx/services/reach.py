"""Two taps (两步可达): how many taps it takes a citizen, from the chat screen, to reach
each service's guide (办事指南) or its online entry (在线办理) through the menu and the hub.

The taps form a graph. From the chat screen, a top-level leaf is one tap; a sub-menu is
one tap to open and one more for its item. A `view` button lands on the page its URL
names — the hub, a category page, a guide, or a service's online entry; a mini-program
button lands on the online entry of the service with that appid and page path; a `click`
button answered by a news reply lands, after the card's tap, where the card's URL does.
Then: hub → guide (the hub lists every category with its services), category → guide,
guide → online entry, one tap each. The shortest path is found breadth first, in menu
order, so among equal paths the leftmost wins.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.utils.translation import gettext as _

from govwx.accounts.models import Account
from govwx.replies.models import Reply

from . import catalogue
from .menu import current_version
from .models import Category, MenuVersion, Service

LIMIT = 2  # taps a citizen should need, at most
CHAT = "chat"
HUB = "hub"


@dataclass(frozen=True)
class Reach:
    """One service's shortest paths; None where no path reaches."""

    code: str
    name: str
    guide_taps: int | None
    guide_path: tuple[str, ...]
    online_taps: int | None  # None also when the service has no online entry
    online_path: tuple[str, ...]
    has_online: bool

    @property
    def taps(self) -> int | None:
        """Taps to the guide or the online entry, whichever comes first."""
        found = [t for t in (self.guide_taps, self.online_taps) if t is not None]
        return min(found) if found else None

    @property
    def over_limit(self) -> bool:
        return self.taps is not None and self.taps > LIMIT

    @property
    def unreachable(self) -> bool:
        return self.taps is None


@dataclass
class MenuReach:
    """Reach through one menu: the default one, or a conditional menu for a tag."""

    label: str
    matchrule: dict[str, Any]
    services: dict[str, Reach]

    @property
    def over_limit(self) -> list[Reach]:
        return [r for r in self.services.values() if r.over_limit]

    @property
    def unreachable(self) -> list[Reach]:
        return [r for r in self.services.values() if r.unreachable]


@dataclass
class Report:
    version: MenuVersion | None
    menus: list[MenuReach] = field(default_factory=list)


# ------------------------------------------------------------------ URLs


def normalise(url: str, *, query: bool = True) -> str:
    """A URL compared as a browser would reach it: scheme and host in lower case, no
    trailing slash, no fragment (and, with query=False, no query string)."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), path, parts.query if query else "", "")
    )


def _page_path(path: str) -> str:
    return path.strip().lstrip("/")


@dataclass
class Addresses:
    """Where each URL and mini-program page lands: graph nodes."""

    pages: dict[str, str]  # govwx's H5 pages, compared without their query string
    online: dict[str, list[str]]  # online entries (several services may share one)
    programs: dict[tuple[str, str], list[str]]

    def nodes_for_url(self, url: str) -> list[str]:
        found = list(self.online.get(normalise(url), []))
        page = self.pages.get(normalise(url, query=False))
        if page is not None:
            found.append(page)
        return found

    def nodes_for_program(self, appid: str, pagepath: str) -> list[str]:
        return list(self.programs.get((appid.strip(), _page_path(pagepath)), []))


def addresses(account: Account, services: list[Service]) -> Addresses:
    pages = {normalise(catalogue.hub_url(account), query=False): HUB}
    for value in Category.values:
        pages[normalise(catalogue.category_url(account, value), query=False)] = f"category:{value}"
    online: dict[str, list[str]] = {}
    programs: dict[tuple[str, str], list[str]] = {}
    for s in services:
        pages[normalise(catalogue.guide_url(account, s.code), query=False)] = f"guide:{s.code}"
        if s.online_url:
            online.setdefault(normalise(s.online_url), []).append(f"online:{s.code}")
        if s.miniprogram_appid and s.miniprogram_path:
            key = (s.miniprogram_appid.strip(), _page_path(s.miniprogram_path))
            programs.setdefault(key, []).append(f"online:{s.code}")
    return Addresses(pages, online, programs)


# ------------------------------------------------------------------ the graph


def has_online(service: Service) -> bool:
    return bool(service.online_url or (service.miniprogram_appid and service.miniprogram_path))


Graph = dict[str, list[tuple[str, str]]]  # node -> [(next node, what the tap says)]


def _click_cards(account: Account, keys: list[str]) -> dict[str, list[tuple[str, str]]]:
    """For each click key, the (title, url) of the news cards its reply shows."""
    cards: dict[str, list[tuple[str, str]]] = {}
    rows = Reply.objects.filter(
        account=account, trigger=Reply.Trigger.CLICK, kind=Reply.Kind.NEWS, click_key__in=keys
    ).order_by("position", "id")
    for reply in rows:
        for article in (reply.payload or {}).get("articles") or []:
            if isinstance(article, dict) and article.get("url"):
                title = str(article.get("title") or article["url"])
                cards.setdefault(reply.click_key, []).append((title, str(article["url"])))
    return cards


def _buttons(menu: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = menu.get("button") if isinstance(menu, dict) else None
    return [b for b in buttons or [] if isinstance(b, dict)]


def _subs(button: dict[str, Any]) -> list[dict[str, Any]]:
    subs = button.get("sub_button")
    if isinstance(subs, dict):  # menu/get's {"list": [...]}
        subs = subs.get("list")
    return [s for s in subs or [] if isinstance(s, dict)]


def build_graph(
    account: Account,
    menu: dict[str, Any],
    services: list[Service],
    where: Addresses,
) -> Graph:
    graph: Graph = {CHAT: []}

    def edge(a: str, b: str, words: str) -> None:
        graph.setdefault(a, []).append((b, words))

    leaves: list[tuple[str, dict[str, Any]]] = []  # (node the leaf is tapped from, leaf)
    for i, top in enumerate(_buttons(menu)):
        subs = _subs(top)
        if subs:
            node = f"menu:{i}"
            edge(CHAT, node, str(top.get("name", "")))
            leaves += [(node, s) for s in subs]
        else:
            leaves.append((CHAT, top))
    keys = [str(b["key"]) for _, b in leaves if b.get("type") == "click" and b.get("key")]
    cards = _click_cards(account, keys) if keys else {}
    for n, (source, button) in enumerate(leaves):
        name, kind = str(button.get("name", "")), button.get("type")
        targets: list[str] = []
        if kind == "view":
            targets = where.nodes_for_url(str(button.get("url", "")))
        elif kind == "miniprogram":
            targets = where.nodes_for_program(
                str(button.get("appid", "")), str(button.get("pagepath", ""))
            )
        elif kind == "click" and cards.get(str(button.get("key", ""))):
            node = f"click:{n}"
            edge(source, node, name)
            for title, url in cards[str(button["key"])]:
                for target in where.nodes_for_url(url):
                    edge(node, target, title)
            continue
        for target in targets:
            edge(source, target, name)
    for s in services:
        guide = f"guide:{s.code}"
        edge(HUB, guide, s.name)
        edge(f"category:{s.category}", guide, s.name)
        if has_online(s):
            edge(guide, f"online:{s.code}", _("在线办理"))
    return graph


def shortest(graph: Graph) -> dict[str, tuple[str, ...]]:
    """Every node reachable from the chat screen, with the words of its shortest path
    (its length is the number of taps)."""
    paths: dict[str, tuple[str, ...]] = {CHAT: ()}
    queue = deque([CHAT])
    while queue:
        node = queue.popleft()
        for nxt, words in graph.get(node, []):
            if nxt not in paths:
                paths[nxt] = (*paths[node], words)
                queue.append(nxt)
    return paths


def reach(
    account: Account, menu: dict[str, Any], services: list[Service] | None = None
) -> dict[str, Reach]:
    """Each service of the account's catalogue (by code, in catalogue order) with its
    fewest taps through `menu` (WeChat's {"button": [...]}) to its guide and online
    entry."""
    services = catalogue.services_for(account) if services is None else services
    paths = shortest(build_graph(account, menu, services, addresses(account, services)))
    result: dict[str, Reach] = {}
    for s in services:
        guide = paths.get(f"guide:{s.code}")
        online = paths.get(f"online:{s.code}")
        result[s.code] = Reach(
            code=s.code,
            name=s.name,
            guide_taps=None if guide is None else len(guide),
            guide_path=guide or (),
            online_taps=None if online is None else len(online),
            online_path=online or (),
            has_online=has_online(s),
        )
    return result


# ------------------------------------------------------------------ the current menu


def _tag_label(matchrule: dict[str, Any], version: MenuVersion) -> str:
    tag = str(matchrule.get("tag_id", ""))
    names = {
        str(c.get("tag_id")): c.get("tag_name")
        for c in version.conditional or []
        if isinstance(c, dict)
    }
    if tag and names.get(tag):
        return _("个性化菜单：%(name)s（标签 %(tag)s）") % {"name": names[tag], "tag": tag}
    if tag:
        return _("个性化菜单：标签 %(tag)s") % {"tag": tag}
    return _("个性化菜单")


def report(account: Account) -> Report:
    """Reach through the current menu: the default menu first (what everybody sees),
    then each conditional menu."""
    version = current_version(account)
    if version is None:
        return Report(None)
    compiled = version.compiled or {}
    services = catalogue.services_for(account)
    menus = [MenuReach(_("默认菜单"), {}, reach(account, compiled.get("menu") or {}, services))]
    for cond in compiled.get("conditional") or []:
        if isinstance(cond, dict):
            rule = cond.get("matchrule") or {}
            menus.append(MenuReach(_tag_label(rule, version), rule, reach(account, cond, services)))
    return Report(version, menus)
