"""The WeChat callback: `/wx/<appid>/callback`.

A plain sync view served without middleware (see govwx/wsgi.py). It verifies, decrypts
and parses, decides the reply, stores the message (and the reply) before answering, and
answers in the account's mode. Retries of a stored message get the stored reply.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from govwx.wechat import protocol as wx
from govwx.wechat.services import queue_customer_messages, store_inbound

from . import runtime
from .pipeline import decide

XML = "application/xml; charset=utf-8"


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _check_query(rt: runtime.AccountRuntime, q: dict[str, str]) -> tuple[str, str]:
    timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
    wx.check_signature((rt.token, timestamp, nonce), q.get("signature"))
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise wx.TimestampError("timestamp is not a number") from exc
    if skew > settings.GOVWX_WECHAT_TIMESTAMP_WINDOW:
        raise wx.TimestampError("timestamp outside the allowed window")
    return timestamp, nonce


@csrf_exempt
def callback(request: HttpRequest, appid: str) -> HttpResponse:
    rt = runtime.get(appid)
    if rt is None:
        return _plain(404, "unknown account")
    if request.method not in ("GET", "POST"):
        return _plain(405, "method not allowed")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400, "bad Content-Length")
    limit = settings.GOVWX_CALLBACK_MAX_BODY
    if length > limit:
        return _plain(413, "body too large")
    q = request.GET
    try:
        timestamp, nonce = _check_query(rt, q)  # type: ignore[arg-type]
        if request.method == "GET":
            return _plain(200, q.get("echostr", ""))
        body = request.read(limit + 1)
        if len(body) > limit:
            return _plain(413, "body too large")
        return _answer(rt, q, body, timestamp, nonce)  # type: ignore[arg-type]
    except wx.ProtocolError as exc:
        return _plain(exc.status, str(exc))


def _answer(rt: runtime.AccountRuntime, q: dict[str, str], body: bytes, timestamp: str,
            nonce: str) -> HttpResponse:
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
    stored = store_inbound(rt.id, msg, reply=reply, handled_by=decision.handled_by,
                           rule_id=decision.rule_id, now=now)
    if stored.created and decision.followups:
        queue_customer_messages(rt.id, msg.from_user, decision.followups, in_reply_to=stored.id)
    if not stored.reply:
        return HttpResponse(b"success", content_type="text/plain; charset=utf-8")
    xml = wx.render_reply(
        wx.Reply(stored.reply["kind"], stored.reply["data"]),
        to_user=msg.from_user,
        from_user=msg.to_user or rt.original_id,
        create_time=int(now.timestamp()),
        news_limit=wx.NEWS_LIMIT_FOR_EVENTS if msg.msg_type == "event"
        else wx.NEWS_LIMIT_FOR_MESSAGES,
    )
    if encrypted:
        xml = wx.encrypted_envelope(rt.cipher, rt.token, xml, timestamp, nonce)  # type: ignore[arg-type]
    return HttpResponse(xml.encode(), content_type=XML)
