"""The WeChat callback as one function: (appid, method, query, body) → status and bytes.

It verifies, decrypts and parses, decides the reply, stores the message (with the reply)
before answering, and answers in the account's mode; retries of a stored message get the
stored reply. Two thin adapters call it: the WSGI fast path in govwx/wsgi.py, which is
what `govwx serve` runs for `/wx/…`, and the Django view in views.py (test client,
`runserver`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from govwx.content import events as content_events
from govwx.wechat import protocol as wx
from govwx.wechat.services import queue_customer_messages, store_inbound

from . import runtime
from .pipeline import decide

log = logging.getLogger(__name__)

XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = TEXT


SUCCESS = Answer(200, b"success")


def handle(
    appid: str,
    method: str,
    query: Mapping[str, str],
    content_length: int | None,
    read: Callable[[int], bytes],
) -> Answer:
    try:
        rt = runtime.get(appid)
        if rt is None:
            return Answer(404, b"unknown account")
        if method not in ("GET", "POST"):
            return Answer(405, b"method not allowed")
        limit = settings.GOVWX_CALLBACK_MAX_BODY
        if content_length is not None and content_length > limit:
            return Answer(413, b"body too large")
        timestamp, nonce = _check_query(rt, query)
        if method == "GET":
            return Answer(200, query.get("echostr", "").encode())
        body = read(limit + 1)
        if len(body) > limit:
            return Answer(413, b"body too large")
        return _answer(rt, query, body, timestamp, nonce)
    except wx.ProtocolError as exc:
        return Answer(exc.status, str(exc).encode())
    except DatabaseError:
        # Drop a broken connection so the next request opens a new one; WeChat retries.
        close_old_connections()
        raise


def _check_query(rt: runtime.AccountRuntime, q: Mapping[str, str]) -> tuple[str, str]:
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    wx.check_signature((rt.token, timestamp, nonce), q.get("signature"))
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise wx.TimestampError("timestamp is not a number") from exc
    if skew > settings.GOVWX_WECHAT_TIMESTAMP_WINDOW:
        raise wx.TimestampError("timestamp outside the allowed window")
    return timestamp, nonce


def _answer(
    rt: runtime.AccountRuntime, q: Mapping[str, str], body: bytes, timestamp: str, nonce: str
) -> Answer:
    doc = wx.parse_xml(body)
    encrypted = q.get("encrypt_type", "raw") == "aes"
    if encrypted:
        if rt.cipher is None:
            raise wx.DecryptError("account has no EncodingAESKey")
        encrypt = doc.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise wx.XMLError("no Encrypt element")
        wx.check_signature((rt.token, timestamp, nonce, encrypt), q.get("msg_signature"))
        doc = wx.parse_xml(rt.cipher.decrypt(encrypt))
    elif rt.mode == "safe":
        raise wx.SignatureError("safe mode requires an encrypted message")
    msg = wx.to_message(doc)
    if not msg.from_user or not msg.msg_type:
        raise wx.XMLError("FromUserName and MsgType are required")

    decision = decide(rt, msg)
    passive = decision.passive
    reply = {"kind": passive.kind, "data": passive.data} if passive else {}
    now = timezone.now()
    stored = store_inbound(
        rt.id,
        msg,
        reply=reply,
        handled_by=decision.handled_by,
        rule_id=decision.rule_id,
        now=now,
        # what needs the stored row after the answer, or a reply drawn at random (its
        # retries must get the stored one), waits for the database's writer
        may_spool=not (decision.followups or decision.drawn or decision.handled_by == "content"),
    )
    if stored.created and decision.followups:
        queue_customer_messages(rt.id, msg.from_user, decision.followups, in_reply_to=stored.id)
    if stored.created and decision.handled_by == "content":
        # a publish or mass-send job finished: recorded now (rare, a few statements);
        # if that fails, polling the job's status records it later
        try:
            content_events.record_event(rt.id, msg.event.upper(), msg.raw)
        except Exception:
            log.exception("recording the %s event of account %s failed", msg.event, rt.id)
    if not stored.reply:
        return SUCCESS
    xml = wx.render_reply(
        wx.Reply(stored.reply["kind"], stored.reply["data"]),
        to_user=msg.from_user,
        from_user=msg.to_user or rt.original_id,
        create_time=int(now.timestamp()),
        news_limit=wx.NEWS_LIMIT_FOR_EVENTS
        if msg.msg_type == "event"
        else wx.NEWS_LIMIT_FOR_MESSAGES,
    )
    if encrypted:
        assert rt.cipher is not None
        xml = wx.encrypted_envelope(rt.cipher, rt.token, xml, timestamp, nonce)
    return Answer(200, xml.encode(), XML)
