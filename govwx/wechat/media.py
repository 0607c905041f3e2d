"""The files behind messages: what followers send, fetched from WeChat within its three
days, and the pictures staff send, checked and uploaded as temporary media.

Intake never calls WeChat: the desk's batch writes one `MessageMedia` row per message
that carries a MediaId (`intake_row`, in the batch's one multi-row INSERT), and
`fetch_due` — run apart from intake (`govwx desk run`'s fetcher thread) — claims the
rows that are due with a conditional UPDATE, calls media/get outside any transaction or
lock, and stores the file in `media_storage()` with a thumbnail of a picture. A failed
fetch waits longer each time (15 s doubling to an hour), so an unreachable API is asked
a few times an hour, never in a loop; WeChat's answer that the media is gone (40007), or
its three days running out, ends it as `failed`, and the case says so in words.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from govwx.lib.dblock import serialized_writes

from .errors import InvalidMediaId, TransportError, WeChatAPIError
from .models import MessageMedia, media_storage

log = logging.getLogger(__name__)

# The message types whose MediaId names a file (reference §1.5).
MEDIA_TYPES = frozenset({"image", "voice", "video", "shortvideo"})
LIFETIME = timedelta(days=3)  # WeChat keeps temporary media three days
FIRST_RETRY = timedelta(seconds=15)
MAX_RETRY = timedelta(hours=1)
LEASE = timedelta(minutes=2)  # a claimed row is not claimed again while it is fetched
FETCH_BATCH = 20
THUMBNAIL = (320, 320)
# What a picture may be for WeChat's media/upload (新增临时素材: image ≤ 10 MB, PNG, JPEG,
# JPG, GIF), checked before any API call.
IMAGE_LIMIT = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"),
                 "GIF": ("gif", "image/gif")}  # fmt: skip
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "audio/amr": "amr",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/x-speex": "speex",
    "video/mp4": "mp4",
}

# ------------------------------------------------------------------ intake

# The columns the desk's batch writes (the others are NULL or their defaults).
INTAKE_COLUMNS = (
    "account_id", "inbound_id", "kind", "media_id", "status", "attempts",
    "next_attempt_at", "error", "file", "thumbnail", "content_type", "created_at",
)  # fmt: skip


def carries_media(msg_type: str, payload: dict[str, Any]) -> bool:
    return msg_type in MEDIA_TYPES and bool(payload.get("MediaId"))


def intake_row(
    account_id: int, inbound_id: int, msg_type: str, payload: dict[str, Any], when: Any
) -> list[Any]:
    """The INSERT values (INTAKE_COLUMNS) of a message's media, due at once; `when` is
    the message's time as the database stores it."""
    return [
        account_id, inbound_id, msg_type, str(payload["MediaId"])[:200],
        MessageMedia.Status.PENDING, 0, when, "", "", "", "", when,
    ]  # fmt: skip


