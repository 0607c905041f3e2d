"""How the console shows stored messages: readable summaries of what came in, what was
answered and how. Pure functions of the stored rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from govwx.lib.privacy import mask
from govwx.wechat.models import InboundMessage

# Message types a follower sends (events are listed apart).
MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link")
AUTO_HANDLERS = ("rule", "follow", "click", "default", "service")


def type_label(msg_type: str) -> str:
    labels = {
        "text": _("文字"),
        "image": _("图片"),
        "voice": _("语音"),
        "video": _("视频"),
        "shortvideo": _("小视频"),
        "location": _("位置"),
        "link": _("链接"),
        "event": _("事件"),
    }
    return labels.get(msg_type, msg_type)


def _s(payload: dict[str, Any], key: str) -> str:
    v = payload.get(key, "")
    return v if isinstance(v, str) else str(v)


def event_summary(event: str, payload: dict[str, Any]) -> str:
    name = event.lower()
    key = _s(payload, "EventKey")
    if name == "subscribe":
        scene = key.removeprefix("qrscene_")
        return _("关注（扫码场景 %(scene)s）") % {"scene": scene} if scene else _("关注")
    if name == "unsubscribe":
        return _("取消关注")
    if name == "click":
        return _("点击菜单 %(key)s") % {"key": key}
    if name == "view":
        return _("打开菜单链接 %(url)s") % {"url": key}
    if name == "scan":
        return _("扫描二维码 %(key)s") % {"key": key}
    if name == "location":
        return _("上报位置 %(lat)s, %(lng)s") % {
            "lat": _s(payload, "Latitude"),
            "lng": _s(payload, "Longitude"),
        }
    return _("事件 %(name)s") % {"name": event}


def content_summary(msg: InboundMessage) -> str:
    p = msg.payload if isinstance(msg.payload, dict) else {}
    t = msg.msg_type
    if t == "text":
        return msg.content
    if t == "image":
        return _("[图片]")
    if t == "voice":
        text = _s(p, "Recognition")
        return _("[语音] %(text)s") % {"text": text} if text else _("[语音]")
    if t in ("video", "shortvideo"):
        return _("[视频]")
    if t == "location":
        return _("[位置] %(label)s (%(x)s, %(y)s)") % {
            "label": _s(p, "Label"),
            "x": _s(p, "Location_X"),
            "y": _s(p, "Location_Y"),
        }
    if t == "link":
        return _("[链接] %(title)s") % {"title": _s(p, "Title")}
    if t == "event":
        return event_summary(msg.event, p)
    return _("[%(type)s 消息]") % {"type": t}


def reply_summary(reply: Any) -> str:
    """`reply` is the stored {"kind", "data"}, or {} when nothing was answered."""
    if not isinstance(reply, dict) or not reply.get("kind"):
        return ""
    kind = reply["kind"]
    raw = reply.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "text":
        return str(data.get("content", ""))
    if kind == "news":
        articles = data.get("articles") or []
        first = articles[0].get("title", "") if articles and isinstance(articles[0], dict) else ""
        if len(articles) > 1:
            return _("[图文] %(title)s 等 %(n)s 篇") % {"title": first, "n": len(articles)}
        return _("[图文] %(title)s") % {"title": first}
    if kind == "image":
        return _("[图片]")
    if kind == "voice":
        return _("[语音]")
    if kind == "video":
        return _("[视频] %(title)s") % {"title": data.get("title", "")}
    if kind == "music":
        return _("[音乐] %(title)s") % {"title": data.get("title", "")}
    if kind == "transfer_customer_service":
        return _("转人工客服")
    return f"[{kind}]"


def handled_label(handled_by: str, rule_name: str | None) -> str:
    if handled_by == "rule":
        return _("关键词规则：%(name)s") % {"name": rule_name or _("（已删除）")}
    labels = {
        "follow": _("被关注回复"),
        "default": _("收到消息回复"),
        "click": _("菜单点击回复"),
        "service": _("服务大厅查询"),
        "desk": _("转人工办理"),
        "none": _("未回复"),
    }
    return labels.get(handled_by, "—")


@dataclass(frozen=True)
class MessageRow:
    msg: InboundMessage
    follower_name: str
    type_label: str
    content: str
    reply: str
    handled: str
    unanswered: bool


def message_rows(
    messages: list[InboundMessage], rule_names: dict[int, str], nicknames: dict[str, str]
) -> list[MessageRow]:
    return [
        MessageRow(
            msg=m,
            follower_name=nicknames.get(m.openid, ""),
            type_label=type_label(m.msg_type),
            content=mask(content_summary(m)),
            reply=reply_summary(m.reply),
            # an event nobody answers (a VIEW tap, an unsubscribe) expects no reply
            handled=(
                _("无需回复")
                if m.handled_by == "none" and m.msg_type == "event"
                else handled_label(m.handled_by, rule_names.get(m.rule_id or 0))
            ),
            unanswered=m.handled_by == "none" and m.msg_type != "event",
        )
        for m in messages
    ]
