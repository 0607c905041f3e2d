"""The platform side of the callback channel: build, sign, encrypt, POST, read the reply.

This module does no database work, so it can be exercised against any HTTP server and so
that no transaction is held open while an account's server thinks (which may itself call
the sandbox's API).
"""

from __future__ import annotations

import http.client
import secrets
import string
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_noop

from .crypto import CryptoError, MessageCrypto, signature, signature_matches
from .xmltools import Element, Node, XMLError, document, parse

ATTEMPTS = 3
TIMEOUT = 5.0
# Answer types WeChat shows after a follower's own message are limited to one article.
USER_MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link"}
UNAVAILABLE = gettext_noop("该公众号暂时无法提供服务，请稍后再试")


@dataclass(frozen=True)
class Target:
    """What the platform knows about an account's server (the MP backend's 服务器配置)."""

    appid: str
    token: str
    aes_key: str
    mode: str  # plaintext | compatible | safe
    original_id: str
    url: str


@dataclass
class Delivery:
    """The outcome of one callback, retries included."""

    status: int | None = None
    attempts: int = 0
    elapsed_ms: int = 0
    reply: dict[str, Any] | None = None
    error: str | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "elapsed_ms": self.elapsed_ms,
            "reply": self.reply,
            "error": self.error,
        }


def new_msg_id() -> int:
    """A 64-bit MsgId in the range WeChat's look like (19 or 20 digits)."""
    return 10**18 + secrets.randbelow(2**63 - 10**18)


def new_nonce() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(10))


# ------------------------------------------------------------------ inbound messages


def message_fields(
    kind: str, data: dict[str, Any], *, to: str, openid: str, create_time: int, msg_id: int
) -> tuple[str, list[Element]]:
    """Return (MsgType or Event, XML fields) for a follower action.

    `kind` is a driver type: text, image, voice, location, link (messages) or subscribe,
    unsubscribe, click, view, view_miniprogram, location_select, scancode_push,
    scancode_waitmsg (events).
    """
    head: list[Element] = [
        ("ToUserName", to),
        ("FromUserName", openid),
        ("CreateTime", create_time),
    ]
    if kind == "text":
        body: list[Element] = [("MsgType", "text"), ("Content", data["content"])]
    elif kind == "image":
        body = [("MsgType", "image"), ("PicUrl", data["pic_url"]), ("MediaId", data["media_id"])]
    elif kind == "voice":
        body = [("MsgType", "voice"), ("MediaId", data["media_id"]), ("Format", data["format"])]
        if data.get("recognition"):
            body.append(("Recognition", data["recognition"]))
    elif kind in ("video", "shortvideo"):
        body = [
            ("MsgType", kind),
            ("MediaId", data["media_id"]),
            ("ThumbMediaId", data["thumb_media_id"]),
        ]
    elif kind == "location":
        body = [
            ("MsgType", "location"),
            ("Location_X", data["x"]),
            ("Location_Y", data["y"]),
            ("Scale", data["scale"]),
            ("Label", data["label"]),
        ]
    elif kind == "link":
        body = [
            ("MsgType", "link"),
            ("Title", data["title"]),
            ("Description", data["description"]),
            ("Url", data["url"]),
        ]
    else:
        return _event_fields(kind, data, head)
    return body[0][1], [*head, *body, ("MsgId", msg_id)]  # type: ignore[return-value]


