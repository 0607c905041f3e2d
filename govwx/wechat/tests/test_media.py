"""Media through the one WeChat client, against the sandbox over HTTP: media/upload and
media/get, and the fetch of what followers send — stored with a thumbnail, retried with
backoff when WeChat cannot be reached, given up in words when WeChat no longer has it."""

from __future__ import annotations

import io
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from PIL import Image

from govwx.accounts.models import Account
from govwx.wechat import media
from govwx.wechat.client import InvalidMediaId, MediaRefused, WeChatClient
from govwx.wechat.models import InboundMessage, MessageMedia, media_storage

from .mediafiles import MB, amr, mp4, padded, picture
from .test_client import Sandbox, live

pytestmark = live


def follower_sends(sandbox: Sandbox, account: Account, data: bytes, name: str) -> dict[str, Any]:
    """A follower of the sandbox sends a file: the media_id WeChat gives it."""
    openid = sandbox.call("POST", f"/api/accounts/{account.appid}/followers", {})["openid"]
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{sandbox.base}/api/accounts/{account.appid}/followers/{openid}/media",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        import json

        return dict(json.loads(response.read()))


def waiting(account: Account, media_id: str, kind: str = "image") -> MessageMedia:
    """A message taken in with its media not yet fetched (what the desk's batch writes)."""
    now = timezone.now()
    inbound = InboundMessage.objects.create(
        account=account, openid="oCitizen", dedup_key=f"m{media_id[:20]}", msg_type=kind,
        payload={"MediaId": media_id}, sent_at=now, received_at=now, handled_by="desk",
    )  # fmt: skip
    return MessageMedia.objects.create(
        account=account, inbound=inbound, kind=kind, media_id=media_id, next_attempt_at=now,
        created_at=now,
    )  # fmt: skip


def test_it_uploads_and_gets_media(sandbox: Sandbox, account: Account) -> None:
    client = WeChatClient(account)
    jpeg = picture()
    media_id = client.upload_media("image", "road.jpg", jpeg, "image/jpeg")
    got = client.get_media(media_id)
    assert (got.content, got.content_type, got.filename) == (jpeg, "image/jpeg", f"{media_id}.jpg")


def test_a_video_is_fetched_through_its_url(sandbox: Sandbox, account: Account) -> None:
    video = mp4(2000)
    media_id = WeChatClient(account).upload_media("video", "v.mp4", video, "video/mp4")
    got = WeChatClient(account).get_media(media_id)
    assert (got.content, got.content_type) == (video, "video/mp4")


def test_wechats_refusals_are_typed(sandbox: Sandbox, account: Account) -> None:
    client = WeChatClient(account)
    with pytest.raises(MediaRefused) as too_big:
        client.upload_media("image", "big.jpg", padded(picture(), 10 * MB + 1), "image/jpeg")
    assert too_big.value.errcode == 40009
    with pytest.raises(MediaRefused) as too_long:
        client.upload_media("voice", "v.amr", amr(61), "audio/amr")
    assert too_long.value.errcode == 40010
    with pytest.raises(InvalidMediaId):
        client.get_media("no-such-media")


def test_a_followers_picture_is_stored_with_a_thumbnail(sandbox: Sandbox, account: Account) -> None:
    jpeg = picture(size=(1200, 900))
    sent = follower_sends(sandbox, account, jpeg, "road.jpg")
    row = waiting(account, sent["media_id"])
    assert media.fetch_due() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.content_type, row.size) == (
        "stored",
        1,
        "image/jpeg",
        len(jpeg),
    )
    assert row.file.name.startswith(f"wechat/{account.pk}/") and row.file.name.endswith(".jpg")
    with media_storage().open(row.file.name) as f:
        assert f.read() == jpeg
    with media_storage().open(row.thumbnail.name) as f:
        thumb = Image.open(io.BytesIO(f.read()))
        assert thumb.format == "JPEG" and thumb.size == (320, 240)
    assert media.fetch_due() == 0  # nothing left to do


def test_voice_is_stored_as_sent(sandbox: Sandbox, account: Account) -> None:
    voice = amr(3)
    sent = follower_sends(sandbox, account, voice, "v.amr")
    row = waiting(account, sent["media_id"], "voice")
    assert media.fetch(row.pk) == "stored"
    row.refresh_from_db()
    assert (row.content_type, row.thumbnail.name) == ("audio/amr", "")
    assert row.file.name.endswith(".amr")


def test_a_media_id_wechat_no_longer_has_fails_at_once_in_words(
    sandbox: Sandbox, account: Account
) -> None:
    sent = follower_sends(sandbox, account, picture(), "old.jpg")
    row = waiting(account, sent["media_id"])
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        assert media.fetch(row.pk) == "failed"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.file.name) == ("failed", 1, "")
    assert row.error.startswith("40007")
    assert (
        row.failure_text() == "未能取回：微信已不再保存该文件（微信只保留三天，或媒体 ID 无效）。"
    )


