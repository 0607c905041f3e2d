"""The WeChat callback protocol: signatures, safe-mode AES, hardened XML, typed messages
and passive replies.

Our own small code (wechatpy is only a peer in the tests). Hardened where the common
libraries are not: constant-time signature comparison, strict PKCS#7/32 padding, length
and AppID checks, and an XML parser that refuses DTDs and entities before anything is
expanded.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ------------------------------------------------------------------ errors


class ProtocolError(Exception):
    """A callback that breaks the protocol. `status` is the HTTP status to answer."""

    status = 400


class SignatureError(ProtocolError):
    status = 403


class AppIdMismatch(ProtocolError):
    status = 403


class TimestampError(ProtocolError):
    status = 403


class XMLError(ProtocolError):
    status = 400


class DecryptError(ProtocolError):
    status = 400


# ------------------------------------------------------------------ signatures


def sign(*parts: str) -> str:
    """SHA-1 over the sorted parts joined with nothing: both URL and message signatures."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(expected_parts: tuple[str, ...], signature: str | None) -> None:
    if not signature or not hmac.compare_digest(sign(*expected_parts), signature):
        raise SignatureError("bad signature")


# ------------------------------------------------------------------ AES (WXBizMsgCrypt)

BLOCK = 32


class AESCipher:
    """AES-256-CBC with IV = key[:16] and PKCS#7 padding to 32-byte blocks."""

    __slots__ = ("appid", "_appid_bytes", "_cipher")

    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        self.appid = appid
        self._appid_bytes = appid.encode()
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def encrypt(self, xml: bytes, random16: bytes | None = None) -> str:
        rnd = random16 if random16 is not None else os.urandom(16)
        plain = rnd + struct.pack(">I", len(xml)) + xml + self._appid_bytes
        n = BLOCK - len(plain) % BLOCK
        plain += bytes([n]) * n
        enc = self._cipher.encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def decrypt(self, encrypted: str) -> bytes:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("Encrypt is not base64") from exc
        if not data or len(data) % 16:
            raise DecryptError("ciphertext length is not a multiple of 16")
        dec = self._cipher.decryptor()
        plain = dec.update(data) + dec.finalize()
        n = plain[-1]
        if not 1 <= n <= BLOCK or n > len(plain) or plain[-n:] != bytes([n]) * n:
            raise DecryptError("bad padding")
        plain = plain[:-n]
        if len(plain) < 20:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if length > len(plain) - 20:
            raise DecryptError("length field exceeds the plaintext")
        xml = plain[20 : 20 + length]
        if not hmac.compare_digest(plain[20 + length :], self._appid_bytes):
            raise AppIdMismatch("decrypted AppID is not this account's")
        return xml


# ------------------------------------------------------------------ hardened XML

MAX_DEPTH = 8
MAX_ELEMENTS = 2000


def parse_xml(body: bytes) -> dict[str, Any]:
    """Parse a callback XML document into nested dicts.

    A leaf element becomes its text; an element with children a dict; repeated
    siblings a list. DOCTYPE, entity declarations and processing of external entities
    are refused before expansion (XXE, billion laughs).
    """
    parser = expat.ParserCreate("utf-8")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[tuple[str, dict[str, Any], list[str]]] = []
    root: dict[str, Any] = {}
    count = 0

    def refuse(*_: Any) -> None:
        raise XMLError("DTDs and entities are not allowed")

    def start(name: str, attrs: Any) -> None:
        nonlocal count
        count += 1
        if len(stack) >= MAX_DEPTH or count > MAX_ELEMENTS:
            raise XMLError("XML too deep or too large")
        stack.append((name, {}, []))

    def end(name: str) -> None:
        _, children, text = stack.pop()
        value: Any = children if children else "".join(text)
        parent = stack[-1][1] if stack else root
        if name in parent:
            prev = parent[name]
            if isinstance(prev, list):
                prev.append(value)
            else:
                parent[name] = [prev, value]
        else:
            parent[name] = value

    def chars(data: str) -> None:
        if stack:
            stack[-1][2].append(data)

    parser.StartDoctypeDeclHandler = refuse  # type: ignore[assignment]
    parser.EntityDeclHandler = refuse  # type: ignore[assignment]
    parser.UnparsedEntityDeclHandler = refuse  # type: ignore[assignment]
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise XMLError(f"malformed XML: {exc}") from exc
    except UnicodeDecodeError as exc:  # pragma: no cover - expat reports bad UTF-8 itself
        raise XMLError("invalid UTF-8") from exc
    if len(root) != 1:
        raise XMLError("no root element")
    doc = next(iter(root.values()))
    if not isinstance(doc, dict):
        raise XMLError("root element has no fields")
    return doc


