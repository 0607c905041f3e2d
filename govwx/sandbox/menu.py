"""Custom-menu validation with WeChat's limits and error codes (reference §2.3, §2.14).

The sandbox refuses what WeChat refuses, so that an operator learns the rules here and
govwx's own menu builder is checked against an independent judge.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60
KEY_BYTES, URL_BYTES = 128, 1024

KEY_TYPES = {
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
}
MEDIA_TYPES = {"media_id", "view_limited"}
ARTICLE_TYPES = {"article_id", "article_view_limited"}
ALL_TYPES = KEY_TYPES | MEDIA_TYPES | ARTICLE_TYPES | {"view", "miniprogram"}


def _nbytes(value: Any) -> int:
    return len(value.encode()) if isinstance(value, str) else -1


def _check_url(url: Any, sub: bool) -> None:
    size_code, domain_code = (40027, 40054) if sub else (40055, 40055)
    if not isinstance(url, str) or not 0 < _nbytes(url) <= URL_BYTES:
        raise ApiError(size_code)
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise ApiError(domain_code)


def _check_button(button: Any, sub: bool) -> None:
    if not isinstance(button, dict):
        raise ApiError(40024 if sub else 40017)
    name_limit, name_code = (SUB_NAME_BYTES, 40025) if sub else (TOP_NAME_BYTES, 40018)
    if not 0 < _nbytes(button.get("name")) <= name_limit:
        raise ApiError(name_code)
    kind = button.get("type")
    if kind not in ALL_TYPES:
        raise ApiError(40024 if sub else 40017)
    if kind in KEY_TYPES:
        if not 0 < _nbytes(button.get("key")) <= KEY_BYTES:
            raise ApiError(40026 if sub else 40019)
    elif kind == "view":
        _check_url(button.get("url"), sub)
    elif kind == "miniprogram":
        _check_url(button.get("url"), sub)
        if _nbytes(button.get("appid")) <= 0 or _nbytes(button.get("pagepath")) <= 0:
            raise ApiError(40035, "invalid parameter: miniprogram needs appid and pagepath")
    elif kind in MEDIA_TYPES:
        if _nbytes(button.get("media_id")) <= 0:
            raise ApiError(40007)
    elif _nbytes(button.get("article_id")) <= 0:
        raise ApiError(40035, "invalid parameter: article_id missing")


def validate_menu(data: Any) -> dict[str, Any]:
    """Return the menu to store ({"button": [...]}) or raise ApiError with WeChat's code."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    buttons = data.get("button")
    if not isinstance(buttons, list) or not 0 < len(buttons) <= MAX_TOP:
        raise ApiError(40016)
    for button in buttons:
        subs = button.get("sub_button") if isinstance(button, dict) else None
        if isinstance(subs, dict):  # WeChat's own menu/get nests as {"list": [...]}
            subs = subs.get("list")
        if subs:
            if not isinstance(subs, list) or len(subs) > MAX_SUB:
                raise ApiError(40023)
            if not 0 < _nbytes(button.get("name")) <= TOP_NAME_BYTES:
                raise ApiError(40018)
            for sub in subs:
                _check_button(sub, sub=True)
        else:
            _check_button(button, sub=False)
    return {"button": [_clean(b) for b in buttons]}


def _clean(button: dict[str, Any]) -> dict[str, Any]:
    """Keep only fields WeChat keeps; sub-menus always as a plain `sub_button` list."""
    subs = button.get("sub_button")
    if isinstance(subs, dict):
        subs = subs.get("list")
    if subs:
        return {"name": button["name"], "sub_button": [_clean(s) for s in subs]}
    keep = ("type", "name", "key", "url", "appid", "pagepath", "media_id", "article_id")
    return {k: button[k] for k in keep if k in button}


# ------------------------------------------------------------------ conditional menus

# Match-rule fields WeChat still honours; the privacy fields are refused with 65320.
MATCH_FIELDS = {"tag_id", "client_platform_type"}
PRIVACY_FIELDS = {"sex", "country", "province", "city", "language", "group_id"}
PLATFORMS = {"1", "2", "3"}  # iOS, Android, others
MAX_DOMAINS = 3


def validate_matchrule(data: Any) -> dict[str, str]:
    """The match rule to store ({"tag_id": "100"}, maybe "client_platform_type")."""
    if not isinstance(data, dict):
        raise ApiError(65304)
    if any(str(data.get(key, "")).strip() for key in PRIVACY_FIELDS):
        raise ApiError(65320)
    rule = {k: str(data[k]).strip() for k in MATCH_FIELDS if str(data.get(k, "")).strip()}
    if not rule:
        raise ApiError(65304)
    if "tag_id" in rule and not rule["tag_id"].isdigit():
        raise ApiError(45159)
    if "client_platform_type" in rule and rule["client_platform_type"] not in PLATFORMS:
        raise ApiError(40035, "invalid parameter: client_platform_type")
    return rule


def validate_conditional(data: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(menu, matchrule) of a menu/addconditional body; the menu obeys the same rules."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    if not data.get("button"):
        raise ApiError(65307)
    rule = validate_matchrule(data.get("matchrule"))
    return validate_menu({"button": data["button"]}), rule


def domains(menu: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for button in menu.get("button", []):
        for leaf in button.get("sub_button") or [button]:
            url = leaf.get("url")
            if isinstance(url, str) and "://" in url:
                found.add(url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower())
    return found