def _decimal(value: Any) -> str:
    """A coordinate as WeChat writes it: 34.26, never 34.260000000000005 or 1e-05."""
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def _event_fields(
    kind: str, data: dict[str, Any], head: list[Element]
) -> tuple[str, list[Element]]:
    if kind == "subscribe":
        fields: list[Element] = [("MsgType", "event"), ("Event", "subscribe")]
        if data.get("scene"):
            fields += [("EventKey", "qrscene_" + data["scene"]), ("Ticket", data["ticket"])]
        return "subscribe", [*head, *fields]
    if kind == "unsubscribe":
        return "unsubscribe", [*head, ("MsgType", "event"), ("Event", "unsubscribe")]
    if kind == "click":
        return "CLICK", [*head, ("MsgType", "event"), ("Event", "CLICK"), ("EventKey", data["key"])]
    if kind in ("view", "view_miniprogram"):
        # VIEW carries the URL, view_miniprogram the page path; MenuId names the
        # conditional menu the button was on (WeChat omits it for the default menu).
        name, value = ("VIEW", data["url"]) if kind == "view" else (kind, data["pagepath"])
        fields = [("MsgType", "event"), ("Event", name), ("EventKey", value)]
        if data.get("menu_id"):
            fields.append(("MenuId", str(data["menu_id"])))
        return name, [*head, *fields]
    if kind == "location_select":
        # WeChat sends every SendLocationInfo field as text (CDATA), coordinates too.
        info: dict[str, Any] = {
            "Location_X": _decimal(data["x"]),
            "Location_Y": _decimal(data["y"]),
            "Scale": str(data["scale"]),
            "Label": data["label"],
            "Poiname": data["poiname"],
        }
        fields = [("MsgType", "event"), ("Event", kind), ("EventKey", data["key"])]
        return kind, [*head, *fields, ("SendLocationInfo", info)]
    if kind in ("scancode_push", "scancode_waitmsg"):
        info = {"ScanType": "qrcode", "ScanResult": data["scan_result"]}
        fields = [("MsgType", "event"), ("Event", kind), ("EventKey", data["key"])]
        return kind, [*head, *fields, ("ScanCodeInfo", info)]  # type: ignore[list-item]
    raise ValueError(f"unknown message kind {kind!r}")


# ------------------------------------------------------------------ sealing


def seal(
    target: Target, xml: str, fields: list[Element], timestamp: str, nonce: str, openid: str
) -> tuple[str, bytes]:
    """Return (query string, body) signed and encrypted as the account's mode requires."""
    query = {
        "signature": signature(target.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }
    if target.mode == "plaintext":
        return urllib.parse.urlencode(query), xml.encode()
    encrypted = MessageCrypto(target.token, target.aes_key, target.appid).encrypt(xml)
    query["encrypt_type"] = "aes"
    query["msg_signature"] = signature(target.token, timestamp, nonce, encrypted)
    if target.mode == "safe":
        body = document([("ToUserName", target.original_id), ("Encrypt", encrypted)])
    else:
        body = document([*fields, ("Encrypt", encrypted)])
    return urllib.parse.urlencode(query), body.encode()


# ------------------------------------------------------------------ HTTP


def _post(url: str, query: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    conn_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_class(parts.netloc, timeout=timeout)
    path = (parts.path or "/") + "?" + "&".join(p for p in (parts.query, query) if p)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "User-Agent": "Mozilla/4.0 (govwx sandbox)",
            },
        )
        response = conn.getresponse()
        return response.status, response.read(1024 * 1024 + 1)
    finally:
        conn.close()


def deliver(
    target: Target,
    kind: str,
    fields: list[Element],
    *,
    openid: str,
    create_time: int,
    msg_type: str,
    timeout: float = TIMEOUT,
    attempts: int = ATTEMPTS,
) -> Delivery:
    """POST one message to the account's server the way WeChat does, retrying on failure.

    Every attempt carries the same body (same MsgId and CreateTime), as WeChat's do; a
    timeout, a connection error, a non-200 status or an unreadable reply cause a retry.
    """
    result = Delivery()
    if not target.url:
        result.error = "no callback URL configured"
        return result
    xml = document(fields)
    timestamp = str(create_time)
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        nonce = new_nonce()
        query, body = seal(target, xml, fields, timestamp, nonce, openid)
        result.attempts = attempt
        try:
            status, raw = _post(target.url, query, body, timeout)
        except TimeoutError:
            result.status, result.error = None, f"timeout after {timeout:g} s"
        except (OSError, http.client.HTTPException) as exc:
            result.status, result.error = None, f"connection failed: {exc}"
        else:
            result.status = status
            if status != 200:
                result.error = f"HTTP {status}"
            else:
                try:
                    result.reply = open_reply(target, raw, openid=openid, answering=msg_type)
                    result.error = None
                except ReplyError as exc:
                    result.error = str(exc)
        result.log.append({"attempt": attempt, "status": result.status, "error": result.error})
        if result.error is None:
            break
    result.elapsed_ms = int((time.monotonic() - started) * 1000)
    return result


# ------------------------------------------------------------------ replies


class ReplyError(Exception):
    """A reply WeChat would not show (the follower sees UNAVAILABLE instead)."""


