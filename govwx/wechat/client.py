"""The only code that calls the WeChat API.

`WeChatClient(account)` speaks JSON over HTTP to `settings.GOVWX_WECHAT_API_BASE` (the
real platform or the sandbox) and turns every non-zero errcode into a typed exception
from `govwx.wechat.errors`.

The access token comes from `stable_token` and lives in Django's default cache, which
every process shares (the database cache, or Redis at scale). Tencent's rule is one
token per account for all workers: N workers refreshing on their own evict one another's
tokens and cause 40001 storms. So one process refreshes, under a `cache.add` lock, a
few minutes before expiry, while the others keep using the still-valid token (or wait
briefly when there is none). `force_refresh` is never sent: it is limited to 20 a day and
would invalidate the token every other worker is using.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

from govwx.accounts.models import Account

from .errors import (
    CREDENTIAL_ERRCODES,
    ArticleRefused,
    DraftNotPublishable,
    DuplicateMassSend,
    InvalidAppSecret,
    InvalidArticleId,
    InvalidCredential,
    InvalidMediaId,
    InvalidMsgId,
    InvalidOpenid,
    InvalidPublishId,
    IPNotWhitelisted,
    MassQuotaUsedUp,
    MassRetryTooFast,
    MaterialInUse,
    MaterialLimitReached,
    MediaRefused,
    MenuInvalid,
    MenuNotFound,
    NotFollowing,
    OpenidListInvalid,
    OutsideReplyWindow,
    PublishBanned,
    QuotaExceeded,
    RateLimited,
    ReplyQuotaUsedUp,
    SystemBusy,
    TransportError,
    Unauthorized,
    UserBlocked,
    UserRefusesMessages,
    WeChatAPIError,
    error_for,
)

# The errors are re-exported: callers need only this module.
__all__ = [
    "ArticleRefused",
    "CUSTOM_MESSAGE_TYPES",
    "DraftNotPublishable",
    "DuplicateMassSend",
    "InvalidArticleId",
    "InvalidMsgId",
    "InvalidPublishId",
    "MASS_MESSAGE_TYPES",
    "MassQuotaUsedUp",
    "MassRetryTooFast",
    "MaterialInUse",
    "MaterialLimitReached",
    "OpenidListInvalid",
    "PUBLISH_STATUSES",
    "PublishBanned",
    "IPNotWhitelisted",
    "InvalidAppSecret",
    "InvalidCredential",
    "InvalidMediaId",
    "InvalidOpenid",
    "MediaFile",
    "MediaRefused",
    "MenuInvalid",
    "MenuNotFound",
    "NotFollowing",
    "OutsideReplyWindow",
    "QuotaExceeded",
    "RateLimited",
    "ReplyQuotaUsedUp",
    "SystemBusy",
    "TransportError",
    "Unauthorized",
    "UserBlocked",
    "UserRefusesMessages",
    "WeChatAPIError",
    "Transport",
    "WeChatClient",
    "clear_local_tokens",
    "custom_message_body",
    "urllib_transport",
]

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
Params = Mapping[str, str | int]

# Refresh this long before expiry. stable_token pre-rotates 5 minutes before expiry, so
# a fetch inside that span gets the next token rather than the dying one.
REFRESH_MARGIN = 300.0
# Tencent's advice: a process may keep its own copy of the shared token for up to a
# minute. Half of that keeps a token some other process found invalid from lingering.
LOCAL_TTL = 30.0
# How often a process waiting for another one's refresh looks at the cache again.
LOCK_POLL = 0.05


class Transport(Protocol):
    """Sends one HTTP request and returns the body of a 200 answer, or raises
    TransportError."""

    def __call__(self, method: str, url: str, body: bytes | None, timeout: float) -> bytes: ...


def urllib_transport(method: str, url: str, body: bytes | None, timeout: float) -> bytes:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    # The messages below leave the URL out: its query string carries the access token.
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        raise TransportError(f"WeChat answered HTTP {exc.code}", status=exc.code) from exc
    except urllib.error.URLError as exc:
        raise TransportError(f"cannot reach WeChat: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"WeChat connection failed: {exc!r}") from exc


# A media file larger than any WeChat keeps (video: 10 MB) is not read to the end.
MAX_MEDIA_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RawAnswer:
    """A 200 answer whose body may be a file rather than JSON (media/get)."""

    content_type: str
    disposition: str
    body: bytes


class RawTransport(Protocol):
    def __call__(
        self, method: str, url: str, body: bytes | None, timeout: float, headers: Mapping[str, str]
    ) -> RawAnswer: ...


def urllib_raw_transport(
    method: str, url: str, body: bytes | None, timeout: float, headers: Mapping[str, str]
) -> RawAnswer:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_MEDIA_BYTES + 1)
            if len(data) > MAX_MEDIA_BYTES:
                raise TransportError(f"media larger than {MAX_MEDIA_BYTES} bytes")
            return RawAnswer(
                response.headers.get("Content-Type", ""),
                response.headers.get("Content-Disposition", ""),
                data,
            )
    except urllib.error.HTTPError as exc:
        raise TransportError(f"WeChat answered HTTP {exc.code}", status=exc.code) from exc
    except urllib.error.URLError as exc:
        raise TransportError(f"cannot reach WeChat: {exc.reason}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"WeChat connection failed: {exc!r}") from exc


@dataclass(frozen=True)
class MediaFile:
    """A media file as media/get gave it."""

    content: bytes
    content_type: str
    filename: str


def _filename(disposition: str) -> str:
    """The file name of a Content-Disposition header (filename="MEDIA_ID.jpg")."""
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename":
            return value.strip().strip('"')
    return ""


def _pause(seconds: float) -> None:
    time.sleep(seconds)


# ------------------------------------------------------------------ access token


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float
    refresh_at: float

    def usable(self, now: float) -> bool:
        return now < self.refresh_at

    def valid(self, now: float) -> bool:
        return now < self.expires_at


# appid -> (token, until when this process may use it without asking the shared cache)
_local_tokens: dict[str, tuple[_Token, float]] = {}


def clear_local_tokens() -> None:
    """Forget this process's copies of access tokens; the shared cache keeps them."""
    _local_tokens.clear()


