"""Permanent material and pictures for articles by WeChat's rules: material/add_material
(types, real formats, sizes, a video's description, the library's limits),
get_material, del_material, get_materialcount, batchget_material and media/uploadimg."""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from govwx.sandbox.models import Account, Material

from .conftest import register
from .kit import BASE, add_material, call, token_for, upload
from .mediafiles import MB, amr, mp4, padded, picture

pytestmark = pytest.mark.django_db
KB = 1024
VIDEO = {"description": json.dumps({"title": "冬季供暖", "introduction": "供暖检查现场"})}


def wav(seconds: float) -> bytes:
    """PCM WAV, 8 kHz, 8-bit mono: 8000 bytes a second."""
    data = b"\x80" * int(8000 * seconds)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    return (
        b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
        + b"fmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", len(data)) + data
    )  # fmt: skip


WMA = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c") + b"\0" * 200


@pytest.fixture
def token(client: Client, sandbox_account: Account) -> str:
    return token_for(client)


def test_it_adds_a_permanent_image_and_serves_it(client: Client, token: str) -> None:
    png = picture("PNG")
    answer = add_material(client, token, "image", png, name="路灯.png")
    media_id = answer["media_id"]
    assert answer == {
        "media_id": media_id,
        "url": f"http://testserver/sandbox/material/{media_id}",
    }
    served = client.get(f"/sandbox/material/{media_id}")
    assert (served.status_code, served["Content-Type"], served.content) == (200, "image/png", png)
    got = client.post(
        f"{BASE}material/get_material?access_token={token}",
        {"media_id": media_id},
        content_type="application/json",
    )
    assert got["Content-Disposition"] == f'attachment; filename="{media_id}.png"'
    assert got.content == png
    stored = Material.objects.get()
    assert (stored.kind, stored.name, stored.size) == ("image", "路灯.png", len(png))
    assert call(client, "material/get_materialcount", token, method="GET") == {
        "voice_count": 0,
        "video_count": 0,
        "image_count": 1,
        "news_count": 0,
    }


@pytest.mark.parametrize(
    ("kind", "data", "errcode"),
    [
        ("file", picture(), 40004),
        ("news", picture(), 40004),
        ("image", None, 41005),
        ("image", b"", 44001),
        ("image", b"hello, not a picture", 40005),
        ("image", b"\xff\xd8\xff" + b"not really a jpeg" * 20, 40005),
        ("image", padded(picture(), 10 * MB + 1), 40009),
        ("voice", picture(), 40005),
        ("voice", amr(61), 40010),
        ("voice", wav(61), 40010),
        ("voice", padded(amr(1), 2 * MB + 1), 40010),
        ("video", picture(), 40005),
        ("video", mp4(10 * MB), 40011),
        ("thumb", picture("PNG"), 40005),
        ("thumb", padded(picture(), 64 * KB + 1), 40012),
    ],
)
def test_it_refuses_what_wechat_refuses(
    client: Client, token: str, kind: str, data: bytes | None, errcode: int
) -> None:
    answer = add_material(client, token, kind, data, fields=VIDEO)  # type: ignore[arg-type]
    assert answer["errcode"] == errcode
    assert answer["errmsg"]
    assert not Material.objects.exists()


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("image", padded(picture("PNG"), 10 * MB)),
        ("image", picture("GIF")),
        ("image", picture("BMP")),
        ("voice", amr(60)),
        ("voice", wav(60)),
        ("voice", b"ID3" + b"\0" * 100),
        ("voice", WMA),
        ("thumb", padded(picture(), 64 * KB)),
    ],
)
def test_it_takes_files_at_the_limits(client: Client, token: str, kind: str, data: bytes) -> None:
    assert "media_id" in add_material(client, token, kind, data)
    assert Material.objects.get().kind == kind


def test_a_video_carries_its_description(client: Client, token: str) -> None:
    video = mp4(500)
    answer = add_material(client, token, "video", video, fields=VIDEO)
    media_id = answer["media_id"]
    assert answer == {"media_id": media_id}  # only an image answers a url
    got = call(client, "material/get_material", token, {"media_id": media_id})
    assert got == {
        "title": "冬季供暖",
        "description": "供暖检查现场",
        "down_url": f"http://testserver/sandbox/material/{media_id}",
    }
    assert client.get(f"/sandbox/material/{media_id}").content == video


@pytest.mark.parametrize(
    ("fields", "errcode"),
    [({}, 40035), ({"description": "{oops"}, 47001), ({"description": "[1]"}, 47001)],
)
def test_a_video_needs_a_description(
    client: Client, token: str, fields: dict[str, str], errcode: int
) -> None:
    assert add_material(client, token, "video", mp4(), fields=fields)["errcode"] == errcode
    assert not Material.objects.exists()