def open_reply(target: Target, raw: bytes, *, openid: str, answering: str) -> dict[str, Any] | None:
    """Check, decrypt and parse a passive reply; None for '' or 'success'."""
    if raw.strip() in (b"", b"success"):
        return None
    try:
        root = parse(raw)
    except XMLError as exc:
        raise ReplyError(f"reply is not valid XML: {exc}") from exc
    if root.child("Encrypt") is not None:
        if target.mode == "plaintext":
            raise ReplyError("encrypted reply in plaintext mode")
        encrypted, ts, nonce = root.get("Encrypt"), root.get("TimeStamp"), root.get("Nonce")
        if not signature_matches(root.get("MsgSignature"), target.token, ts, nonce, encrypted):
            raise ReplyError("reply MsgSignature does not match")
        try:
            inner = MessageCrypto(target.token, target.aes_key, target.appid).decrypt(encrypted)
            root = parse(inner)
        except (CryptoError, XMLError) as exc:
            raise ReplyError(f"reply cannot be decrypted: {exc}") from exc
    elif target.mode == "safe":
        raise ReplyError("plaintext reply in safe mode")
    if root.get("ToUserName") != openid:
        raise ReplyError("reply ToUserName is not the follower's OpenID")
    if root.get("FromUserName") != target.original_id:
        raise ReplyError("reply FromUserName is not the account's original ID")
    return reply_payload(root, answering)


def _sub(root: Node, tag: str) -> Node:
    node = root.child(tag)
    if node is None:
        raise ReplyError(f"reply lacks <{tag}>")
    return node


def reply_payload(root: Node, answering: str) -> dict[str, Any]:
    """Turn passive-reply XML into the driver's JSON shape (reference §1.8)."""
    msg_type = root.get("MsgType")
    if msg_type == "text":
        return {"msg_type": "text", "content": root.get("Content")}
    if msg_type in ("image", "voice"):
        node = _sub(root, msg_type.capitalize())
        return {"msg_type": msg_type, "media_id": node.get("MediaId")}
    if msg_type == "video":
        node = _sub(root, "Video")
        return {
            "msg_type": "video",
            "media_id": node.get("MediaId"),
            "title": node.get("Title"),
            "description": node.get("Description"),
        }
    if msg_type == "music":
        node = _sub(root, "Music")
        return {
            "msg_type": "music",
            "title": node.get("Title"),
            "description": node.get("Description"),
            "music_url": node.get("MusicUrl"),
            "hq_music_url": node.get("HQMusicUrl"),
            "thumb_media_id": node.get("ThumbMediaId"),
        }
    if msg_type == "news":
        items = _sub(root, "Articles").all("item")
        if not items:
            raise ReplyError("news reply without articles")
        limit = 1 if answering in USER_MESSAGE_TYPES else 8  # extra items are dropped
        articles = [
            {
                "title": i.get("Title"),
                "description": i.get("Description"),
                "pic_url": i.get("PicUrl"),
                "url": i.get("Url"),
            }
            for i in items[:limit]
        ]
        return {"msg_type": "news", "articles": articles}
    if msg_type == "transfer_customer_service":
        info = root.child("TransInfo")
        return {"msg_type": msg_type, "kf_account": info.get("KfAccount") if info else ""}
    raise ReplyError(f"unknown reply MsgType {msg_type!r}")


# ------------------------------------------------------------------ URL verification


def verify_url(target: Target, timeout: float = TIMEOUT) -> str | None:
    """Do the MP backend's GET check; return None when the server echoes, else the problem."""
    timestamp, nonce = str(int(time.time())), new_nonce()
    echostr = str(new_msg_id())
    query = urllib.parse.urlencode(
        {
            "signature": signature(target.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
    )
    parts = urllib.parse.urlsplit(target.url)
    conn_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_class(parts.netloc, timeout=timeout)
    try:
        conn.request(
            "GET", (parts.path or "/") + "?" + "&".join(p for p in (parts.query, query) if p)
        )
        response = conn.getresponse()
        status, body = response.status, response.read(4096)
    except (OSError, http.client.HTTPException) as exc:
        return f"connection failed: {exc}"
    finally:
        conn.close()
    if status != 200:
        return f"HTTP {status}"
    if body.strip() != echostr.encode():
        return "token verification failed: the server did not echo echostr"
    return None
