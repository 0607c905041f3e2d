"""One small function per kind of channel: send one message, or raise SendError.

Plain stdlib HTTP (urllib) like `wechat/client.py`, and Django's mail API for e-mail.
Every call gives up after `timeout` seconds; whether a failure is worth another attempt
is the sender's call (`SendError.retryable`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.core.mail import EmailMessage, get_connection


class SendError(Exception):
    """A send that did not go through; `retryable` says whether to try again later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    key: str
    title: str
    text: str
    link: str = ""
    account: str = ""
    appid: str = ""
    mentions: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ e-mail


def send_email(addresses: list[str], message: Message, *, timeout: float) -> None:
    """Through the SMTP server of the settings (EMAIL_HOST, EMAIL_PORT, …)."""
    body = message.text + (f"\n\n{message.link}" if message.link else "")
    email = EmailMessage(subject=message.title, body=body, to=addresses)
    try:
        with get_connection(timeout=timeout) as connection:
            email.connection = connection
            email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendError(
            f"邮件服务器拒收 / recipients refused: {exc.recipients}",
            retryable=all(400 <= c < 500 for c in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(
            f"邮件服务器返回 {exc.smtp_code} / SMTP {exc.smtp_code}: {exc.smtp_error!r}",
            retryable=400 <= exc.smtp_code < 500,
        ) from exc
    except TimeoutError as exc:
        raise SendError(
            f"邮件服务器超时 / SMTP timed out after {timeout:g} s", retryable=True
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"无法连接邮件服务器 / SMTP failed: {exc!r}", retryable=True) from exc


# ------------------------------------------------------------------ HTTP


def _post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """POST and return the body of a 2xx answer. Timeouts, connection errors, 5xx, 408 and
    429 are retryable; any other status is not. Messages leave the URL out: it may carry
    a key."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        raise SendError(
            f"对方返回 HTTP {exc.code} / answered HTTP {exc.code}",
            retryable=exc.code >= 500 or exc.code in (408, 429),
        ) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise SendError(f"超时 / timed out after {timeout:g} s", retryable=True) from exc
        raise SendError(f"无法连接 / cannot connect: {exc.reason}", retryable=True) from exc
    except TimeoutError as exc:
        raise SendError(f"超时 / timed out after {timeout:g} s", retryable=True) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"连接失败 / connection failed: {exc!r}", retryable=True) from exc


def signature(secret: str, body: bytes) -> str:
    """The X-Govwx-Signature header: HMAC-SHA256 of the exact body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, message: Message, *, timeout: float) -> None:
    """POST {"key","title","text","link","account","appid"} as JSON; any 2xx is success."""
    body = json.dumps(
        {
            "key": message.key,
            "title": message.title,
            "text": message.text,
            "link": message.link,
            "account": message.account,
            "appid": message.appid,
        },
        ensure_ascii=False,
    ).encode()
    headers = {"X-Govwx-Signature": signature(secret, body)} if secret else {}
    _post_json(url, body, headers, timeout)


# ------------------------------------------------------------------ WeCom group robot

# The group robot's protocol (企业微信开发者中心, 群机器人配置说明,
# https://developer.work.weixin.qq.com/document/path/91770, as quoted in
# https://blog.csdn.net/cnzt0/article/details/144470384): POST JSON to the robot's
# webhook URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…;
# {"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}; content at most
# 2048 bytes of UTF-8; at most 20 messages a minute per robot. The answer is
# {"errcode":0,"errmsg":"ok"} or an error code: 93000 "invalid webhook url" for a wrong
# or deleted key (github.com/wes-lin/Cloud189Checkin/issues/175), 40008 "invalid message
# type" (github.com/ttttmr/Wechat2RSS/issues/278), 45009 "api freq out of limit" over
# the rate, -1 system busy.
WECOM_CONTENT_BYTES = 2048
WECOM_RETRYABLE = {-1, 45009}


def wecom_content(message: Message) -> str:
    """Title, text and link in one text message, cut to the robot's 2048 bytes."""
    content = "\n".join(p for p in (message.title, message.text, message.link) if p)
    raw = content.encode()
    if len(raw) <= WECOM_CONTENT_BYTES:
        return content
    return raw[: WECOM_CONTENT_BYTES - 3].decode(errors="ignore") + "…"


def send_wecom(url: str, message: Message, *, timeout: float) -> None:
    text: dict[str, Any] = {"content": wecom_content(message)}
    if message.mentions:
        text["mentioned_mobile_list"] = list(message.mentions)
    body = json.dumps({"msgtype": "text", "text": text}, ensure_ascii=False).encode()
    raw = _post_json(url, body, {}, timeout)
    try:
        answer = json.loads(raw)
        errcode = int(answer.get("errcode", -1))
    except (ValueError, AttributeError, TypeError) as exc:
        raise SendError("企业微信返回了无法识别的内容 / unreadable answer", retryable=True) from exc
    if errcode != 0:
        errmsg = str(answer.get("errmsg", ""))[:200]
        raise SendError(
            f"企业微信返回 {errcode} / WeCom errcode {errcode}: {errmsg}",
            retryable=errcode in WECOM_RETRYABLE,
        )