def _token_key(appid: str) -> str:
    return f"govwx:wechat:token:{appid}"


def _lock_key(appid: str) -> str:
    return f"govwx:wechat:token-lock:{appid}"


def _read_shared(appid: str) -> _Token | None:
    data = cache.get(_token_key(appid))
    if not isinstance(data, dict):
        return None
    try:
        return _Token(str(data["value"]), float(data["expires_at"]), float(data["refresh_at"]))
    except (KeyError, TypeError, ValueError):
        return None


def _write_shared(appid: str, token: _Token, expires_in: int) -> None:
    # A plain dict, not the dataclass: the cached value must survive a deploy that
    # changes this module while other processes still read it.
    cache.set(
        _token_key(appid),
        {"value": token.value, "expires_at": token.expires_at, "refresh_at": token.refresh_at},
        timeout=expires_in,
    )


def _remember(appid: str, token: _Token, now: float) -> None:
    _local_tokens[appid] = (token, min(now + LOCAL_TTL, token.refresh_at))


# ------------------------------------------------------------------ messages

# msgtype -> keys its payload must carry (developers.weixin.qq.com, api_sendcustommessage)
CUSTOM_MESSAGE_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("content",),
    "image": ("media_id",),
    "voice": ("media_id",),
    "video": ("media_id",),
    "music": ("musicurl", "hqmusicurl", "thumb_media_id"),
    "news": ("articles",),
    "mpnews": ("media_id",),
    "mpnewsarticle": ("article_id",),
    "msgmenu": ("list",),
    "miniprogrampage": ("title", "appid", "pagepath", "thumb_media_id"),
    "wxcard": ("card_id",),
}


