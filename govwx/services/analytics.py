"""Menu analytics (菜单统计): how often citizens tap each menu item, per local day.

Read from the stored callbacks (`wechat.InboundMessage`): menu taps arrive as events
whose `EventKey` is the button's key (CLICK, scancode_*, pic_*, location_select), its
URL (VIEW) or its mini-program page path (view_miniprogram). One grouped query counts
them per local day (Asia/Shanghai), event and key, over the (account, received_at)
index; each key is then named by the menu item that carried it, in the current menu or,
for a key since removed, the newest earlier version that had it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from govwx.accounts.models import Account
from govwx.lib import periods
from govwx.lib.periods import Period
from govwx.wechat.models import InboundMessage

from .menutree import leaves
from .models import MenuVersion
from .reach import normalise

DEFAULT_DAYS = 30
MAX_DAYS = 366
CHART_SERIES = 8  # items drawn day by day; the rest only in the totals
# The events a menu tap pushes, as WeChat names them, and the item kind each stands for.
EVENT_KINDS = {
    "CLICK": "click",
    "VIEW": "view",
    "view_miniprogram": "miniprogram",
    "location_select": "location_select",
    "scancode_push": "scancode_push",
    "scancode_waitmsg": "scancode_waitmsg",
    "pic_sysphoto": "pic_sysphoto",
    "pic_photo_or_album": "pic_photo_or_album",
    "pic_weixin": "pic_weixin",
}
KIND_LABELS = {
    "click": _lazy("点击"),
    "view": _lazy("网页"),
    "miniprogram": _lazy("小程序"),
    "location_select": _lazy("发送位置"),
    "scancode_push": _lazy("扫码"),
    "scancode_waitmsg": _lazy("扫码"),
    "pic_sysphoto": _lazy("拍照"),
    "pic_photo_or_album": _lazy("拍照或相册"),
    "pic_weixin": _lazy("微信相册"),
}


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# ------------------------------------------------------------------ the period


def default_period(today: date | None = None) -> Period:
    """The last 30 local days, today included."""
    today = today or timezone.localdate(timezone=_tz())
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def parse_period(raw_first: str | None, raw_last: str | None) -> tuple[Period, list[str]]:
    """The period a form asks for, or the default with the reasons it was refused."""
    return periods.parse_period(raw_first, raw_last, default_period(), MAX_DAYS)


# ------------------------------------------------------------------ menu items


def item_key(kind: str, value: str) -> tuple[str, str]:
    """What identifies an item in events: a URL (compared normalised), a page path, or a
    key (shared by every key-carrying type)."""
    if kind == "view":
        return ("url", normalise(value))
    if kind == "miniprogram":
        return ("page", value.strip().lstrip("/"))
    return ("key", value)


def _button_value(button: dict[str, Any]) -> tuple[str, str] | None:
    kind = button.get("type")
    if kind == "view" and button.get("url"):
        return "view", str(button["url"])
    if kind == "miniprogram" and button.get("pagepath"):
        return "miniprogram", str(button["pagepath"])
    if kind in KIND_LABELS and button.get("key"):
        return str(kind), str(button["key"])
    return None


@dataclass
class Named:
    name: str
    kind: str
    current: bool
    order: int


def menu_names(account: Account) -> dict[tuple[str, str], Named]:
    """Every item of the account's published menus (conditional ones too), by its event
    key; the current version (`menu.current_version`, published last) names its items,
    then the version published most recently before that had an item names it."""
    from .menu import current_version

    current = current_version(account)
    earlier = MenuVersion.objects.filter(
        Q(status=MenuVersion.Status.PUBLISHED) | Q(published_at__isnull=False),
        account=account,
    )
    if current is not None:
        earlier = earlier.exclude(pk=current.pk)
    versions = list(
        earlier.order_by(F("published_at").desc(nulls_last=True), "-number").only("compiled")
    )
    if current is not None:
        versions.insert(0, current)
    names: dict[tuple[str, str], Named] = {}
    order = 0
    for i, version in enumerate(versions):
        compiled = version.compiled or {}
        menus = [compiled.get("menu"), *(compiled.get("conditional") or [])]
        for menu in menus:
            for words, button in leaves(menu):
                value = _button_value(button)
                if value is None:
                    continue
                key = item_key(*value)
                if key not in names:
                    is_current = current is not None and i == 0
                    names[key] = Named(words, value[0], current=is_current, order=order)
                    order += 1
    return names


# ------------------------------------------------------------------ counting


@dataclass
class Item:
    name: str
    kind: str
    key: str  # the key, URL or page path
    current: bool  # in the current menu
    known: bool  # in some published menu
    days: dict[date, int] = field(default_factory=dict)
    total: int = 0
    order: int = 0

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    def counts(self, days: list[date]) -> list[int]:
        return [self.days.get(d, 0) for d in days]


@dataclass
class Usage:
    period: Period
    items: list[Item]  # most used first; current items nobody used last
    day_totals: dict[date, int]
    total: int

    @property
    def days(self) -> list[date]:
        return self.period.days

    def day_counts(self) -> list[int]:
        return [self.day_totals.get(d, 0) for d in self.days]


def _local_date(value: Any) -> date:
    if isinstance(value, datetime):  # some backends hand back a datetime
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def counts(account: Account, period: Period) -> list[tuple[date, str, str, int]]:
    """(local day, event, EventKey, count): one grouped query over the period."""
    rows = (
        InboundMessage.objects.filter(
            account=account,
            received_at__gte=period.start,
            received_at__lt=period.end,
            msg_type="event",
            event__in=list(EVENT_KINDS),
        )
        .annotate(
            day=TruncDate("received_at", tzinfo=_tz()), key=KeyTextTransform("EventKey", "payload")
        )
        .values_list("day", "event", "key")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(_local_date(day), event, key or "", n) for day, event, key, n in rows]


def usage(account: Account, period: Period) -> Usage:
    """Taps per menu item per local day in `period`, with totals."""
    names = menu_names(account)
    items: dict[tuple[str, str], Item] = {}
    for (family, value), named in names.items():
        if named.current:
            items[(family, value)] = Item(
                named.name, named.kind, value, True, True, order=named.order
            )
    day_totals: dict[date, int] = {}
    for day, event, raw_key, n in counts(account, period):
        kind = EVENT_KINDS[event]
        key = item_key(kind, raw_key)
        item = items.get(key)
        if item is None:
            earlier = names.get(key)
            item = items[key] = (
                Item(earlier.name, earlier.kind, key[1], False, True, order=earlier.order)
                if earlier
                else Item(raw_key or _("（空）"), kind, key[1], False, False, order=len(names))
            )
        item.days[day] = item.days.get(day, 0) + n
        item.total += n
        day_totals[day] = day_totals.get(day, 0) + n
    ordered = sorted(items.values(), key=lambda i: (-i.total, not i.current, i.order, i.name))
    return Usage(period, ordered, day_totals, sum(day_totals.values()))


def chart(data: Usage) -> dict[str, Any]:
    """What the page's ECharts draws: totals per item, and the most used items by day."""
    used = [i for i in data.items if i.total]
    return {
        "items": [i.name for i in used],
        "totals": [i.total for i in used],
        "days": [d.isoformat() for d in data.days],
        "series": [{"name": i.name, "data": i.counts(data.days)} for i in used[:CHART_SERIES]],
    }
