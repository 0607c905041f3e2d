"""Reading a file for the material library: what it really is (by its bytes, not its
name), whether WeChat takes it as material (limits.py: format, size, an audio's play
time), and a picture made smaller to fit a size (Pillow)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import limits
from .models import Material

MB = 1024 * 1024
# What the console takes at all: a picture up to this is made smaller; anything larger
# is refused before it is read.
UPLOAD_MAX_BYTES = 40 * MB

# JPEG qualities tried, best first, when a picture must fit a size
QUALITIES = (88, 82, 76, 70, 62, 55, 48, 40)
# Pillow's names of the picture formats WeChat takes as material (an MPO is a camera's
# JPEG with extra pictures in it: WeChat reads it as the JPEG it starts with)
PILLOW_IMAGE_FORMATS = {**limits.IMAGE_FORMATS, "MPO": "image/jpeg"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    **{ctype: ext for ext, ctype in limits.VOICE_FORMATS.items()},
    **{ctype: ext for ext, ctype in limits.VIDEO_FORMATS.items()},
}
# What a file is, by its first bytes, for naming a refused format in words.
FORMAT_NAMES = {
    "jpg": "JPG", "png": "PNG", "gif": "GIF", "bmp": "BMP", "tiff": "TIFF", "webp": "WebP",
    "heic": "HEIC", "ico": "ICO", "mp3": "MP3", "wav": "WAV", "amr": "AMR", "amr-wb": "AMR-WB",
    "wma": "WMA/WMV", "mp4": "MP4", "mov": "MOV", "m4a": "M4A", "3gp": "3GP", "avi": "AVI",
    "mkv": "MKV/WebM", "flv": "FLV", "ogg": "OGG", "flac": "FLAC", "pdf": "PDF", "zip": "ZIP",
}  # fmt: skip
ACCEPTED_SNIFFED = {"jpg", "png", "gif", "bmp"}
IMAGE_SNIFFED = {"jpg", "png", "gif", "bmp", "tiff", "webp", "heic", "ico"}
VOICE_SNIFFED = {"mp3", "wav", "amr", "amr-wb", "wma", "m4a", "ogg", "flac"}
VIDEO_SNIFFED = {"mp4", "mov", "3gp", "avi", "mkv", "flv"}
ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
ASF_FILE_PROPERTIES = bytes.fromhex("a1dcab8c47a9cf118ee400c00c205365")
AMR_FRAME_BYTES = (12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0)


class MaterialRefused(ValidationError):
    """A file WeChat would not take (or the library will not keep): the message says
    why, Chinese first."""


@dataclass
class Checked:
    """A file as the library keeps it, after the checks."""

    kind: str
    content: bytes
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    resized: bool = False
    note: str = ""


# ------------------------------------------------------------------ reading files


def sniff(data: bytes) -> str | None:
    """The format of a file by its first bytes."""
    head = data[:64]
    if head[:3] == b"\xff\xd8\xff":
        return "jpg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM" and len(data) > 14:
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"\x00\x00\x01\x00":
        return "ico"
    if head[:4] == b"RIFF":
        return {b"WAVE": "wav", b"WEBP": "webp", b"AVI ": "avi"}.get(head[8:12])
    if head[:9] == b"#!AMR-WB\n":
        return "amr-wb"
    if head[:6] == b"#!AMR\n":
        return "amr"
    if head[:16] == ASF_GUID:
        return "wma"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    if head[:3] == b"FLV":
        return "flv"
    if head[:5] == b"%PDF-":
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"qt"):
            return "mov"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "m4a"
        if brand.startswith(b"3g"):
            return "3gp"
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
            return "heic"
        return "mp4"
    if head[:3] == b"ID3" or _mp3_frame_at(data, 0) is not None:
        return "mp3"
    return None


# MPEG audio: bitrates (kbit/s) by [version 1?][layer] and index; sample rates by version
_MP3_BITRATES = {
    (True, 3): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 3): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 1): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class _Mp3Frame:
    bitrate: int  # bit/s
    rate: int  # samples/s
    samples: int  # per frame
    mpeg1: bool
    mono: bool


def _mp3_frame_at(data: bytes, pos: int) -> _Mp3Frame | None:
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version = (data[pos + 1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer = (data[pos + 1] >> 1) & 3  # 3: layer I, 2: II, 1: III
    index, rate_index = data[pos + 2] >> 4, (data[pos + 2] >> 2) & 3
    if version == 1 or layer == 0 or index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    samples = 384 if layer == 3 else 1152 if (mpeg1 or layer == 2) else 576
    return _Mp3Frame(
        bitrate=_MP3_BITRATES[(mpeg1, layer)][index] * 1000,
        rate=_MP3_RATES[version][rate_index],
        samples=samples,
        mpeg1=mpeg1,
        mono=(data[pos + 3] >> 6) == 3,
    )


def mp3_seconds(data: bytes) -> float | None:
    """An MP3's play time: from its Xing/Info or VBRI header's frame count when it has
    one, else as a constant bitrate; None when no frame is found."""
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 0
        for b in data[6:10]:
            size = (size << 7) | (b & 0x7F)
        pos = 10 + size + (10 if data[5] & 0x10 else 0)
    end = min(len(data), pos + 64 * 1024)
    while pos < end and _mp3_frame_at(data, pos) is None:
        pos += 1
    frame = _mp3_frame_at(data, pos)
    if frame is None:
        return None
    side = (32 if not frame.mono else 17) if frame.mpeg1 else (17 if not frame.mono else 9)
    xing = pos + 4 + side
    if (
        data[xing : xing + 4] in (b"Xing", b"Info")
        and len(data) >= xing + 12
        and data[xing + 7] & 1
    ):
        frames = int.from_bytes(data[xing + 8 : xing + 12], "big")
        return frames * frame.samples / frame.rate
    if data[pos + 36 : pos + 40] == b"VBRI":
        frames = int.from_bytes(data[pos + 50 : pos + 54], "big")
        return frames * frame.samples / frame.rate
    return (len(data) - pos) * 8 / frame.bitrate


def wav_seconds(data: bytes) -> float | None:
    """A WAV's play time: its data chunk over the fmt chunk's byte rate."""
    pos, byte_rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt " and size >= 12:
            byte_rate = int.from_bytes(data[pos + 16 : pos + 20], "little")
        elif chunk == b"data":
            return size / byte_rate if byte_rate else None
        pos += 8 + size + (size & 1)
    return None


def amr_seconds(data: bytes) -> float:
    """An AMR-NB file's play time: 20 ms a frame."""
    pos, frames = 6, 0
    while pos < len(data):
        pos += 1 + AMR_FRAME_BYTES[(data[pos] >> 3) & 0x0F]
        frames += 1
    return frames * 0.02