def custom_message_body(
    openid: str, msgtype: str, payload: Mapping[str, Any], *, kf_account: str | None = None
) -> JSON:
    """The JSON body of a customer-service message; ValueError for a malformed one, so a
    bug fails here and not as an errcode after a round trip."""
    required = CUSTOM_MESSAGE_TYPES.get(msgtype)
    if required is None:
        raise ValueError(f"unknown customer-service msgtype: {msgtype!r}")
    if not openid:
        raise ValueError("openid is required")
    missing = [key for key in required if not payload.get(key)]
    if missing:
        raise ValueError(f"{msgtype} message needs {', '.join(missing)}")
    if msgtype == "news" and (
        not isinstance(payload["articles"], list) or len(payload["articles"]) != 1
    ):
        raise ValueError("a news customer-service message carries exactly one article")
    body: JSON = {"touser": openid, "msgtype": msgtype, msgtype: dict(payload)}
    if kf_account:
        body["customservice"] = {"kf_account": kf_account}
    return body


# ------------------------------------------------------------------ publishing

# msgtype -> keys its content must carry (message/mass/sendall; image as "images")
MASS_MESSAGE_TYPES: dict[str, tuple[str, ...]] = {
    "mpnews": ("media_id",),
    "text": ("content",),
    "image": ("media_ids",),
    "voice": ("media_id",),
    "mpvideo": ("media_id",),
    "wxcard": ("card_id",),
}
MASS_OPENIDS_MIN, MASS_OPENIDS_MAX = 2, 10_000
CLIENTMSGID_MAX_BYTES = 64
MAX_DRAFT_ARTICLES = 8
# freepublish/get's publish_status
PUBLISH_STATUSES: dict[int, str] = {
    0: "成功",
    1: "发布中",
    2: "原创失败",
    3: "常规失败",
    4: "平台审核不通过",
    5: "成功后用户删除所有文章",
    6: "成功后系统封禁所有文章",
}


# ------------------------------------------------------------------ client


