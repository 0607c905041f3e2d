"""Temporary media (临时素材) as WeChat keeps it: media/upload with its types, formats
and sizes, media/get with its errors and the three-day life of a media_id, and the
pictures, voice and video a follower sends in the chat.

Rules (新增临时素材 / 获取临时素材, developers.weixin.qq.com): image ≤ 10 MB
(PNG/JPEG/JPG/GIF), voice ≤ 2 MB and ≤ 60 s (AMR/MP3), video ≤ 10 MB (MP4), thumb
≤ 64 KB (JPG). A media_id lives three days; media/get of a video answers {"video_url"}.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .errors import ApiError
from .models import Account, Media

LIFETIME = timedelta(days=3)
KB, MB = 1024, 1024 * 1024


@dataclass(frozen=True)
class Rule:
    limit: int
    size_code: int  # WeChat's errcode for a file over the limit
    formats: tuple[str, ...]  # extensions the type takes


RULES = {
    "image": Rule(10 * MB, 40009, ("jpg", "png", "gif")),
    "voice": Rule(2 * MB, 40010, ("amr", "mp3")),
    "video": Rule(10 * MB, 40011, ("mp4",)),
    "thumb": Rule(64 * KB, 40012, ("jpg",)),
}
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "amr": "audio/amr",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "wma": "audio/x-ms-wma",
    "mp4": "video/mp4",
}
# ASF (WMA) header object GUID
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
MAX_VOICE_SECONDS = 60
# AMR-NB: the bytes of a frame after its header byte, by the header's frame type
_AMR_FRAME = [12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0]


def sniff(data: bytes) -> str | None:
    """The format of a file by its first bytes (its name and stated type may lie)."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM" and len(data) > 14:
        return "bmp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:16] == _ASF:
        return "wma"
    if data[:6] == b"#!AMR\n":
        return "amr"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


def amr_seconds(data: bytes) -> float:
    """The play time of an AMR-NB file: 20 ms a frame."""
    pos, frames = 6, 0
    while pos < len(data):
        pos += 1 + _AMR_FRAME[(data[pos] >> 3) & 0x0F]
        frames += 1
    return frames * 0.02


def check(media_type: str, data: bytes | None) -> str:
    """The file's format if WeChat takes it as `media_type`; its errcode otherwise."""
    rule = RULES.get(media_type)
    if rule is None:
        raise ApiError(40004, "invalid media type")
    if data is None:
        raise ApiError(41005, "media data missing")
    if not data:
        raise ApiError(44001, "empty media data")
    fmt = sniff(data)
    if fmt not in rule.formats:
        raise ApiError(40005, "invalid file type")
    if len(data) > rule.limit:
        raise ApiError(rule.size_code, f"invalid {media_type} size")
    if fmt == "amr" and amr_seconds(data) > MAX_VOICE_SECONDS:
        raise ApiError(40010, "invalid voice size: playtime over 60s")
    return fmt


def _new_id() -> str:
    return secrets.token_urlsafe(48)


def store(account: Account, media_type: str, data: bytes | None, origin: str) -> Media:
    fmt = check(media_type, data)
    assert data is not None
    return Media.objects.create(
        account=account,
        media_id=_new_id(),
        media_type=media_type,
        origin=origin,
        content_type=CONTENT_TYPES[fmt],
        extension=fmt,
        data=data,
        size=len(data),
        created_at=timezone.now(),
    )


def upload(account: Account, media_type: str, data: bytes | None) -> Media:
    """media/upload?type=…: the account's temporary media."""
    return store(account, media_type, data, Media.Origin.UPLOAD)


def find(account: Account | None, media_id: str) -> Media:
    """A live media file (of this account, when given); 40007 when there is none, it is
    another account's, or its three days are over."""
    qs = Media.objects.filter(media_id=media_id)
    if account is not None:
        qs = qs.filter(account=account)
    media = qs.first()
    if media is None or timezone.now() >= media.created_at + LIFETIME:
        raise ApiError(40007, "invalid media_id")
    return media


def known(account: Account, media_id: str) -> bool:
    return Media.objects.filter(account=account, media_id=media_id).exists()