def wma_seconds(data: bytes) -> float | None:
    """An ASF (WMA) file's play time, from its File Properties object."""
    pos = 30  # the header object: GUID, size, object count, two reserved bytes
    while pos + 24 <= min(len(data), 64 * 1024):
        guid, size = data[pos : pos + 16], int.from_bytes(data[pos + 16 : pos + 24], "little")
        if guid == ASF_FILE_PROPERTIES and pos + 88 <= len(data):
            play = int.from_bytes(data[pos + 64 : pos + 72], "little")  # 100 ns
            preroll = int.from_bytes(data[pos + 80 : pos + 88], "little")  # ms
            return max(0.0, play / 10_000_000 - preroll / 1000)
        if size < 24:
            return None
        pos += size
    return None


def voice_seconds(fmt: str, data: bytes) -> float | None:
    if fmt == "mp3":
        return mp3_seconds(data)
    if fmt == "wav":
        return wav_seconds(data)
    if fmt == "amr":
        return amr_seconds(data)
    if fmt == "wma":
        return wma_seconds(data)
    return None


def _mb(n: int) -> str:
    return f"{n / MB:.1f}"


def _named(fmt: str | None) -> str:
    return FORMAT_NAMES.get(fmt or "", "") or _("未知格式")


def _flatten(img: Any) -> Any:
    """The picture in RGB, a transparent one on white (JPEG has no transparency)."""
    from PIL import Image

    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img.convert("RGB")


