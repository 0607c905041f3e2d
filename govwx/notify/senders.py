"""One small function per kind of channel: send one message, or raise SendError.

Plain stdlib HTTP (urllib) like `wechat/client.py`, and Django's mail API for e-mail.
Every call gives up after `timeout` seconds; whether a failure is worth another attempt
is the sender's call (`SendError.retryable`), and so is whether the far end only asked us
to slow down (`SendError.rate_limited`: HTTP 429, WeCom 45009, with `retry_after`).
A message may stand for several merged into one (`merge`): it carries them in `items`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import smtplib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

# A far end asking us to wait longer than this is tried again after this.
MAX_RETRY_AFTER = 3600.0


class SendError(Exception):
    """A send that did not go through; `retryable` says whether to try again later,
    `rate_limited` that the far end refused only for the rate (it asked to wait
    `retry_after` seconds, None when it did not say)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        rate_limited: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable or rate_limited
        self.rate_limited = rate_limited
        self.retry_after = retry_after


@dataclass(frozen=True)
class Message:
    key: str
    title: str
    text: str
    link: str = ""
    account: str = ""
    appid: str = ""
    mentions: list[str] = field(default_factory=list)
    # the messages merged into this one, in order (empty for a single message)
    items: tuple[Message, ...] = ()


def merge(items: Sequence[Message], *, key: str) -> Message:
    """Several messages of one account as one: titled 「【示例市发布】提醒 3 条」, each item's
    title (without the account's prefix), text and link numbered in order, mentioning
    everyone any of them mentions. One message is itself."""
    if len(items) == 1:
        return items[0]
    first = items[0]
    prefix = f"【{first.account}】" if first.account else ""
    parts = []
    for number, item in enumerate(items, 1):
        lines = (item.title.removeprefix(prefix) or item.title, item.text, item.link)
        parts.append(f"{number}. " + "\n".join(p for p in lines if p))
    return Message(
        key=key,
        title=f"{prefix}提醒 {len(items)} 条",
        text="\n\n".join(parts),
        account=first.account,
        appid=first.appid,
        mentions=list(dict.fromkeys(m for item in items for m in item.mentions)),
        items=tuple(items),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After (RFC 9110: seconds, or an HTTP date) as seconds from now, at least 1
    and at most MAX_RETRY_AFTER; None when absent or unreadable."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


# ------------------------------------------------------------------ e-mail


def email_body(message: Message) -> str:
    return message.text + (f"\n\n{message.link}" if message.link else "")


def send_email(addresses: list[str], message: Message, *, timeout: float) -> None:
    """Through the SMTP server of the settings (EMAIL_HOST, EMAIL_PORT, …)."""
    email = EmailMessage(subject=message.title, body=email_body(message), to=addresses)
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
    """POST and return the body of a 2xx answer. Timeouts, connection errors, 5xx and 408
    are retryable, 429 is rate limited (with its Retry-After); any other status is not.
    Messages leave the URL out: it may carry a key."""
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
        if exc.code == 429:
            wait = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            raise SendError(
                f"对方限流（HTTP 429），{wait:g} 秒后再试 / rate limited (HTTP 429), "
                f"retry after {wait:g} s"
                if wait
                else "对方限流（HTTP 429） / rate limited (HTTP 429)",
                retryable=True,
                rate_limited=True,
                retry_after=wait,
            ) from exc
        raise SendError(
            f"对方返回 HTTP {exc.code} / answered HTTP {exc.code}",
            retryable=exc.code >= 500 or exc.code == 408,
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


def webhook_body(message: Message) -> bytes:
    """{"key","title","text","link","account","appid"}; a merged message adds "items",
    each {"key","title","text","link"} in order (its title and text read on their own for
    a receiver that knows only one message)."""
    payload: dict[str, Any] = {
        "key": message.key,
        "title": message.title,
        "text": message.text,
        "link": message.link,
        "account": message.account,
        "appid": message.appid,
    }
    if message.items:
        payload["items"] = [
            {"key": i.key, "title": i.title, "text": i.text, "link": i.link} for i in message.items
        ]
    return json.dumps(payload, ensure_ascii=False).encode()


def send_webhook(url: str, secret: str, message: Message, *, timeout: float) -> None:
    """POST `webhook_body` as JSON; any 2xx is success."""
    body = webhook_body(message)
    headers = {"X-Govwx-Signature": signature(secret, body)} if secret else {}
    _post_json(url, body, headers, timeout)


# ------------------------------------------------------------------ WeCom group robot

# The group robot's protocol (企业微信开发者中心, 群机器人配置说明,
# https://developer.work.weixin.qq.com/document/path/91770, as quoted in
# https://blog.csdn.net/cnzt0/article/details/144470384): POST JSON to the robot's
# webhook URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…;
# {"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}; content at most
# 2048 bytes of UTF-8 (markdown: 4096; over it errcode 40058 "text.content exceed max
# length", github.com/dromara/domain-admin/issues/82); at most 20 messages a minute per
# robot. The answer is
# {"errcode":0,"errmsg":"ok"} or an error code: 93000 "invalid webhook url" for a wrong
# or deleted key (github.com/wes-lin/Cloud189Checkin/issues/175), 40008 "invalid message
# type" (github.com/ttttmr/Wechat2RSS/issues/278), 45009 "api freq out of limit" over
# the rate, -1 system busy.
WECOM_CONTENT_BYTES = 2048
WECOM_RATE_LIMITED = 45009
WECOM_RETRYABLE = {-1, WECOM_RATE_LIMITED}


def wecom_text(message: Message) -> str:
    """Title, text and link of one text message, uncut."""
    return "\n".join(p for p in (message.title, message.text, message.link) if p)


def wecom_content(message: Message) -> str:
    """`wecom_text` cut to the robot's 2048 bytes (only a single message ever needs it: a
    merged one is made to fit)."""
    content = wecom_text(message)
    raw = content.encode()
    if len(raw) <= WECOM_CONTENT_BYTES:
        return content
    return raw[: WECOM_CONTENT_BYTES - 3].decode(errors="ignore") + "…"


MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def send_wecom(url: str, message: Message, *, timeout: float) -> None:
    text: dict[str, Any] = {"content": wecom_content(message)}
    # a mention is a mobile number (mentioned_mobile_list) or a WeCom userid (mentioned_list)
    mobiles = [m for m in message.mentions if MOBILE_RE.match(m)]
    userids = [m for m in message.mentions if not MOBILE_RE.match(m)]
    if userids:
        text["mentioned_list"] = userids
    if mobiles:
        text["mentioned_mobile_list"] = mobiles
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
            rate_limited=errcode == WECOM_RATE_LIMITED,
        )
