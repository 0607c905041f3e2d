"""The WeCom (企业微信) group robot: `POST cgi-bin/webhook/send?key=KEY` posts into the
robot's group, as the real one at https://qyapi.weixin.qq.com does.

The protocol (群机器人配置说明, https://developer.work.weixin.qq.com/document/path/91770):
msgtype text / markdown / markdown_v2 / image / news / file / voice / template_card, in
lower case; text is {"content", "mentioned_list"?, "mentioned_mobile_list"?}; at most 20
messages a minute per robot; text content at most 2048 bytes of UTF-8, markdown 4096.
Errors as the platform answers them: 93000 "invalid webhook url" (wrong or deleted key),
40008 "invalid message type", 44004 empty content, 40058 "text.content exceed max length
2048" (github.com/dromara/domain-admin/issues/82 quotes the markdown one), 45009 over the
rate, 44002 / 47001 an empty or unreadable body, 43002 not a POST.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from .errors import ApiError
from .models import Robot, RobotMessage
from .services import InvalidInput

MSG_TYPES = {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}
RATE_LIMIT = 20  # messages per robot per minute
CONTENT_BYTES = {"text": 2048, "markdown": 4096, "markdown_v2": 4096}
KEY_RE = re.compile(r"[A-Za-z0-9-]{8,64}")


@dataclass(frozen=True)
class RobotInput:
    name: str
    key: str = ""
    delay: float = 0.0
    errcode: int = 0


def clean_robot(data: dict[str, Any]) -> RobotInput:
    name, key = data.get("name", ""), data.get("key", "") or ""
    delay, errcode = data.get("delay", 0), data.get("errcode", 0)
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise InvalidInput("name is required (at most 64 characters)")
    if not isinstance(key, str) or (key and not KEY_RE.fullmatch(key)):
        raise InvalidInput("key must be 8-64 letters, digits or -")
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 60:
        raise InvalidInput("delay must be a number of seconds from 0 to 60")
    if isinstance(errcode, bool) or not isinstance(errcode, int):
        raise InvalidInput("errcode must be an integer (0: answer normally)")
    return RobotInput(name=name.strip(), key=key, delay=float(delay), errcode=errcode)


def register_robot(values: RobotInput) -> tuple[Robot, bool]:
    """Create the robot, or update the one with this key (its fault settings too)."""
    key = values.key or str(uuid.uuid4())
    with transaction.atomic():
        robot, created = Robot.objects.select_for_update().get_or_create(
            key=key, defaults={"name": values.name}
        )
        robot.name, robot.delay, robot.errcode = values.name, values.delay, values.errcode
        robot.save()
    return robot, created


def send(key: str | None, raw: bytes) -> RobotMessage:
    """Post one message (the request body) into the robot's group, or raise ApiError."""
    robot = Robot.objects.filter(key=key or "").first()
    if robot is None:
        raise ApiError(93000)
    if robot.delay:
        # A slow platform: the caller may give up first. The request is still handled
        # afterwards, as a real server would (with the settings it arrived under).
        time.sleep(robot.delay)
    if robot.errcode:
        raise ApiError(robot.errcode)
    if not raw.strip():
        raise ApiError(44002)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(47001) from exc
    if not isinstance(body, dict):
        raise ApiError(47001)
    msgtype = body.get("msgtype")
    if msgtype not in MSG_TYPES:
        raise ApiError(40008)
    inner = body.get(msgtype)
    if not isinstance(inner, dict):
        raise ApiError(47001)
    content = inner.get("content", "")
    if msgtype in ("text", "markdown", "markdown_v2"):
        if not isinstance(content, str):
            raise ApiError(47001)
        if not content.strip():
            raise ApiError(44004)
        limit = CONTENT_BYTES[msgtype]
        if len(content.encode()) > limit:
            raise ApiError(40058, f"{msgtype}.content exceed max length {limit}")
    mentioned = inner.get("mentioned_list") or []
    mobiles = inner.get("mentioned_mobile_list") or []
    if not isinstance(mentioned, list) or not isinstance(mobiles, list):
        raise ApiError(47001)
    now = timezone.now()
    with transaction.atomic():
        Robot.objects.select_for_update().filter(pk=robot.pk).first()
        if (
            RobotMessage.objects.filter(
                robot=robot, created_at__gt=now - timedelta(minutes=1)
            ).count()
            >= RATE_LIMIT
        ):
            raise ApiError(45009)
        return RobotMessage.objects.create(
            robot=robot,
            msg_type=msgtype,
            content=content if isinstance(content, str) else "",
            mentioned_list=[str(m) for m in mentioned] if msgtype == "text" else [],
            mentioned_mobile_list=[str(m) for m in mobiles] if msgtype == "text" else [],
            payload=body,
            created_at=now,
        )