class WeChatClient:
    """One account's face of the WeChat API. Cheap to create: all state that matters is
    in the shared cache."""

    def __init__(
        self,
        account: Account,
        *,
        transport: Transport | None = None,
        raw_transport: RawTransport | None = None,
    ) -> None:
        self.appid: str = account.appid
        self._secret: str = account.app_secret
        self._transport: Transport = transport or urllib_transport
        self._raw: RawTransport = raw_transport or urllib_raw_transport

    def __repr__(self) -> str:
        return f"<WeChatClient {self.appid}>"

    # -------------------------------------------------------------- token

    def get_access_token(self) -> str:
        return self._token().value

    def _token(self) -> _Token:
        now = time.time()
        local = _local_tokens.get(self.appid)
        if local is not None and now < local[1]:
            return local[0]
        lock_timeout = self._lock_timeout()
        # Monotonic: a wall-clock jump must neither cut the wait short nor stretch it.
        deadline = time.monotonic() + lock_timeout + 1
        while True:
            token = _read_shared(self.appid)
            now = time.time()
            if token is not None and token.usable(now):
                _remember(self.appid, token, now)
                return token
            owner = uuid.uuid4().hex
            if cache.add(_lock_key(self.appid), owner, timeout=lock_timeout):
                try:
                    return self._refresh(token)
                finally:
                    self._release(owner)
            if token is not None and token.valid(now):
                # Another process is refreshing; until it is done the old token still works.
                return token
            if time.monotonic() >= deadline:
                raise TransportError(
                    "timed out waiting for another process to fetch the access token"
                )
            _pause(LOCK_POLL)

    def _refresh(self, old: _Token | None) -> _Token:
        """Fetch a token while holding the lock."""
        # Another process may have finished a refresh between our read and our lock.
        current = _read_shared(self.appid)
        now = time.time()
        if current is not None and current.usable(now):
            _remember(self.appid, current, now)
            return current
        try:
            token, expires_in = self._fetch()
        except WeChatAPIError as exc:
            if old is not None and old.valid(time.time()):
                # An early refresh failed, but the token in hand works for a while yet;
                # the next call tries again.
                logger.warning("access token refresh for %s failed: %s", self.appid, exc)
                return old
            raise
        _write_shared(self.appid, token, expires_in)
        _remember(self.appid, token, time.time())
        return token

    def _fetch(self) -> tuple[_Token, int]:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": False,
        }
        try:
            data = self._request("POST", "/cgi-bin/stable_token", {}, _encode(body))
        except InvalidCredential as exc:
            # From a token endpoint, "invalid credential" means the secret is wrong;
            # reading it as a stale token would loop.
            raise InvalidAppSecret(exc.errcode, exc.errmsg) from exc
        value = data.get("access_token")
        expires_in = data.get("expires_in")
        if (
            not isinstance(value, str)
            or not value
            or not isinstance(expires_in, int)
            or isinstance(expires_in, bool)
            or expires_in <= 0
        ):
            raise TransportError("stable_token answer has no usable access_token/expires_in")
        fetched_at = time.time()
        # Half the lifetime at least, so a short-lived token is not refetched on every call.
        refresh_in = max(expires_in - REFRESH_MARGIN, expires_in / 2)
        return _Token(value, fetched_at + expires_in, fetched_at + refresh_in), expires_in

    def _release(self, owner: str) -> None:
        # Only our own lock: if the fetch outlived the lock, another process owns it now.
        if cache.get(_lock_key(self.appid)) == owner:
            cache.delete(_lock_key(self.appid))

    def _invalidate(self, failed: str) -> None:
        """Drop a token WeChat refused, unless someone already replaced it: deleting a
        newer token would make every process fetch again for nothing."""
        local = _local_tokens.get(self.appid)
        if local is not None and local[0].value == failed:
            _local_tokens.pop(self.appid, None)
        current = _read_shared(self.appid)
        if current is not None and current.value == failed:
            cache.delete(_token_key(self.appid))

    @staticmethod
    def _lock_timeout() -> int:
        # Longer than one stable_token call may take, so a live holder keeps the lock;
        # short enough that a crashed holder's lock frees itself soon.
        return math.ceil(float(settings.GOVWX_WECHAT_API_TIMEOUT)) + 5

    # -------------------------------------------------------------- requests

    def get(self, path: str, params: Params | None = None) -> JSON:
        return self._with_token("GET", path, params or {}, None)

    def post(self, path: str, json: Mapping[str, Any], params: Params | None = None) -> JSON:
        return self._with_token("POST", path, params or {}, _encode(json))

    def _with_token(self, method: str, path: str, params: Params, body: bytes | None) -> JSON:
        token = self._token().value
        try:
            return self._request(method, path, {**params, "access_token": token}, body)
        except InvalidCredential:
            self._invalidate(token)
        token = self._token().value
        return self._request(method, path, {**params, "access_token": token}, body)

    def _request(self, method: str, path: str, params: Params, body: bytes | None) -> JSON:
        base = str(settings.GOVWX_WECHAT_API_BASE).rstrip("/")
        url = f"{base}/{path.lstrip('/')}"
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        raw = self._transport(method, url, body, float(settings.GOVWX_WECHAT_API_TIMEOUT))
        try:
            data = jsonlib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise TransportError(f"{path}: answer is not JSON") from exc
        if not isinstance(data, dict):
            raise TransportError(f"{path}: answer is not a JSON object")
        _raise_for(data, path)
        return data

    # -------------------------------------------------------------- API

    def create_menu(self, menu: Mapping[str, Any]) -> JSON:
        return self.post("/cgi-bin/menu/create", menu)

    def get_menu(self) -> JSON:
        """The menu as set through the API; MenuNotFound if there is none."""
        return self.get("/cgi-bin/menu/get")

    def delete_menu(self) -> JSON:
        """Delete the default menu; WeChat deletes every conditional menu with it."""
        return self.get("/cgi-bin/menu/delete")

    def add_conditional_menu(self, body: Mapping[str, Any]) -> str:
        """Add a conditional menu ({"button": [...], "matchrule": {"tag_id": "100"}});
        returns the menuid WeChat gave it. A default menu must exist first."""
        data = self.post("/cgi-bin/menu/addconditional", body)
        menuid = data.get("menuid")
        if menuid is None or isinstance(menuid, bool) or str(menuid) == "":
            raise TransportError("menu/addconditional answer has no menuid")
        return str(menuid)

    def delete_conditional_menu(self, menuid: str) -> JSON:
        return self.post("/cgi-bin/menu/delconditional", {"menuid": str(menuid)})

    def get_tags(self) -> list[JSON]:
        """The account's follower tags: [{"id": 100, "name": "…", "count": n}, …]."""
        data = self.get("/cgi-bin/tags/get")
        tags = data.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
            raise TransportError("tags/get answer has no tag list")
        return tags

    def send_custom_message(
        self,
        openid: str,
        msgtype: str,
        payload: Mapping[str, Any],
        *,
        kf_account: str | None = None,
    ) -> JSON:
        """Send a customer-service message, e.g. `("text", {"content": "您好"})`.

        Raises OutsideReplyWindow after 48 h without an interaction, ReplyQuotaUsedUp
        after the window's five messages, UserRefusesMessages, UserBlocked.
        """
        body = custom_message_body(openid, msgtype, payload, kf_account=kf_account)
        return self.post("/cgi-bin/message/custom/send", body)

    def send_template_message(
        self, openid: str, template_id: str, fields: Mapping[str, str], *, url: str = ""
    ) -> JSON:
        """Send a template message (service accounts): reaches a follower outside the
        48-hour window. `fields` maps the template's keys to their values."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "url": url,
            "data": {k: {"value": v} for k, v in fields.items()},
        }
        return self.post("/cgi-bin/message/template/send", body)

    def user_info(self, openid: str, lang: str = "zh_CN") -> JSON:
        return self.get("/cgi-bin/user/info", {"openid": openid, "lang": lang})

    # -------------------------------------------------------------- media

    def get_media(self, media_id: str) -> MediaFile:
        """media/get: a temporary media file (a follower's picture, voice, video). A
        video answers {"video_url"}, which is then downloaded. InvalidMediaId when
        WeChat has no such media (its three days are over)."""
        answer = self._raw_with_token("GET", "/cgi-bin/media/get", {"media_id": media_id})
        data = _json_answer(answer)
        if data is None:
            return MediaFile(answer.body, _mime(answer.content_type), _filename(answer.disposition))
        _raise_for(data, "media/get")
        url = data.get("video_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TransportError("media/get answer is neither a file nor a video_url")
        video = self._raw("GET", url, None, self._timeout(), {})
        if _json_answer(video) is not None:
            raise TransportError("the video_url answered JSON instead of the video")
        return MediaFile(
            video.body, _mime(video.content_type) or "video/mp4", _filename(video.disposition)
        )

    def upload_media(self, kind: str, filename: str, content: bytes, content_type: str) -> str:
        """media/upload: a temporary media file (three days); returns its media_id.
        MediaRefused for a type, format or size WeChat does not take."""
        body, headers = _multipart(filename, content, content_type)
        answer = self._raw_with_token(
            "POST", "/cgi-bin/media/upload", {"type": kind}, body, headers
        )
        data = _json_answer(answer)
        if data is None:
            raise TransportError("media/upload answer is not JSON")
        _raise_for(data, "media/upload")
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise TransportError("media/upload answer has no media_id")
        return media_id

    # -------------------------------------------------------------- material

    def _upload(
        self,
        path: str,
        params: Params,
        filename: str,
        content: bytes,
        content_type: str,
        fields: Mapping[str, str] | None = None,
    ) -> JSON:
        body, headers = _multipart(filename, content, content_type, fields)
        answer = self._raw_with_token("POST", path, params, body, headers)
        data = _json_answer(answer)
        if data is None:
            raise TransportError(f"{path}: answer is not JSON")
        _raise_for(data, path)
        return data

    def add_material(
        self,
        kind: str,
        filename: str,
        content: bytes,
        content_type: str,
        *,
        title: str = "",
        introduction: str = "",
    ) -> tuple[str, str | None]:
        """material/add_material: a permanent image, voice, video or thumb; returns its
        media_id and, for an image, its URL. A video carries `title` and `introduction`.
        MediaRefused for a type, format or size WeChat does not take, MaterialLimitReached
        when the library is full."""
        if kind not in ("image", "voice", "video", "thumb"):
            raise ValueError(f"unknown permanent material type: {kind!r}")
        fields = None
        if kind == "video":
            fields = {
                "description": jsonlib.dumps(
                    {"title": title, "introduction": introduction}, ensure_ascii=False
                )
            }
        data = self._upload(
            "/cgi-bin/material/add_material",
            {"type": kind},
            filename,
            content,
            content_type,
            fields,
        )
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise TransportError("material/add_material answer has no media_id")
        url = data.get("url")
        return media_id, url if isinstance(url, str) and url else None

    def upload_article_image(self, filename: str, content: bytes, content_type: str) -> str:
        """media/uploadimg: a picture (jpg/png, 1 MB at most) for use inside an article's
        content; returns its URL, the only picture address WeChat keeps in articles."""
        data = self._upload("/cgi-bin/media/uploadimg", {}, filename, content, content_type)
        url = data.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TransportError("media/uploadimg answer has no url")
        return url

    def delete_material(self, media_id: str) -> None:
        """material/del_material. MaterialInUse while a menu or auto-reply shows it."""
        self.post("/cgi-bin/material/del_material", {"media_id": media_id})

    def material_count(self) -> dict[str, int]:
        """material/get_materialcount: {"voice_count", "video_count", "image_count",
        "news_count"}."""
        data = self.get("/cgi-bin/material/get_materialcount")
        counts: dict[str, int] = {}
        for key in ("voice_count", "video_count", "image_count", "news_count"):
            value = data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TransportError(f"material/get_materialcount answer has no {key}")
            counts[key] = value
        return counts

    # -------------------------------------------------------------- drafts and publishing

    def add_draft(self, articles: Sequence[Mapping[str, Any]]) -> str:
        """draft/add: one to eight articles ({"title", "author", "digest", "content",
        "content_source_url", "thumb_media_id", "need_open_comment", …}); returns the
        draft's media_id. ArticleRefused for a field WeChat does not take."""
        if not 1 <= len(articles) <= MAX_DRAFT_ARTICLES:
            raise ValueError("a draft holds one to eight articles")
        data = self.post("/cgi-bin/draft/add", {"articles": [dict(a) for a in articles]})
        media_id = data.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise TransportError("draft/add answer has no media_id")
        return media_id

    def update_draft(self, media_id: str, index: int, article: Mapping[str, Any]) -> None:
        """draft/update: replace the article at `index` (0 for the first)."""
        self.post(
            "/cgi-bin/draft/update",
            {"media_id": media_id, "index": index, "articles": dict(article)},
        )

    def delete_draft(self, media_id: str) -> None:
        self.post("/cgi-bin/draft/delete", {"media_id": media_id})

    def submit_publish(self, media_id: str) -> tuple[str, str]:
        """freepublish/submit a draft; returns (publish_id, msg_data_id). Success only
        queues the task: its end comes as PUBLISHJOBFINISH, or ask publish_status."""
        data = self.post("/cgi-bin/freepublish/submit", {"media_id": media_id})
        publish_id = _id_text(data.get("publish_id"))
        if not publish_id:
            raise TransportError("freepublish/submit answer has no publish_id")
        return publish_id, _id_text(data.get("msg_data_id"))

    def publish_status(self, publish_id: str) -> JSON:
        """freepublish/get: {"publish_id", "publish_status" (PUBLISH_STATUSES), and on
        success "article_id" and "article_detail": {"count", "item": [{"idx",
        "article_url"}]}, on failure "fail_idx"}. InvalidPublishId for an unknown task."""
        data = self.post("/cgi-bin/freepublish/get", {"publish_id": str(publish_id)})
        status = data.get("publish_status")
        if isinstance(status, bool) or not isinstance(status, int):
            raise TransportError("freepublish/get answer has no publish_status")
        return data

    def delete_published(self, article_id: str, index: int = 0) -> None:
        """freepublish/delete: the article at `index` (1 for the first), or all with 0."""
        self.post("/cgi-bin/freepublish/delete", {"article_id": article_id, "index": index})

    def published_articles(
        self, *, offset: int = 0, count: int = 20, no_content: bool = True
    ) -> list[JSON]:
        """freepublish/batchget: what the account published (发表; not mass sends), newest
        first: [{"article_id", "content": {"news_item": [...]}, "update_time"}, …]."""
        if not 1 <= count <= 20 or offset < 0:
            raise ValueError("freepublish/batchget takes count 1 to 20 from offset 0 on")
        data = self.post(
            "/cgi-bin/freepublish/batchget",
            {"offset": offset, "count": count, "no_content": 1 if no_content else 0},
        )
        items = data.get("item", [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TransportError("freepublish/batchget answer has no item list")
        return items

    # -------------------------------------------------------------- mass send

    def mass_send_all(
        self,
        msgtype: str,
        content: Mapping[str, Any],
        *,
        tag_id: int | None = None,
        send_ignore_reprint: bool = False,
        clientmsgid: str | None = None,
    ) -> JSON:
        """message/mass/sendall to every follower, or to a tag's. `content` is the
        msgtype's object: {"media_id": draft} for mpnews, {"content": "…"} for text,
        {"media_ids": [...]} for image. Returns WeChat's answer: "msg_id" (an int) and,
        for an article message, "msg_data_id" (the key of its comments and statistics).
        MassQuotaUsedUp when the account's quota is spent; DuplicateMassSend (with its
        msg_id) when the same send was made within 24 hours."""
        audience: JSON = {"is_to_all": tag_id is None}
        if tag_id is not None:
            audience["tag_id"] = tag_id
        body = _mass_body(msgtype, content, send_ignore_reprint, clientmsgid)
        return _mass_sent(self.post("/cgi-bin/message/mass/sendall", {"filter": audience, **body}))

    def mass_send_openids(
        self,
        openids: Sequence[str],
        msgtype: str,
        content: Mapping[str, Any],
        *,
        send_ignore_reprint: bool = False,
        clientmsgid: str | None = None,
    ) -> JSON:
        """message/mass/send to 2 to 10 000 OpenIDs (verified service accounts only:
        Unauthorized otherwise); answers as mass_send_all."""
        unique = list(dict.fromkeys(openids))
        if not MASS_OPENIDS_MIN <= len(unique) <= MASS_OPENIDS_MAX:
            raise ValueError("message/mass/send takes 2 to 10 000 OpenIDs")
        body = _mass_body(msgtype, content, send_ignore_reprint, clientmsgid)
        return _mass_sent(self.post("/cgi-bin/message/mass/send", {"touser": unique, **body}))

    def mass_preview(self, openid: str, msgtype: str, content: Mapping[str, Any]) -> int:
        """message/mass/preview to one follower; returns the preview's msg_id."""
        body = _mass_body(msgtype, content, False, None)
        body.pop("send_ignore_reprint")
        data = self.post("/cgi-bin/message/mass/preview", {"touser": openid, **body})
        return int(_mass_sent(data)["msg_id"])

    def mass_status(self, msg_id: int | str) -> str:
        """message/mass/get: SEND_SUCCESS, SENDING, SEND_FAIL or DELETE."""
        data = self.post("/cgi-bin/message/mass/get", {"msg_id": _msg_id(msg_id)})
        status = data.get("msg_status")
        if not isinstance(status, str) or not status:
            raise TransportError("message/mass/get answer has no msg_status")
        return status

    def mass_delete(self, msg_id: int | str, article_idx: int = 0) -> None:
        """message/mass/delete an article message: the article at `article_idx` (1 for the
        first), or all with 0. Its pages stop working; the cards stay in the chats."""
        self.post(
            "/cgi-bin/message/mass/delete",
            {"msg_id": _msg_id(msg_id), "article_idx": article_idx},
        )

    def _raw_with_token(
        self,
        method: str,
        path: str,
        params: Params,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawAnswer:
        base = str(settings.GOVWX_WECHAT_API_BASE).rstrip("/")
        for attempt in (1, 2):
            token = self._token().value
            query = urllib.parse.urlencode({**params, "access_token": token})
            url = f"{base}/{path.lstrip('/')}?{query}"
            answer = self._raw(method, url, body, self._timeout(), headers or {})
            data = _json_answer(answer)
            code = data.get("errcode") if data is not None else None
            if attempt == 1 and code in CREDENTIAL_ERRCODES:
                self._invalidate(token)
                continue
            return answer
        raise AssertionError("unreachable")

    @staticmethod
    def _timeout() -> float:
        return float(settings.GOVWX_WECHAT_API_TIMEOUT)


def _mime(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _json_answer(answer: RawAnswer) -> JSON | None:
    """The answer's JSON object when it is one (an error, or a video's URL), else None."""
    head = answer.body[:1]
    if head != b"{" and _mime(answer.content_type) not in ("application/json", "text/json"):
        return None
    try:
        data = jsonlib.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _raise_for(data: JSON, what: str) -> None:
    errcode = data.get("errcode", 0)
    if errcode:
        try:
            code = int(errcode)
        except (TypeError, ValueError) as exc:
            raise TransportError(f"{what}: errcode {errcode!r} is not a number") from exc
        raise error_for(code, str(data.get("errmsg", "")), data)


def _encode(payload: Mapping[str, Any]) -> bytes:
    # WeChat wants Chinese as raw UTF-8: some endpoints keep \u escapes literally.
    return jsonlib.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _multipart(
    filename: str, content: bytes, content_type: str, fields: Mapping[str, str] | None = None
) -> tuple[bytes, dict[str, str]]:
    """A form with the file in the field `media` (as WeChat's upload APIs take it) and
    any text fields beside it."""
    boundary = "govwx" + uuid.uuid4().hex
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "") or "media"
    parts: list[bytes] = []
    for name, value in (fields or {}).items():
        parts += [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode(),
            value.encode("utf-8"),
            b"\r\n",
        ]
    parts += [
        f"--{boundary}\r\n".encode(),
        (
            f'Content-Disposition: form-data; name="media"; filename="{safe_name}"; '
            f"filelength={len(content)}\r\n"
        ).encode(),
        f"Content-Type: {content_type}\r\n\r\n".encode(),
        content,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _id_text(value: Any) -> str:
    """An id WeChat answers as a number in one place and a string in another."""
    if isinstance(value, bool) or value is None:
        return ""
    return str(value) if isinstance(value, int | str) else ""


def _mass_body(
    msgtype: str, content: Mapping[str, Any], send_ignore_reprint: bool, clientmsgid: str | None
) -> JSON:
    required = MASS_MESSAGE_TYPES.get(msgtype)
    if required is None:
        raise ValueError(f"unknown mass-send msgtype: {msgtype!r}")
    missing = [key for key in required if not content.get(key)]
    if missing:
        raise ValueError(f"{msgtype} mass message needs {', '.join(missing)}")
    key = "images" if msgtype == "image" else msgtype
    body: JSON = {
        "msgtype": msgtype,
        key: dict(content),
        "send_ignore_reprint": 1 if send_ignore_reprint else 0,
    }
    if clientmsgid is not None:
        if not clientmsgid or len(clientmsgid.encode()) > CLIENTMSGID_MAX_BYTES:
            raise ValueError("clientmsgid is 1 to 64 bytes")
        body["clientmsgid"] = clientmsgid
    return body


def _mass_sent(data: JSON) -> JSON:
    """A mass send's answer, its msg_id an int (WeChat's numbers may come as strings)."""
    msg_id = data.get("msg_id")
    if isinstance(msg_id, str) and msg_id.isdigit():
        msg_id = int(msg_id)
    if isinstance(msg_id, bool) or not isinstance(msg_id, int):
        raise TransportError("mass-send answer has no msg_id")
    return {**data, "msg_id": msg_id}


def _msg_id(msg_id: int | str) -> int | str:
    """A msg_id as WeChat takes it: a number (one kept as text is turned back)."""
    return int(msg_id) if isinstance(msg_id, str) and msg_id.isdigit() else msg_id
