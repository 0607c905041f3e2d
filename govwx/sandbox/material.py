"""Permanent material (永久素材) and pictures for use inside articles, by WeChat's rules.

material/add_material (新增永久素材, developers.weixin.qq.com/doc/service/api/material/
permanent/api_addmaterial): image ≤ 10 MB (bmp/png/jpeg/jpg/gif), voice ≤ 2 MB and ≤ 60 s
(mp3/wma/wav/amr), video ≤ 10 MB (mp4, with a `description` form field), thumb ≤ 64 KB (jpg);
the library keeps at most 100 000 images and 1 000 of each other type (45034).
media/uploadimg (上传图文消息内的图片): jpg/png of 1 MB or less (以下: the figure included),
answered with a URL, outside the library's count. The file's real format is read from its
bytes (and a picture must open in Pillow); its name and stated type may lie.
Sources and doubtful points: docs/wechat-publishing.md.
"""

from __future__ import annotations

import io
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from PIL import Image

from .errors import ApiError
from .media import CONTENT_TYPES, MB, Rule, amr_seconds, sniff
from .models import Account, ConditionalMenu, Material

KB = 1024
PERMANENT: dict[str, Rule] = {
    "image": Rule(10 * MB, 40009, ("jpg", "png", "gif", "bmp")),
    "voice": Rule(2 * MB, 40010, ("mp3", "wma", "wav", "amr")),
    "video": Rule(10 * MB, 40011, ("mp4",)),
    "thumb": Rule(64 * KB, 40012, ("jpg",)),
}
ARTICLE_IMAGE = Rule(1 * MB, 40009, ("jpg", "png"))
# How many of each kind the library keeps (thumbnails count as "other" types ⚠).
LIMITS = {"image": 100_000, "voice": 1_000, "video": 1_000, "thumb": 1_000}
MAX_VOICE_SECONDS = 60
VIDEO_TITLE_MAX = 64  # ⚠ not in the docs: the sandbox's own bound
PILLOW_FORMATS = {"jpg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP"}
LIST_TYPES = ("image", "video", "voice", "news")
PAGE_MAX = 20


def _wav_seconds(data: bytes) -> float:
    """Play time of a PCM WAV: the data chunk's size over the byte rate."""
    if len(data) < 36:
        return 0.0
    byte_rate = int.from_bytes(data[28:32], "little")
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"data":
            return size / byte_rate if byte_rate else 0.0
        pos += 8 + size + (size & 1)
    return 0.0


def check_file(rule: Rule, kind: str, data: bytes | None) -> str:
    """The file's format if WeChat takes it under `rule`; its errcode otherwise."""
    if data is None:
        raise ApiError(41005)
    if not data:
        raise ApiError(44001)
    fmt = sniff(data)
    if fmt not in rule.formats:
        raise ApiError(40005)
    if fmt in PILLOW_FORMATS:
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.format != PILLOW_FORMATS[fmt]:
                    raise ApiError(40005)
        except ApiError:
            raise
        except Exception as exc:  # Pillow raises many kinds for a broken picture
            raise ApiError(40005, "invalid file type: the picture cannot be read") from exc
    if len(data) > rule.limit:
        raise ApiError(rule.size_code, f"invalid {kind} size")
    seconds = amr_seconds(data) if fmt == "amr" else _wav_seconds(data) if fmt == "wav" else 0.0
    if seconds > MAX_VOICE_SECONDS:
        raise ApiError(40010, "invalid voice size: playtime over 60s")
    return fmt


@dataclass(frozen=True)
class VideoDescription:
    title: str
    introduction: str


def _description(kind: str, raw: str | None) -> VideoDescription:
    if kind != "video":
        return VideoDescription("", "")
    if raw is None or not raw.strip():
        raise ApiError(40035, "invalid parameter: a video needs the description form field")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ApiError(47001) from exc
    if not isinstance(data, dict):
        raise ApiError(47001)
    title, intro = data.get("title", ""), data.get("introduction", "")
    if not isinstance(title, str) or not isinstance(intro, str):
        raise ApiError(47001)
    if len(title) > VIDEO_TITLE_MAX:
        raise ApiError(45003)
    return VideoDescription(title, intro)


