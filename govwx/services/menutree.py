"""Walking a menu: WeChat's (as compiled, or as menu/get gives it, whose sub-menus are
{"list": [...]}) and the builder's alike, tolerant of anything malformed."""

from __future__ import annotations

from typing import Any


def leaves(menu: Any) -> list[tuple[str, dict[str, Any]]]:
    """(its path in words, "便民服务 › 公积金提取", the leaf) for every item a follower
    taps, in menu order: each sub-menu's items, and the top buttons without one."""
    found: list[tuple[str, dict[str, Any]]] = []
    buttons = menu.get("button") if isinstance(menu, dict) else None
    for top in buttons if isinstance(buttons, list) else []:
        if not isinstance(top, dict):
            continue
        subs = top.get("sub_button")
        if isinstance(subs, dict):
            subs = subs.get("list")
        if isinstance(subs, list) and subs:
            found += [
                (f"{top.get('name', '')} › {s.get('name', '')}", s)
                for s in subs
                if isinstance(s, dict)
            ]
        else:
            found.append((str(top.get("name", "")), top))
    return found