# ------------------------------------------------------------------ typed messages


def _s(d: dict[str, Any], key: str) -> str:
    v = d.get(key, "")
    return v if isinstance(v, str) else ""


def _d(d: dict[str, Any], key: str) -> dict[str, Any]:
    v = d.get(key)
    return v if isinstance(v, dict) else {}


def _int(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v)
    return None


def _float(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    try:
        return float(v) if isinstance(v, str) and v else None
    except ValueError:
        return None


def _items(v: Any) -> list[Any]:
    if v is None or v == "":
        return []
    return v if isinstance(v, list) else [v]


@dataclass
class Message:
    """Fields common to every inbound message and event."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    msg_id: int | None
    raw: dict[str, Any] = field(repr=False)

    kind = "unknown"

    @property
    def event(self) -> str:
        return ""

    @property
    def dedup_key(self) -> str:
        """WeChat's retry identity: MsgId for messages, sender + time for events.

        The sender and time are kept beside MsgId (MsgIds have collided across users),
        and the event name and key beside the time (a follow and its LOCATION event may
        share a second).
        """
        if self.msg_id is not None and self.msg_type != "event":
            return f"m:{self.msg_id}:{self.from_user}:{self.create_time}"
        return f"e:{self.from_user}:{self.create_time}:{self.event}:{_s(self.raw, 'EventKey')}"


@dataclass
class TextMessage(Message):
    content: str = ""
    kind = "text"


@dataclass
class ImageMessage(Message):
    pic_url: str = ""
    media_id: str = ""
    kind = "image"


@dataclass
class VoiceMessage(Message):
    media_id: str = ""
    format: str = ""
    recognition: str = ""
    kind = "voice"


@dataclass
class VideoMessage(Message):
    media_id: str = ""
    thumb_media_id: str = ""
    kind = "video"


@dataclass
class LocationMessage(Message):
    latitude: float | None = None
    longitude: float | None = None
    scale: int | None = None
    label: str = ""
    kind = "location"


@dataclass
class LinkMessage(Message):
    title: str = ""
    description: str = ""
    url: str = ""
    kind = "link"


@dataclass
class UnknownMessage(Message):
    kind = "unknown"


@dataclass
class Event(Message):
    """An event push. Subclasses add typed fields; unknown events stay `Event`."""

    name: str = ""
    event_key: str = ""
    kind = "event"

    @property
    def event(self) -> str:
        return self.name


@dataclass
class SubscribeEvent(Event):
    scene: str = ""
    ticket: str = ""
    kind = "subscribe"


@dataclass
class UnsubscribeEvent(Event):
    kind = "unsubscribe"


@dataclass
class ScanEvent(Event):
    ticket: str = ""
    kind = "scan"


@dataclass
class LocationEvent(Event):
    latitude: float | None = None
    longitude: float | None = None
    precision: float | None = None
    kind = "location_event"


@dataclass
class ClickEvent(Event):
    kind = "click"


@dataclass
class ViewEvent(Event):
    menu_id: str = ""
    kind = "view"


@dataclass
class ScanCodeEvent(Event):
    scan_type: str = ""
    scan_result: str = ""
    kind = "scancode"


@dataclass
class PicEvent(Event):
    count: int = 0
    pic_md5s: list[str] = field(default_factory=list)
    kind = "pic"


@dataclass
class LocationSelectEvent(Event):
    latitude: float | None = None
    longitude: float | None = None
    scale: int | None = None
    label: str = ""
    poiname: str = ""
    kind = "location_select"


@dataclass
class TemplateSendJobFinishEvent(Event):
    job_msg_id: int | None = None
    status: str = ""
    kind = "template_finish"


@dataclass
class MassSendJobFinishEvent(Event):
    job_msg_id: int | None = None
    status: str = ""
    total_count: int | None = None
    filter_count: int | None = None
    sent_count: int | None = None
    error_count: int | None = None
    kind = "masssend_finish"

    @property
    def dedup_key(self) -> str:
        # One sender reports every job's end: jobs ending in one second differ by id only.
        return f"{super().dedup_key}:{self.job_msg_id}"


@dataclass
class PublishJobFinishEvent(Event):
    publish_id: str = ""
    publish_status: int | None = None
    article_id: str = ""
    article_urls: list[str] = field(default_factory=list)
    fail_idx: list[str] = field(default_factory=list)
    kind = "publish_finish"

    @property
    def dedup_key(self) -> str:
        return f"{super().dedup_key}:{self.publish_id}"


@dataclass
class KfSessionEvent(Event):
    kf_account: str = ""
    from_kf_account: str = ""
    to_kf_account: str = ""
    kind = "kf_session"


@dataclass
class SubscribeMsgEvent(Event):
    """subscribe_msg_popup_event / _change_event / _sent_event: a list of items."""

    items: list[dict[str, Any]] = field(default_factory=list)
    kind = "subscribe_msg"


MENU_CODE_EVENTS = {"scancode_push", "scancode_waitmsg"}
PIC_EVENTS = {"pic_sysphoto", "pic_photo_or_album", "pic_weixin"}
KF_EVENTS = {"kf_create_session", "kf_close_session", "kf_switch_session"}
SUBSCRIBE_MSG_EVENTS = {
    "subscribe_msg_popup_event",
    "subscribe_msg_change_event",
    "subscribe_msg_sent_event",
}


def _event(base: dict[str, Any], d: dict[str, Any]) -> Event:
    name = _s(d, "Event")
    low = name.lower()
    key = _s(d, "EventKey")
    common = dict(base, name=name, event_key=key)
    if low == "subscribe":
        scene = key[len("qrscene_") :] if key.startswith("qrscene_") else ""
        return SubscribeEvent(**common, scene=scene, ticket=_s(d, "Ticket"))
    if low == "unsubscribe":
        return UnsubscribeEvent(**common)
    if low == "scan":
        return ScanEvent(**common, ticket=_s(d, "Ticket"))
    if low == "location":
        return LocationEvent(
            **common,
            latitude=_float(d, "Latitude"),
            longitude=_float(d, "Longitude"),
            precision=_float(d, "Precision"),
        )
    if low == "click":
        return ClickEvent(**common)
    if low in {"view", "view_miniprogram"}:
        return ViewEvent(**common, menu_id=_s(d, "MenuId"))
    if low in MENU_CODE_EVENTS:
        info = _d(d, "ScanCodeInfo")
        return ScanCodeEvent(
            **common, scan_type=_s(info, "ScanType"), scan_result=_s(info, "ScanResult")
        )
    if low in PIC_EVENTS:
        info = _d(d, "SendPicsInfo")
        pics = _d(info, "PicList")
        md5s = [_s(i, "PicMd5Sum") for i in _items(pics.get("item")) if isinstance(i, dict)]
        return PicEvent(**common, count=_int(info, "Count") or 0, pic_md5s=md5s)
    if low == "location_select":
        info = _d(d, "SendLocationInfo")
        return LocationSelectEvent(
            **common,
            latitude=_float(info, "Location_X"),
            longitude=_float(info, "Location_Y"),
            scale=_int(info, "Scale"),
            label=_s(info, "Label"),
            poiname=_s(info, "Poiname"),
        )
    if low == "templatesendjobfinish":
        return TemplateSendJobFinishEvent(
            **common, job_msg_id=_int(d, "MsgID"), status=_s(d, "Status")
        )
    if low == "masssendjobfinish":
        return MassSendJobFinishEvent(
            **common,
            job_msg_id=_int(d, "MsgID"),
            status=_s(d, "Status"),
            total_count=_int(d, "TotalCount"),
            filter_count=_int(d, "FilterCount"),
            sent_count=_int(d, "SentCount"),
            error_count=_int(d, "ErrorCount"),
        )
    if low == "publishjobfinish":
        info = _d(d, "PublishEventInfo")
        detail = _d(info, "article_detail")
        urls = [_s(i, "article_url") for i in _items(detail.get("item")) if isinstance(i, dict)]
        fail = info.get("fail_idx")
        return PublishJobFinishEvent(
            **common,
            publish_id=_s(info, "publish_id"),
            publish_status=_int(info, "publish_status"),
            article_id=_s(info, "article_id"),
            article_urls=urls,
            fail_idx=[x for x in _items(fail) if isinstance(x, str)],
        )
    if low in KF_EVENTS:
        return KfSessionEvent(
            **common,
            kf_account=_s(d, "KfAccount"),
            from_kf_account=_s(d, "FromKfAccount"),
            to_kf_account=_s(d, "ToKfAccount"),
        )
    if low in SUBSCRIBE_MSG_EVENTS:
        # the container element is named after the event, e.g. SubscribeMsgPopupEvent
        items: list[dict[str, Any]] = []
        for v in d.values():
            if isinstance(v, dict) and "List" in v:
                items = [i for i in _items(v["List"]) if isinstance(i, dict)]
        return SubscribeMsgEvent(**common, items=items)
    return Event(**common)


def to_message(d: dict[str, Any]) -> Message:
    """Turn a parsed callback document into its typed message."""
    msg_type = _s(d, "MsgType")
    base: dict[str, Any] = {
        "to_user": _s(d, "ToUserName"),
        "from_user": _s(d, "FromUserName"),
        "create_time": _int(d, "CreateTime") or 0,
        "msg_type": msg_type,
        "msg_id": _int(d, "MsgId"),
        "raw": d,
    }
    if msg_type == "text":
        return TextMessage(**base, content=_s(d, "Content"))
    if msg_type == "event":
        return _event(base, d)
    if msg_type == "image":
        return ImageMessage(**base, pic_url=_s(d, "PicUrl"), media_id=_s(d, "MediaId"))
    if msg_type == "voice":
        return VoiceMessage(
            **base,
            media_id=_s(d, "MediaId"),
            format=_s(d, "Format"),
            recognition=_s(d, "Recognition"),
        )
    if msg_type in {"video", "shortvideo"}:
        return VideoMessage(**base, media_id=_s(d, "MediaId"), thumb_media_id=_s(d, "ThumbMediaId"))
    if msg_type == "location":
        return LocationMessage(
            **base,
            latitude=_float(d, "Location_X"),
            longitude=_float(d, "Location_Y"),
            scale=_int(d, "Scale"),
            label=_s(d, "Label"),
        )
    if msg_type == "link":
        return LinkMessage(
            **base, title=_s(d, "Title"), description=_s(d, "Description"), url=_s(d, "Url")
        )
    return UnknownMessage(**base)


# ------------------------------------------------------------------ passive replies

# One article when answering a message a user sent; up to 8 for events (§1.8).
NEWS_LIMIT_FOR_MESSAGES = 1
NEWS_LIMIT_FOR_EVENTS = 8


@dataclass(frozen=True)
class Reply:
    """A passive reply. `kind` is one of text, image, voice, video, music, news,
    transfer_customer_service; `data` holds its fields (see render_reply)."""

    kind: str
    data: dict[str, Any]


def _cdata(value: Any) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_reply(
    reply: Reply,
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    news_limit: int = NEWS_LIMIT_FOR_EVENTS,
) -> str:
    d = reply.data
    head = (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
    )
    kind = reply.kind
    if kind == "text":
        body = f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(d['content'])}</Content>"
    elif kind in ("image", "voice"):
        tag = kind.capitalize()
        body = (
            f"<MsgType>{_cdata(kind)}</MsgType>"
            f"<{tag}><MediaId>{_cdata(d['media_id'])}</MediaId></{tag}>"
        )
    elif kind == "video":
        body = (
            "<MsgType><![CDATA[video]]></MsgType><Video>"
            f"<MediaId>{_cdata(d['media_id'])}</MediaId>"
            f"<Title>{_cdata(d.get('title', ''))}</Title>"
            f"<Description>{_cdata(d.get('description', ''))}</Description></Video>"
        )
    elif kind == "music":
        body = (
            "<MsgType><![CDATA[music]]></MsgType><Music>"
            f"<Title>{_cdata(d.get('title', ''))}</Title>"
            f"<Description>{_cdata(d.get('description', ''))}</Description>"
            f"<MusicUrl>{_cdata(d.get('music_url', ''))}</MusicUrl>"
            f"<HQMusicUrl>{_cdata(d.get('hq_music_url', ''))}</HQMusicUrl>"
            f"<ThumbMediaId>{_cdata(d.get('thumb_media_id', ''))}</ThumbMediaId></Music>"
        )
    elif kind == "news":
        articles = list(d["articles"])[:news_limit]
        items = "".join(
            "<item>"
            f"<Title>{_cdata(a.get('title', ''))}</Title>"
            f"<Description>{_cdata(a.get('description', ''))}</Description>"
            f"<PicUrl>{_cdata(a.get('pic_url', ''))}</PicUrl>"
            f"<Url>{_cdata(a.get('url', ''))}</Url>"
            "</item>"
            for a in articles
        )
        body = (
            "<MsgType><![CDATA[news]]></MsgType>"
            f"<ArticleCount>{len(articles)}</ArticleCount><Articles>{items}</Articles>"
        )
    elif kind == "transfer_customer_service":
        body = "<MsgType><![CDATA[transfer_customer_service]]></MsgType>"
        if d.get("kf_account"):
            body += f"<TransInfo><KfAccount>{_cdata(d['kf_account'])}</KfAccount></TransInfo>"
    else:
        raise ValueError(f"unknown reply kind {kind!r}")
    return head + body + "</xml>"


def encrypted_envelope(cipher: AESCipher, token: str, xml: str, timestamp: str, nonce: str) -> str:
    encrypt = cipher.encrypt(xml.encode())
    signature = sign(token, timestamp, nonce, encrypt)
    return (
        f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    )
