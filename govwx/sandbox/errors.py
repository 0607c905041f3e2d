"""WeChat API error codes and messages as the platform returns them."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[int, str] = {
    -1: "system busy",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40035: "invalid parameter",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41009: "missing openid",
    42001: "access_token expired",
    43002: "require POST method",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45008: "article size out of limit",
    40037: "invalid template_id",
    43004: "require subscribe",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    45009: "api freq out of limit",
    46003: "menu no exist",
    47001: "data format error",
    93000: "invalid webhook url",
    40032: "invalid openid list size",
    45056: "too many tags",
    45058: "can't modify sys tag",
    45059: "user has too many tags",
    45157: "invalid tag name: duplicate",
    45158: "tag name too long",
    45159: "invalid tag id",
    65301: "no conditional menu with this menuid",
    65302: "no such user",
    65303: "there is no selfmenu, please create selfmenu first",
    65304: "match rule empty",
    65307: "conditional menu button empty",
    65316: "too many domains in conditional menus",
    65320: "match rule uses fields no longer supported",
    # publishing: material, drafts, freepublish, mass send (docs/wechat-publishing.md)
    40004: "invalid media type",
    40005: "invalid file type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40011: "invalid video size",
    40012: "invalid thumb size",
    40048: "invalid url",
    40050: "invalid tag id",
    40059: "invalid msg id",
    40060: "invalid article idx",
    40130: "invalid openid list size, at least two openid",
    40227: "title is empty",
    41005: "media data missing",
    44001: "empty media data",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "url size out of limit",
    45028: "has no masssend quota",
    45034: "media file count is out of limit",
    45065: "clientmsgid exist",
    45066: "clientmsgid retry too fast, please retry after 1 minute",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    48001: "api unauthorized",
    48005: "forbid to delete material used by auto-reply or menu",
    53502: "invalid publish_id",
    53503: "draft has not passed the publish check",
    53600: "invalid article_id",
}


class ApiError(Exception):
    """An API call WeChat would refuse; carries the errcode and errmsg to answer."""

    def __init__(
        self, errcode: int, errmsg: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or MESSAGES.get(errcode, "system error")
        # fields WeChat answers beside the error (45065 names the earlier send's msg_id)
        self.extra = extra or {}
        super().__init__(f"{self.errcode} {self.errmsg}")

    def as_json(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg, **self.extra}


OK: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