def test_pictures_for_articles(client: Client, token: str) -> None:
    jpeg = padded(picture(), MB)  # 1 MB 以下 takes 1 MB itself
    answer = upload(client, "media/uploadimg", token, jpeg)
    url = answer["url"]
    assert url.startswith("http://testserver/sandbox/material/")
    assert client.get(url.removeprefix("http://testserver")).content == jpeg
    assert "url" in upload(client, "media/uploadimg", token, picture("PNG"))
    for data, errcode in (
        (picture("GIF"), 40005),
        (padded(picture(), MB + 1), 40009),
        (None, 41005),
    ):
        assert upload(client, "media/uploadimg", token, data)["errcode"] == errcode
    # outside the library: not counted, no media_id to get or delete
    assert call(client, "material/get_materialcount", token, method="GET")["image_count"] == 0
    media_id = url.rsplit("/", 1)[1]
    assert call(client, "material/get_material", token, {"media_id": media_id})["errcode"] == 40007
    assert call(client, "material/del_material", token, {"media_id": media_id})["errcode"] == 40007


def test_it_deletes_material(client: Client, token: str) -> None:
    media_id = add_material(client, token, "image", picture())["media_id"]
    assert call(client, "material/del_material", token, {"media_id": media_id}) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert not Material.objects.exists()
    assert client.get(f"/sandbox/material/{media_id}").status_code == 404
    for body in ({"media_id": media_id}, {"media_id": ""}, {}, [1]):
        assert call(client, "material/del_material", token, body)["errcode"] == 40007
    assert call(client, "material/get_material", token, {"media_id": media_id})["errcode"] == 40007


def test_material_a_menu_shows_cannot_be_deleted(client: Client, token: str) -> None:
    media_id = add_material(client, token, "image", picture())["media_id"]
    menu = {"button": [{"type": "media_id", "name": "海报", "media_id": media_id}]}
    assert call(client, "menu/create", token, menu)["errcode"] == 0
    assert call(client, "material/del_material", token, {"media_id": media_id})["errcode"] == 48005
    assert Material.objects.count() == 1


def test_another_accounts_material_is_unknown(client: Client, token: str) -> None:
    other = register(appid="wxother0000000001")
    theirs = Material.objects.create(
        account=other, media_id="THEIRS", kind="image", content_type="image/jpeg",
        extension="jpg", data=picture(), size=1, created_at=timezone.now(),
    )  # fmt: skip
    for path in ("material/get_material", "material/del_material"):
        assert call(client, path, token, {"media_id": theirs.media_id})["errcode"] == 40007
    assert Material.objects.filter(pk=theirs.pk).exists()


def test_it_lists_material_newest_first(client: Client, token: str) -> None:
    ids = [
        add_material(client, token, "image", picture(), name=f"{i}.jpg")["media_id"]
        for i in range(3)
    ]
    thumb = add_material(client, token, "thumb", picture(size=(60, 40)), name="t.jpg")["media_id"]
    add_material(client, token, "voice", amr(1), name="v.amr")
    page = call(
        client, "material/batchget_material", token, {"type": "image", "offset": 1, "count": 2}
    )
    assert page["total_count"] == 4  # thumbnails are listed with the images
    assert page["item_count"] == 2
    assert [i["media_id"] for i in page["item"]] == [ids[2], ids[1]]
    assert page["item"][0]["name"] == "2.jpg"
    assert page["item"][0]["url"] == f"http://testserver/sandbox/material/{ids[2]}"
    assert isinstance(page["item"][0]["update_time"], int)
    first = call(
        client, "material/batchget_material", token, {"type": "image", "offset": 0, "count": 1}
    )
    assert first["item"][0]["media_id"] == thumb
    voice = call(
        client, "material/batchget_material", token, {"type": "voice", "offset": 0, "count": 20}
    )
    assert [i["name"] for i in voice["item"]] == ["v.amr"]
    assert call(
        client, "material/batchget_material", token, {"type": "news", "offset": 0, "count": 20}
    ) == {"total_count": 0, "item_count": 0, "item": []}


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"type": "file", "offset": 0, "count": 1}, 40004),
        ({"type": "image", "offset": 0, "count": 21}, 40035),
        ({"type": "image", "offset": 0, "count": 0}, 40035),
        ({"type": "image", "offset": -1, "count": 1}, 40035),
        ([], 47001),
    ],
)
def test_it_refuses_bad_list_requests(client: Client, token: str, body: Any, errcode: int) -> None:
    assert call(client, "material/batchget_material", token, body)["errcode"] == errcode


def test_the_library_has_a_limit_per_type(
    client: Client, token: str, sandbox_account: Account
) -> None:
    now = timezone.now()
    Material.objects.bulk_create(
        Material(
            account=sandbox_account, media_id=f"voice{i}", kind="voice", content_type="audio/amr",
            extension="amr", data=b"#!AMR\n", size=6, created_at=now,
        )
        for i in range(1000)
    )  # fmt: skip
    assert add_material(client, token, "voice", amr(1))["errcode"] == 45034
    assert Material.objects.count() == 1000
    assert "media_id" in add_material(client, token, "image", picture())  # another type


def test_wrong_methods_and_tokens(client: Client, token: str) -> None:
    assert (
        client.get(f"{BASE}material/add_material?access_token={token}").json()["errcode"] == 43002
    )
    assert (
        client.get(f"{BASE}material/get_material?access_token={token}").json()["errcode"] == 43002
    )
    assert (
        upload(client, "material/add_material", "nope", picture(), type="image")["errcode"] == 40001
    )
    assert not Material.objects.exists()