def shrink(content: bytes, limit: int, long_side: int = limits.RESIZE_LONG_SIDE) -> bytes:
    """A JPEG of the picture within `limit` bytes: upright, its long side at most
    `long_side`, at the best quality that fits (smaller still if none does)."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(content)) as opened:
        opened.seek(0)
        opened.draft("RGB", (long_side, long_side))  # a JPEG is decoded at a smaller scale
        img = _flatten(ImageOps.exif_transpose(opened) or opened)
    side = min(long_side, max(img.size))
    while True:
        small = img.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        for quality in QUALITIES:
            out = io.BytesIO()
            small.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
            if out.tell() <= limit:
                return out.getvalue()
        if side <= 320:
            raise MaterialRefused(
                _("图片无法压缩到 %(limit)s MB 以内 / the picture cannot be made small enough")
                % {"limit": _mb(limit)}
            )
        side = int(side * 0.75)


def _refused_format(name: str) -> MaterialRefused:
    return MaterialRefused(
        _(
            "微信不接收 %(format)s 格式的图片，图片素材只能是 JPG、PNG、GIF 或 BMP / "
            "WeChat does not take %(format)s pictures: JPG, PNG, GIF or BMP only"
        )
        % {"format": name}
    )


def _check_picture(content: bytes) -> Checked:
    from PIL import Image, UnidentifiedImageError

    sniffed = sniff(content)
    try:
        with Image.open(io.BytesIO(content)) as img:
            fmt = img.format or ""
            width, height = img.size
            frames = getattr(img, "n_frames", 1)
            orientation = img.getexif().get(0x0112, 1)
            if fmt in PILLOW_IMAGE_FORMATS:
                # decoded (a JPEG at a small scale: every byte is still read), so that
                # a broken or cut-off file is found here, not by WeChat
                img.draft("RGB", (320, 320))
                img.load()
    except Image.DecompressionBombError as exc:
        raise MaterialRefused(
            _("图片像素过多，无法处理，请缩小后再上传 / the picture has too many pixels")
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        if sniffed in IMAGE_SNIFFED and sniffed not in ACCEPTED_SNIFFED:
            raise _refused_format(FORMAT_NAMES[sniffed]) from exc
        raise MaterialRefused(
            _(
                "这不是一张能识别的图片：图片素材只能是 JPG、PNG、GIF 或 BMP / "
                "not a picture WeChat takes (JPG, PNG, GIF or BMP)"
            )
        ) from exc
    if fmt not in PILLOW_IMAGE_FORMATS:
        raise _refused_format(fmt)
    if orientation in (5, 6, 7, 8):
        width, height = height, width  # shown upright, as the phone took it
    content_type = PILLOW_IMAGE_FORMATS[fmt]
    if len(content) <= limits.IMAGE_MAX_BYTES:
        return Checked(
            Material.Kind.IMAGE, content, content_type, EXTENSIONS[content_type], width, height
        )
    if fmt == "GIF" and frames > 1:
        raise MaterialRefused(
            _(
                "动图（GIF）有 %(size)s MB，超过微信允许的 %(limit)s MB；动图无法在不丢失动画的"
                "情况下压缩，请减少帧数或尺寸后再上传 / an animated GIF of %(size)s MB is over "
                "WeChat's %(limit)s MB and cannot be made smaller without losing its animation"
            )
            % {"size": _mb(len(content)), "limit": _mb(limits.IMAGE_MAX_BYTES)}
        )
    try:
        small = shrink(content, limits.IMAGE_MAX_BYTES)
        with Image.open(io.BytesIO(small)) as img:
            new_width, new_height = img.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MaterialRefused(
            _("图片无法读取，不能压缩 / the picture cannot be read to be made smaller")
        ) from exc
    note = _(
        "原图 %(size)s MB（%(w)d×%(h)d）超过微信允许的 %(limit)s MB，已缩小为 %(nw)d×%(nh)d 的 "
        "JPG（%(new)s MB） / the picture was over %(limit)s MB and was resized to "
        "%(nw)d×%(nh)d JPG (%(new)s MB)"
    ) % {
        "size": _mb(len(content)),
        "w": width,
        "h": height,
        "limit": _mb(limits.IMAGE_MAX_BYTES),
        "nw": new_width,
        "nh": new_height,
        "new": _mb(len(small)),
    }
    return Checked(
        Material.Kind.IMAGE, small, "image/jpeg", "jpg", new_width, new_height, True, note
    )


def _check_voice(content: bytes, fmt: str | None) -> Checked:
    if fmt not in limits.VOICE_FORMATS:
        raise MaterialRefused(
            _(
                "微信的音频素材只接收 MP3、WMA、WAV、AMR 格式，这个文件是 %(format)s / "
                "voice material is MP3, WMA, WAV or AMR only; this file is %(format)s"
            )
            % {"format": _named(fmt)}
        )
    if len(content) > limits.VOICE_MAX_BYTES:
        raise MaterialRefused(
            _(
                "音频有 %(size)s MB，超过微信允许的 %(limit)s MB，请压缩或剪短后再上传 / "
                "the audio is %(size)s MB, over WeChat's %(limit)s MB"
            )
            % {"size": _mb(len(content)), "limit": _mb(limits.VOICE_MAX_BYTES)}
        )
    seconds = voice_seconds(fmt, content)
    if seconds is not None and seconds > limits.VOICE_MAX_SECONDS:
        raise MaterialRefused(
            _(
                "音频长 %(seconds)d 秒，超过微信允许的 %(limit)d 秒，请剪短后再上传 / "
                "the audio plays %(seconds)d s, over WeChat's %(limit)d s"
            )
            % {"seconds": round(seconds), "limit": limits.VOICE_MAX_SECONDS}
        )
    return Checked(Material.Kind.VOICE, content, limits.VOICE_FORMATS[fmt], fmt)


def _check_video(content: bytes, fmt: str | None) -> Checked:
    if fmt not in limits.VIDEO_FORMATS:
        raise MaterialRefused(
            _(
                "微信的视频素材只接收 MP4 格式，这个文件是 %(format)s，请转换为 MP4 后再上传 / "
                "video material is MP4 only; this file is %(format)s"
            )
            % {"format": _named(fmt)}
        )
    if len(content) > limits.VIDEO_MAX_BYTES:
        raise MaterialRefused(
            _(
                "视频有 %(size)s MB，超过微信允许的 %(limit)s MB，请压缩后再上传；较长的视频可发布到"
                "腾讯视频后在文章中插入链接 / the video is %(size)s MB, over WeChat's %(limit)s MB"
            )
            % {"size": _mb(len(content)), "limit": _mb(limits.VIDEO_MAX_BYTES)}
        )
    return Checked(Material.Kind.VIDEO, content, limits.VIDEO_FORMATS[fmt], fmt)


def check_file(content: bytes, kind: str | None = None) -> Checked:
    """The file as the library would keep it, or MaterialRefused saying why not. `kind`
    (image, voice, video) is what the person chose; None: whatever the bytes are."""
    if not content:
        raise MaterialRefused(_("文件是空的 / the file is empty"))
    if len(content) > UPLOAD_MAX_BYTES:
        raise MaterialRefused(too_large(len(content)))
    fmt = sniff(content)
    if kind is None:
        if fmt in VOICE_SNIFFED:
            kind = Material.Kind.VOICE
        elif fmt in VIDEO_SNIFFED:
            kind = Material.Kind.VIDEO
        elif fmt in IMAGE_SNIFFED or fmt is None:
            kind = Material.Kind.IMAGE
        else:
            raise MaterialRefused(
                _(
                    "素材库只收图片、音频和视频，这个文件是 %(format)s / "
                    "the library keeps pictures, audio and video; this file is %(format)s"
                )
                % {"format": _named(fmt)}
            )
    if kind == Material.Kind.IMAGE:
        return _check_picture(content)
    if kind == Material.Kind.VOICE:
        return _check_voice(content, fmt)
    if kind == Material.Kind.VIDEO:
        return _check_video(content, fmt)
    raise MaterialRefused(_("未知的素材类型 %(kind)r / unknown kind") % {"kind": kind})


def too_large(size: int) -> str:
    return _(
        "文件有 %(size)s MB，超过素材库允许的 %(limit)s MB（微信的上限：图片 10 MB、音频 2 MB、"
        "视频 10 MB） / the file is %(size)s MB, over the library's %(limit)s MB"
    ) % {"size": _mb(size), "limit": _mb(UPLOAD_MAX_BYTES)}