# ------------------------------------------------------------------ fetching


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 15 s, 30 s, 1 min … at most an hour."""
    return min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


# An account whose API could not be reached at all (no answer, not an errcode) is left
# alone by this process for a while, doubling to PAUSE_MAX: in a burst of pictures with
# WeChat unreachable, one row a pause is tried (and written), not every row that falls
# due. account id → (monotonic time until which it waits, the pause that was set)
PAUSE_FIRST, PAUSE_MAX = 5.0, 300.0
_paused: dict[int, tuple[float, float]] = {}


def _paused_accounts() -> list[int]:
    now = time.monotonic()
    return [account for account, (until, _pause) in _paused.items() if until > now]


def _pause(account_id: int) -> None:
    _until, last = _paused.get(account_id, (0.0, 0.0))
    pause = min(PAUSE_MAX, last * 2) if last else PAUSE_FIRST
    _paused[account_id] = (time.monotonic() + pause, pause)


def fetch_due(limit: int = FETCH_BATCH, now: datetime | None = None) -> int:
    """Fetch the media whose time has come (oldest first); returns how many were tried."""
    now = now or timezone.now()
    tried = 0
    # one query a pass; the rows of an account found unreachable in it wait for the next
    due = list(
        MessageMedia.objects.filter(status=MessageMedia.Status.PENDING, next_attempt_at__lte=now)
        .exclude(account_id__in=_paused_accounts())
        .order_by("next_attempt_at", "id")
        .values_list("pk", "account_id")[:limit]
    )
    for pk, account_id in due:
        if account_id in _paused_accounts():
            continue
        fetch(pk)
        tried += 1
    return tried


def _update(pk: int, **changes: Any) -> int:
    with serialized_writes(connection):
        return MessageMedia.objects.filter(pk=pk).update(**changes)


def fetch(pk: int) -> str:
    """Fetch one row's media if it is still due: stored, retry, failed or skipped."""
    from .client import WeChatClient

    now = timezone.now()
    with serialized_writes(connection):
        claimed = MessageMedia.objects.filter(
            pk=pk, status=MessageMedia.Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    row = MessageMedia.objects.select_related("account", "inbound").get(pk=pk)
    try:
        got = WeChatClient(row.account).get_media(row.media_id)
    except InvalidMediaId as exc:
        _update(pk, status=MessageMedia.Status.FAILED, error=f"40007 {exc.errmsg}"[:255])
        return "failed"
    except WeChatAPIError as exc:
        if isinstance(exc, TransportError):
            _pause(row.account_id)
        # Every other failure may pass (the network, a busy WeChat, a secret an admin
        # fixes): asked again later, until WeChat's three days are over.
        sent = row.inbound.sent_at if row.inbound else row.created_at
        after = timezone.now() + backoff(row.attempts)
        error = str(exc)[:255]
        if after >= sent + LIFETIME:
            _update(pk, status=MessageMedia.Status.FAILED, error=error)
            return "failed"
        _update(pk, next_attempt_at=after, error=error)
        return "retry"
    _paused.pop(row.account_id, None)
    names = save_files(row.account_id, got.content, got.content_type, got.filename)
    _update(
        pk,
        status=MessageMedia.Status.STORED,
        file=names[0],
        thumbnail=names[1],
        content_type=got.content_type or "application/octet-stream",
        size=len(got.content),
        stored_at=timezone.now(),
        error="",
    )
    return "stored"


def _extension(content_type: str, filename: str) -> str:
    ext = EXTENSIONS.get(content_type, "")
    if not ext and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
    return ext if ext.isalnum() and len(ext) <= 5 else "bin"


def save_files(
    account_id: int, content: bytes, content_type: str, filename: str = ""
) -> tuple[str, str]:
    """Store a media file (and a picture's thumbnail) under a name nobody can guess;
    returns (file name, thumbnail name or "")."""
    storage = media_storage()
    stem = f"wechat/{account_id}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"
    name = storage.save(f"{stem}.{_extension(content_type, filename)}", ContentFile(content))
    thumb = ""
    if content_type.startswith("image/"):
        small = thumbnail(content)
        if small is not None:
            thumb = storage.save(f"{stem}-thumb.jpg", ContentFile(small))
    return name, thumb


def thumbnail(content: bytes) -> bytes | None:
    """A JPEG at most 320 × 320, upright as the phone took it; None if Pillow cannot
    read the picture."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as img:
            img.seek(0)
            small = ImageOps.exif_transpose(img) or img
            small = small.convert("RGB")
            small.thumbnail(THUMBNAIL)
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


# ------------------------------------------------------------------ staff's pictures


class PictureRefused(ValueError):
    """A picture WeChat would not take; the message says why, in the reader's language."""


def check_picture(content: bytes) -> tuple[str, str]:
    """(extension, content type) of a picture WeChat's media/upload takes as `image`,
    or PictureRefused: over 10 MB, or not a JPG, PNG or GIF picture."""
    from PIL import Image, UnidentifiedImageError

    if not content:
        raise PictureRefused(_("请选择要发送的图片。"))
    if len(content) > IMAGE_LIMIT:
        raise PictureRefused(
            _("图片有 %(size).1f MB，超过微信允许的 10 MB，请压缩后再发送。")
            % {"size": len(content) / 1024 / 1024}
        )
    try:
        with Image.open(io.BytesIO(content)) as img:
            fmt = img.format or ""
            img.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PictureRefused(_("这不是一张能识别的图片，只能发送 JPG、PNG 或 GIF 图片。")) from exc
    if fmt not in IMAGE_FORMATS:
        raise PictureRefused(
            _("微信不接收 %(format)s 格式的图片，只能发送 JPG、PNG 或 GIF 图片。") % {"format": fmt}
        )
    return IMAGE_FORMATS[fmt]