def _new_id() -> str:
    return secrets.token_urlsafe(32)


def add(
    account: Account, kind: Any, data: bytes | None, name: str = "", description: str | None = None
) -> Material:
    """material/add_material?type=KIND."""
    rule = PERMANENT.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise ApiError(40004)
    fmt = check_file(rule, kind, data)
    video = _description(kind, description)
    assert data is not None
    with transaction.atomic():
        # one writer per account at a time, so two uploads cannot both take the last place
        Account.objects.select_for_update().filter(pk=account.pk).first()
        if Material.objects.filter(account=account, kind=kind).count() >= LIMITS[kind]:
            raise ApiError(45034)
        return Material.objects.create(
            account=account,
            media_id=_new_id(),
            kind=kind,
            name=name[:255],
            content_type=CONTENT_TYPES[fmt],
            extension=fmt,
            data=data,
            size=len(data),
            title=video.title,
            introduction=video.introduction,
            created_at=timezone.now(),
        )


def add_article_image(account: Account, data: bytes | None, name: str = "") -> Material:
    """media/uploadimg: a picture for articles' content."""
    fmt = check_file(ARTICLE_IMAGE, "image", data)
    assert data is not None
    return Material.objects.create(
        account=account,
        media_id=_new_id(),
        kind=Material.Kind.ARTICLE_IMAGE,
        name=name[:255],
        content_type=CONTENT_TYPES[fmt],
        extension=fmt,
        data=data,
        size=len(data),
        created_at=timezone.now(),
    )


def find(account: Account, media_id: Any, kinds: tuple[str, ...] = tuple(PERMANENT)) -> Material:
    """A permanent material of the account; 40007 otherwise."""
    if not isinstance(media_id, str) or not media_id:
        raise ApiError(40007)
    found = Material.objects.filter(account=account, media_id=media_id, kind__in=kinds).first()
    if found is None:
        raise ApiError(40007)
    return found


def _menu_media_ids(menu: dict[str, Any] | None) -> set[str]:
    found: set[str] = set()
    for button in (menu or {}).get("button", []):
        for b in [button, *(button.get("sub_button") or [])]:
            if isinstance(b, dict) and b.get("media_id"):
                found.add(str(b["media_id"]))
    return found


def delete(account: Account, data: Any) -> None:
    """material/del_material {"media_id"}: 48005 while a menu button shows it."""
    media_id = data.get("media_id") if isinstance(data, dict) else None
    material = find(account, media_id)
    account.refresh_from_db(fields=["menu"])
    used = _menu_media_ids(account.menu)
    for menu in ConditionalMenu.objects.filter(account=account):
        used |= _menu_media_ids({"button": menu.button})
    if material.media_id in used:
        raise ApiError(48005)
    material.delete()


def counts(account: Account) -> dict[str, int]:
    """material/get_materialcount. Thumbnails are counted with the images ⚠; news
    material (add_news) is retired and never made here, so news_count is 0."""
    mine = Material.objects.filter(account=account)
    return {
        "voice_count": mine.filter(kind="voice").count(),
        "video_count": mine.filter(kind="video").count(),
        "image_count": mine.filter(kind__in=("image", "thumb")).count(),
        "news_count": 0,
    }


def page(account: Account, data: Any) -> tuple[int, list[Material]]:
    """material/batchget_material {"type", "offset", "count" 1..20}: newest first."""
    if not isinstance(data, dict):
        raise ApiError(47001)
    kind, offset, count = data.get("type"), data.get("offset", 0), data.get("count")
    if kind not in LIST_TYPES:
        raise ApiError(40004)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ApiError(40035, "invalid parameter: offset")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= PAGE_MAX:
        raise ApiError(40035, "invalid parameter: count must be 1 to 20")
    if kind == "news":
        return 0, []
    kinds = ("image", "thumb") if kind == "image" else (kind,)
    mine = Material.objects.filter(account=account, kind__in=kinds).order_by("-id")
    return mine.count(), list(mine[offset : offset + count])