def test_an_unreachable_wechat_is_retried_with_backoff_then_given_up(
    account: Account, settings: Any, live_server: Any
) -> None:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/nowhere"  # HTTP 404 for every call
    row = waiting(account, "M-unreachable")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert media.fetch_due() == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at == start + timedelta(seconds=15)
        assert "HTTP 404" in row.error
        assert media.fetch_due() == 0  # not due again yet: no loop against a dead API
    waits = []
    at = start
    for _ in range(4):
        at = row.next_attempt_at
        media._paused.clear()  # this process's pause of an unreachable API (tested below)
        with time_machine.travel(at, tick=False):
            assert media.fetch_due() == 1
        row.refresh_from_db()
        waits.append((row.next_attempt_at - at).total_seconds())
    assert waits == [30, 60, 120, 240]
    assert media.backoff(20) == timedelta(hours=1)
    # WeChat's three days would be over before the next try (8 min after the 6th):
    # this attempt is the last, and the case says why
    media._paused.clear()
    with time_machine.travel(start + timedelta(days=3) - timedelta(minutes=2), tick=False):
        MessageMedia.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert media.fetch_due() == 1
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.failure_text().startswith("未能取回：三天内多次向微信获取均未成功（")
    assert "HTTP 404" in row.failure_text()


def test_a_row_is_fetched_once_by_two_fetchers(sandbox: Sandbox, account: Account) -> None:
    sent = follower_sends(sandbox, account, picture(), "a.jpg")
    row = waiting(account, sent["media_id"])
    assert media.fetch(row.pk) == "stored"
    assert media.fetch(row.pk) == "skipped"


def test_a_picture_is_checked_before_upload() -> None:
    assert media.check_picture(picture("PNG")) == ("png", "image/png")
    with pytest.raises(media.PictureRefused, match="超过微信允许的 10 MB"):
        media.check_picture(padded(picture(), 10 * MB + 1))
    with pytest.raises(media.PictureRefused, match="只能发送 JPG、PNG 或 GIF"):
        media.check_picture(b"%PDF-1.4 not a picture")
    with pytest.raises(media.PictureRefused, match="BMP"):
        media.check_picture(picture("BMP"))


def test_an_unreachable_api_pauses_the_accounts_fetches_without_writing(
    account: Account, settings: Any, live_server: Any
) -> None:
    """A burst of pictures while WeChat cannot be reached: one try, then the account's
    other rows wait (no write each) until the pause is over; other accounts go on."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/nowhere"
    rows = [waiting(account, f"M-burst-{i}") for i in range(5)]
    assert media.fetch_due() == 1
    assert [r.attempts for r in MessageMedia.objects.order_by("pk")] == [1, 0, 0, 0, 0]
    with CaptureQueriesContext(connection) as queries:
        assert media.fetch_due() == 0
    assert len(queries) == 1 and queries[0]["sql"].startswith("SELECT")
    # the pause over (5 s, then 10, … at most 5 minutes), one more try
    until, pause = media._paused[account.pk]
    assert pause == media.PAUSE_FIRST
    media._paused[account.pk] = (0.0, pause)
    assert media.fetch_due() == 1
    assert media._paused[account.pk][1] == 2 * media.PAUSE_FIRST
    assert MessageMedia.objects.filter(attempts=1).count() == 2
    assert rows[0].pk in set(MessageMedia.objects.filter(attempts=1).values_list("pk", flat=True))


def _storage_setting(**env: str) -> str:
    import os
    import subprocess
    import sys

    code = "import json, govwx.settings as s;print(json.dumps(s.STORAGES['media'], default=str))"
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "GOVWX_SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
    )
    return run.stdout + run.stderr


@pytest.mark.django_db(transaction=False)
def test_the_media_storage_is_chosen_by_settings(tmp_path: Any) -> None:
    import json

    local = json.loads(_storage_setting(GOVWX_MEDIA_DIR=str(tmp_path)))
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert local["OPTIONS"]["location"] == str(tmp_path)
    assert local["OPTIONS"]["base_url"] is None  # no public URL: served by the desk's view
    s3 = json.loads(
        _storage_setting(
            GOVWX_MEDIA_STORAGE="s3",
            GOVWX_S3_BUCKET="govwx-media",
            GOVWX_S3_ENDPOINT_URL="https://minio.example.gov.cn",
            GOVWX_S3_ACCESS_KEY_ID="AK",
            GOVWX_S3_SECRET_ACCESS_KEY="SK",
        )
    )
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert {k: s3["OPTIONS"][k] for k in ("bucket_name", "endpoint_url", "access_key",
            "secret_key", "default_acl", "querystring_auth")} == {
        "bucket_name": "govwx-media", "endpoint_url": "https://minio.example.gov.cn",
        "access_key": "AK", "secret_key": "SK", "default_acl": "private",
        "querystring_auth": True,
    }  # fmt: skip
    assert "GOVWX_MEDIA_STORAGE must be file or s3" in _storage_setting(GOVWX_MEDIA_STORAGE="ftp")
