"""Pushing materials to WeChat (the sandbox, over HTTP): a picture becomes permanent
material and an in-article picture (a JPEG of at most 1 MB when the original is larger
or not a JPG/PNG), audio and video permanent material; a second push calls nothing;
WeChat's refusal is kept in words, and a retry after the fix succeeds; a pushed
material deleted here is deleted on WeChat too."""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from govwx.accounts.models import Account, AuditEvent
from govwx.content import limits, materials
from govwx.content.models import Material
from govwx.wechat.client import WeChatClient, clear_local_tokens, urllib_raw_transport
from govwx.wechat.tests.test_client import Sandbox

from .test_materials import animated_gif, library_picture, mp4, noise, still, wav

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(
    live_server: Any, settings: Any, cache_table: None, account: Account
) -> Iterator[Sandbox]:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    cache.clear()
    clear_local_tokens()
    box = Sandbox(live_server.url + "/sandbox")
    box.register(account)
    yield box
    cache.clear()
    clear_local_tokens()


@pytest.fixture
def picture(account: Account, account_admin: Any) -> Material:
    return library_picture(account, account_admin)


class Counting:
    """The real transport for uploads, with the paths it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, method: str, url: str, *args: Any) -> Any:
        self.paths.append(url.split("/cgi-bin/", 1)[-1].split("?", 1)[0])
        return urllib_raw_transport(method, url, *args)


def add(account: Account, actor: Any, data: bytes, name: str, **kw: Any) -> Material:
    return materials.upload(account, SimpleUploadedFile(name, data), actor=actor, **kw).material


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return bytes(answer.read())


def test_a_picture_becomes_permanent_material_and_an_in_article_picture(
    sandbox: Sandbox, account: Account, editor: Any
) -> None:
    data = still("PNG", (300, 200))
    m = add(account, editor, data, "水厂.png")
    counting = Counting()
    client = WeChatClient(account, raw_transport=counting)
    materials.push_material(m, actor=editor, client=client)
    m.refresh_from_db()
    assert m.wechat_media_id and m.wechat_url.startswith(sandbox.base)
    assert m.article_url.startswith(sandbox.base) and m.push_error == ""
    assert materials.push_state(m) == "synced"
    assert counting.paths == ["material/add_material", "media/uploadimg"]
    # WeChat keeps the very file, and the in-article picture (small enough already)
    assert fetch(m.wechat_url) == data and fetch(m.article_url) == data
    assert WeChatClient(account).material_count()["image_count"] == 1
    event = AuditEvent.objects.get(name="material.pushed")
    assert (event.actor, event.data["wechat_media_id"]) == (editor, m.wechat_media_id)
    # a second push asks WeChat nothing
    materials.push_material(m, actor=editor, client=client)
    assert counting.paths == ["material/add_material", "media/uploadimg"]
    assert AuditEvent.objects.filter(name="material.pushed").count() == 1


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: noise((1600, 1200), "JPEG", quality=95), "big.jpg"),
        (lambda: still("BMP", (400, 300)), "scan.bmp"),
        (animated_gif, "anim.gif"),
    ],
    ids=["jpeg-over-1mb", "bmp", "gif"],
)
def test_an_in_article_picture_is_a_jpeg_of_at_most_1_mb_when_it_must_be(
    sandbox: Sandbox, account: Account, editor: Any, make: Any, name: str
) -> None:
    data = make()
    m = add(account, editor, data, name)
    materials.push_material(m, actor=editor)
    m.refresh_from_db()
    inside = fetch(m.article_url)
    assert len(inside) <= limits.ARTICLE_IMAGE_MAX_BYTES
    with Image.open(io.BytesIO(inside)) as img:
        assert img.format == "JPEG"
    assert fetch(m.wechat_url) == data  # the permanent material is the original


def test_audio_and_video_become_permanent_material(
    sandbox: Sandbox, account: Account, editor: Any
) -> None:
    voice = add(account, editor, wav(5), "广播.wav")
    video = add(account, editor, mp4(4096), "宣传片.mp4", caption="东湖水厂宣传片")
    for m in (voice, video):
        materials.push_material(m, actor=editor)
        m.refresh_from_db()
        assert m.wechat_media_id and m.article_url == "" and materials.is_pushed(m)
    assert WeChatClient(account).material_count() == {
        "voice_count": 1, "video_count": 1, "image_count": 0, "news_count": 0,
    }  # fmt: skip
    described = WeChatClient(account).post(
        "/cgi-bin/material/get_material", {"media_id": video.wechat_media_id}
    )
    assert (described["title"], described["description"]) == ("宣传片", "东湖水厂宣传片")


def test_a_refusal_is_kept_in_words_and_a_retry_after_the_fix_succeeds(
    sandbox: Sandbox, account: Account, editor: Any, picture: Material
) -> None:
    right = account.app_secret
    Account.objects.filter(pk=account.pk).update(app_secret="a-mistyped-secret")
    client = Client()
    client.force_login(editor)
    r = client.post(f"/content/materials/{picture.pk}/push/", follow=True)
    picture.refresh_from_db()
    assert picture.push_error == (
        "微信返回错误 40125：无效的 AppSecret / WeChat errcode 40125: invalid appsecret"
    )
    assert "「水厂」未能同步到微信：微信返回错误 40125：无效的 AppSecret" in r.content.decode()
    assert picture.wechat_media_id == "" and materials.push_state(picture) == "failed"
    failed = AuditEvent.objects.get(name="material.push_failed")
    assert (failed.data["errcode"], failed.data["step"]) == (40125, "add_material")

    Account.objects.filter(pk=account.pk).update(app_secret=right)  # the admin fixes it
    clear_local_tokens()
    r = client.post(f"/content/materials/{picture.pk}/push/", follow=True)
    assert "「水厂」已同步到微信" in r.content.decode()
    picture.refresh_from_db()
    assert picture.push_error == "" and materials.push_state(picture) == "synced"
    page = client.get(f"/content/materials/{picture.pk}/").content.decode()
    assert picture.wechat_media_id in page and 'id="push-error"' not in page


def test_a_push_under_way_is_not_started_twice(
    sandbox: Sandbox, account: Account, editor: Any, picture: Material
) -> None:
    from django.utils import timezone

    Material.objects.filter(pk=picture.pk).update(pushing_since=timezone.now())
    with pytest.raises(materials.PushBusy, match="正在同步到微信"):
        materials.push_material(picture, actor=editor)
    assert WeChatClient(account).material_count()["image_count"] == 0
    # a claim older than the lease (a worker killed mid-push) is taken over
    Material.objects.filter(pk=picture.pk).update(
        pushing_since=timezone.now() - materials.PUSH_LEASE * 2
    )
    materials.push_material(picture, actor=editor)
    picture.refresh_from_db()
    assert materials.is_pushed(picture) and picture.pushing_since is None


def test_a_pushed_material_deleted_here_is_deleted_on_wechat(
    sandbox: Sandbox, account: Account, editor: Any
) -> None:
    m = add(account, editor, still("PNG", (90, 90)), "临时.png")
    materials.push_material(m, actor=editor)
    m.refresh_from_db()
    assert WeChatClient(account).material_count()["image_count"] == 1
    materials.delete_material(m, actor=editor)
    assert not Material.objects.exists()
    assert WeChatClient(account).material_count()["image_count"] == 0
    assert (
        AuditEvent.objects.get(name="material.deleted").data["wechat_media_id"] == m.wechat_media_id
    )
