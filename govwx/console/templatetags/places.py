"""Where a citizen's location is: the nearest office of the account's service catalogue,
for the case page. The desk (floor 3) cannot read the catalogue, a neighbour on its
floor; the console, above both, lends its pages this tag."""

from __future__ import annotations

from typing import Any

from django import template

from govwx.inbox import runtime

register = template.Library()


@register.simple_tag
def nearest_office(account: Any, latitude: Any, longitude: Any) -> dict[str, Any] | None:
    """{"name", "address", "distance"} of the office nearest to the place, or None (no
    coordinates, no office with coordinates)."""
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    rt = runtime.get(account.appid)
    if rt is None:
        return None
    found = rt.services.nearest(lat, lng, 1)
    if not found:
        return None
    metres, office = found[0]
    distance = (
        f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{max(10, round(metres, -1)):.0f} 米"
    )
    return {"name": office.name, "address": office.address, "distance": distance}
