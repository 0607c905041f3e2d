"""Temporary media by WeChat's rules: media/upload (types, formats, sizes), media/get
(files, a video's URL, errors) and the three days a media_id lives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from govwx.sandbox import callbacks
from govwx.sandbox.models import Account, Entry, Follower, Media

from .conftest import SECRET, register
from .mediafiles import MB, amr, mp4, padded, picture
from .peer import APPID

pytestmark = pytest.mark.django_db
BASE = "/sandbox/cgi-bin/"


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    answer = client.get(
        BASE + "token", {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    )
    return str(answer.json()["access_token"])


def upload(client: Client, token: str, kind: str, data: bytes | None, name: str = "f") -> Any:
    files = (
        {"media": SimpleUploadedFile(name, data, "application/octet-stream")}
        if data is not None
        else {}
    )
    response = client.post(f"{BASE}media/upload?access_token={token}&type={kind}", files)
    assert response.status_code == 200
    return response.json()


def test_it_uploads_a_picture_and_gives_it_back(client: Client, token: str) -> None:
    jpeg = picture()
    answer = upload(client, token, "image", jpeg, "road.jpg")
    assert answer["type"] == "image"
    assert abs(answer["created_at"] - timezone.now().timestamp()) < 5
    got = client.get(BASE + "media/get", {"access_token": token, "media_id": answer["media_id"]})
    assert got.status_code == 200
    assert got["Content-Type"] == "image/jpeg"
    assert got["Content-Disposition"] == f'attachment; filename="{answer["media_id"]}.jpg"'
    assert got.content == jpeg


@pytest.mark.parametrize(
    ("kind", "data", "errcode"),
    [
        ("file", picture(), 40004),
        ("image", None, 41005),
        ("image", b"", 44001),
        ("image", b"hello, not a picture", 40005),
        ("image", padded(picture(), 10 * MB + 1), 40009),
        ("voice", picture(), 40005),
        ("voice", padded(amr(1), 2 * MB + 1), 40010),
        ("voice", amr(61), 40010),
        ("video", picture(), 40005),
        ("video", mp4(10 * MB), 40011),
        ("thumb", picture("PNG"), 40005),
        ("thumb", padded(picture(), 64 * 1024 + 1), 40012),
    ],
)
def test_it_refuses_what_wechat_refuses(
    client: Client, token: str, kind: str, data: bytes | None, errcode: int
) -> None:
    answer = upload(client, token, kind, data)
    assert answer["errcode"] == errcode
    assert answer["errmsg"]
    assert not Media.objects.exists()


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("image", padded(picture("PNG"), 10 * MB)),
        ("image", picture("GIF")),
        ("voice", amr(60)),
        ("voice", b"ID3" + b"\0" * 100),
        ("video", mp4()),
        ("thumb", padded(picture(), 64 * 1024)),
    ],
)
def test_it_takes_files_at_the_limits(client: Client, token: str, kind: str, data: bytes) -> None:
    assert upload(client, token, kind, data)["type"] == kind


def test_a_media_id_lives_three_days(client: Client, token: str) -> None:
    media_id = upload(client, token, "image", picture())["media_id"]
    with time_machine.travel(timezone.now() + timedelta(days=3, seconds=-60)):
        assert (
            client.get(
                BASE + "media/get", {"access_token": token, "media_id": media_id}
            ).status_code
            == 200
        )
        # the token has expired by now; a fresh one
        fresh = client.get(
            BASE + "token", {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        ).json()["access_token"]
        assert (
            client.get(BASE + "media/get", {"access_token": fresh, "media_id": media_id})[
                "Content-Type"
            ]
            == "image/jpeg"
        )
    with time_machine.travel(timezone.now() + timedelta(days=3, seconds=1)):
        fresh = client.get(
            BASE + "token", {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        ).json()["access_token"]
        answer = client.get(BASE + "media/get", {"access_token": fresh, "media_id": media_id})
        assert answer.json() == {"errcode": 40007, "errmsg": "invalid media_id"}
        assert client.get(f"/sandbox/media/{media_id}").status_code == 404


def test_media_get_errors(client: Client, token: str) -> None:
    other = register(appid="wxother0000000001")
    their_media = Media.objects.create(
        account=other, media_id="THEIRS", media_type="image", origin="upload",
        content_type="image/jpeg", extension="jpg", data=picture(), size=1, created_at=timezone.now(),
    )  # fmt: skip
    assert (
        client.get(BASE + "media/get", {"access_token": token, "media_id": "nope"}).json()[
            "errcode"
        ]
        == 40007
    )
    assert (
        client.get(
            BASE + "media/get", {"access_token": token, "media_id": their_media.media_id}
        ).json()["errcode"]
        == 40007
    )
    assert client.get(BASE + "media/get", {"media_id": "nope"}).json()["errcode"] == 41001


def test_a_video_is_given_as_its_download_url(client: Client, token: str) -> None:
    video = mp4(100)
    media_id = upload(client, token, "video", video)["media_id"]
    answer = client.get(BASE + "media/get", {"access_token": token, "media_id": media_id}).json()
    assert answer == {"video_url": f"http://testserver/sandbox/media/{media_id}"}
    got = client.get(answer["video_url"].removeprefix("http://testserver"))
    assert (got["Content-Type"], got.content) == ("video/mp4", video)


def test_a_follower_sends_a_picture(client: Client, follower: Follower) -> None:
    jpeg = picture()
    path = f"/sandbox/api/accounts/{APPID}/followers/{follower.openid}"
    made = client.post(path + "/media", {"file": SimpleUploadedFile("p.jpg", jpeg, "image/jpeg")})
    assert made.status_code == 201
    media = made.json()
    assert media["type"] == "image"
    assert media["pic_url"] == f"http://testserver/sandbox/media/{media['media_id']}"
    assert client.get(f"/sandbox/media/{media['media_id']}").content == jpeg
    sent = client.post(
        path + "/messages",
        {"type": "image", "pic_url": media["pic_url"], "media_id": media["media_id"]},
        content_type="application/json",
    )
    assert sent.status_code == 200
    entry = Entry.objects.filter(kind="inbound", msg_type="image").get()
    assert entry.payload["media_id"] == media["media_id"]


def test_a_follower_cannot_send_what_wechat_would_not_carry(
    client: Client, follower: Follower
) -> None:
    path = f"/sandbox/api/accounts/{APPID}/followers/{follower.openid}/media"
    answer = client.post(path, {"file": SimpleUploadedFile("x.txt", b"plain text", "text/plain")})
    assert answer.status_code == 400
    assert "JPG/PNG/GIF" in answer.json()["error"]
    too_long = client.post(path, {"file": SimpleUploadedFile("v.amr", amr(75), "audio/amr")})
    assert too_long.status_code == 400 and too_long.json()["error"].startswith("40010")
    assert not Media.objects.exists()


def test_voice_and_video_messages_carry_wechat_fields() -> None:
    _, voice = callbacks.message_fields(
        "voice", {"media_id": "V1", "format": "amr", "recognition": "路灯坏了"},
        to="gh_1", openid="o1", create_time=1, msg_id=2,
    )  # fmt: skip
    assert ("Format", "amr") in voice and ("Recognition", "路灯坏了") in voice
    kind, video = callbacks.message_fields(
        "shortvideo", {"media_id": "S1", "thumb_media_id": "T1"},
        to="gh_1", openid="o1", create_time=1, msg_id=2,
    )  # fmt: skip
    assert kind == "shortvideo"
    assert ("MediaId", "S1") in video and ("ThumbMediaId", "T1") in video


def test_a_customer_service_picture_shows_on_the_phone(
    client: Client, token: str, follower: Follower
) -> None:
    media_id = upload(client, token, "image", picture())["media_id"]
    sent = client.post(
        f"{BASE}message/custom/send?access_token={token}",
        {"touser": follower.openid, "msgtype": "image", "image": {"media_id": media_id}},
        content_type="application/json",
    )
    assert sent.json() == {"errcode": 0, "errmsg": "ok"}
    entry = Entry.objects.get(kind="custom")
    assert entry.payload == {"msg_type": "image", "media_id": media_id}
    assert client.get(f"/sandbox/media/{media_id}")["Content-Type"] == "image/jpeg"
