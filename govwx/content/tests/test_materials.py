"""The material library's services: what WeChat would refuse is refused in words before
anything is stored (a picture of a refused format, an animated GIF over the size, audio
over 2 MB or 60 s, a video that is not MP4); a picture over the size is made smaller;
the same file is stored once; a material in use is not deleted; a department liaison
edits and deletes only what they uploaded; search."""

from __future__ import annotations

import io
import os
import struct
import wave
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from govwx.accounts.models import Account, AuditEvent, Department
from govwx.content import limits, materials
from govwx.content.materials import MaterialInUse, MaterialRefused
from govwx.content.materials_files import check_file, mp3_seconds, sniff, wav_seconds
from govwx.content.models import Article, MassSend, Material
from govwx.wechat.models import media_storage

from .conftest import png_bytes

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


# ------------------------------------------------------------------ sample files


def noise(size: tuple[int, int], fmt: str, **save: Any) -> bytes:
    """A picture of random pixels (which compresses badly: a large file)."""
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def still(fmt: str = "JPEG", size: tuple[int, int] = (120, 90), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#2a7").save(out, fmt, **save)
    return out.getvalue()


def animated_gif(frames: int = 3) -> bytes:
    out = io.BytesIO()
    colours = ("#c33", "#3c3", "#33c", "#cc3")
    shots = [Image.new("RGB", (40, 30), colours[i % 4]) for i in range(frames)]
    shots[0].save(out, "GIF", save_all=True, append_images=shots[1:], duration=100, loop=0)
    return out.getvalue()


def padded(data: bytes, size: int) -> bytes:
    """The file followed by zeros up to `size` bytes (readers stop at its end)."""
    return data + b"\0" * (size - len(data))


def mp3(seconds: float, kbps: int = 32, id3: bool = True) -> bytes:
    """A constant-bitrate MPEG-1 layer III file at 48 kHz (frames of 1152 samples, all
    of one length at this rate), its frames empty."""
    index = {32: 1, 64: 5, 128: 9}[kbps]
    header = bytes([0xFF, 0xFB, (index << 4) | (1 << 2), 0xC4])  # 48 kHz, mono
    frame = header + b"\0" * (144 * kbps * 1000 // 48000 - 4)
    frames = round(seconds * 48000 / 1152)
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x00" if id3 else b""
    return tag + frame * frames


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(rate * seconds))
    return out.getvalue()


def amr(seconds: float) -> bytes:
    frame = bytes([0x3C]) + b"\0" * 31  # mode 7 (12.2 kbit/s): 32 bytes, 20 ms
    return b"#!AMR\n" + frame * int(seconds * 50)


def mp4(size: int = 2048, brand: bytes = b"isom") -> bytes:
    box = struct.pack(">I", 24) + b"ftyp" + brand + b"\0\0\x02\0" + b"isomiso2"
    mdat = struct.pack(">I", max(8, size - len(box))) + b"mdat"
    return padded(box + mdat, size)


def avi() -> bytes:
    return b"RIFF" + struct.pack("<I", 4000) + b"AVI LIST" + b"\0" * 4000


@pytest.fixture
def picture(account: Account, account_admin: Any) -> Material:
    """A picture of the library, uploaded by the account's admin (its file in the media
    storage, as every upload's)."""
    return library_picture(account, account_admin)


def library_picture(account: Account, actor: Any) -> Material:
    data = png_bytes()
    file = SimpleUploadedFile("water.png", data)
    return materials.upload(account, file, title="水厂", caption="新建的水厂", actor=actor).material


def content_of(name: str) -> bytes:
    with media_storage().open(name, "rb") as handle:
        return bytes(handle.read())


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["media"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(account: Account, actor: Any, data: bytes, name: str = "a.jpg", **kw: Any) -> Any:
    return materials.upload(
        account, SimpleUploadedFile(name, data, "image/jpeg"), actor=actor, **kw
    )


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("make", "kind", "message"),
    [
        (
            lambda: still("TIFF"),
            None,
            "微信不接收 TIFF 格式的图片，图片素材只能是 JPG、PNG、GIF 或 BMP",
        ),
        (lambda: still("WEBP"), "image", "微信不接收 WEBP 格式的图片"),
        (
            lambda: b"This is a text file, not a photo.\n" * 20,
            None,
            "这不是一张能识别的图片：图片素材只能是 JPG、PNG、GIF 或 BMP",
        ),
        (lambda: still("JPEG")[:200], "image", "这不是一张能识别的图片"),
        (
            lambda: padded(animated_gif(), 10 * MB + 1),
            None,
            "动图（GIF）有 10.0 MB，超过微信允许的 10.0 MB；动图无法在不丢失动画的情况下压缩",
        ),
        (
            lambda: mp3(140, kbps=128),
            None,
            "音频有 2.1 MB，超过微信允许的 2.0 MB，请压缩或剪短后再上传",
        ),
        (lambda: mp3(61), "voice", "音频长 61 秒，超过微信允许的 60 秒"),
        (lambda: wav(61), "voice", "音频长 61 秒，超过微信允许的 60 秒"),
        (lambda: amr(61), None, "音频长 61 秒，超过微信允许的 60 秒"),
        (
            lambda: b"OggS" + b"\0" * 500,
            "voice",
            "微信的音频素材只接收 MP3、WMA、WAV、AMR 格式，这个文件是 OGG",
        ),
        (lambda: still("PNG"), "voice", "这个文件是 PNG"),
        (
            avi,
            "video",
            "微信的视频素材只接收 MP4 格式，这个文件是 AVI，请转换为 MP4 后再上传",
        ),
        (lambda: mp4(brand=b"qt  "), "video", "这个文件是 MOV"),
        (lambda: b"\x1a\x45\xdf\xa3" + b"\0" * 300, None, "这个文件是 MKV/WebM"),
        (lambda: padded(mp4(), 10 * MB + 1), None, "视频有 10.0 MB，超过微信允许的 10.0 MB"),
        (lambda: b"%PDF-1.7\n" + b"\0" * 100, None, "素材库只收图片、音频和视频，这个文件是 PDF"),
        (lambda: b"", None, "文件是空的"),
    ],
    ids=[
        "tiff", "webp", "text-named-jpg", "truncated-jpeg", "animated-gif-over-10mb",
        "voice-over-2mb", "mp3-over-60s", "wav-over-60s", "amr-over-60s", "ogg-voice",
        "picture-as-voice", "avi-video", "mov-video", "webm", "video-over-10mb", "pdf", "empty",
    ],
)  # fmt: skip
def test_a_file_wechat_would_refuse_is_refused_in_words_and_nothing_is_stored(
    account: Account, editor: Any, make: Any, kind: str | None, message: str
) -> None:
    with pytest.raises(MaterialRefused) as refused:
        upload(account, editor, make(), kind=kind)
    assert message in refused.value.messages[0]
    assert " / " in refused.value.messages[0]  # Chinese, then English
    assert not Material.objects.exists()
    assert stored_files() == []
    assert not AuditEvent.objects.filter(name__startswith="material.").exists()


def test_a_file_over_what_the_library_takes_is_refused_before_it_is_read(
    account: Account, editor: Any
) -> None:
    class Huge(SimpleUploadedFile):
        def chunks(self, chunk_size: int | None = None) -> Any:
            raise AssertionError("read")

    big = Huge("huge.jpg", b"x", "image/jpeg")
    big.size = 41 * MB
    with pytest.raises(MaterialRefused, match="文件有 41.0 MB，超过素材库允许的 40.0 MB"):
        materials.upload(account, big, actor=editor)
    assert not Material.objects.exists()


def test_a_title_caption_or_tag_too_long_is_refused_and_nothing_is_stored(
    account: Account, editor: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        upload(account, editor, still(), title="水" * 65, caption="图" * 121, tags="标" * 21)
    assert refused.value.messages == [
        "名称最多 64 字，现为 65 字 / the title is too long",
        "图片说明最多 120 字，现为 121 字 / the caption is too long",
        f"每个标签最多 20 字：{'标' * 21} / a tag is too long",
    ]
    assert not Material.objects.exists() and stored_files() == []


def test_a_role_without_materials_edit_cannot_upload(account: Account, reviewer: Any) -> None:
    with pytest.raises(PermissionDenied, match="素材库：上传、修改、删除素材"):
        upload(account, reviewer, still())
    assert not Material.objects.exists() and stored_files() == []


# ------------------------------------------------------------------ what is kept


def test_a_picture_is_stored_with_its_thumbnail_size_and_audit(
    account: Account, editor: Any
) -> None:
    data = still("PNG", (640, 480))
    done = upload(
        account,
        editor,
        data,
        name="东湖水厂.png",
        caption="新建的东湖水厂",
        tags="水务, 民生 #水务",
    )
    m = done.material
    assert done.created and not done.resized and done.note == ""
    assert done.message == "已上传「东湖水厂」 / uploaded"
    assert (m.kind, m.title, m.caption, m.tags) == (
        "image",
        "东湖水厂",
        "新建的东湖水厂",
        "水务 民生",
    )
    assert (m.content_type, m.size, m.width, m.height) == ("image/png", len(data), 640, 480)
    assert m.uploaded_by == editor and m.file.name.endswith(".png")
    assert content_of(m.file.name) == data
    with Image.open(io.BytesIO(content_of(m.thumbnail.name))) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (320, 240)
    event = AuditEvent.objects.get(name="material.uploaded")
    assert (event.actor, event.account_id, event.data["material"]) == (editor, account.pk, m.pk)
    assert event.data["resized"] is False


@pytest.mark.parametrize(
    ("data", "fmt", "content_type", "kind"),
    [
        (mp3(30), "mp3", "audio/mpeg", "voice"),
        (mp3(30, id3=False), "mp3", "audio/mpeg", "voice"),
        (wav(59), "wav", "audio/wav", "voice"),
        (amr(20), "amr", "audio/amr", "voice"),
        (mp4(), "mp4", "video/mp4", "video"),
        (still("BMP"), "bmp", "image/bmp", "image"),
        (animated_gif(), "gif", "image/gif", "image"),
    ],
    ids=["mp3", "mp3-no-tag", "wav", "amr", "mp4", "bmp", "gif"],
)
def test_audio_video_and_pictures_are_known_by_their_bytes(
    account: Account, editor: Any, data: bytes, fmt: str, content_type: str, kind: str
) -> None:
    assert sniff(data) == fmt
    m = upload(account, editor, data, name="no-extension").material
    assert (m.kind, m.content_type, m.title) == (kind, content_type, "no-extension")
    assert m.file.name.endswith("." + fmt)
    assert bool(m.thumbnail) is (kind == "image")


def test_play_times_are_read_from_the_files() -> None:
    assert mp3_seconds(mp3(30)) == pytest.approx(30, abs=0.1)
    assert mp3_seconds(mp3(45, kbps=64, id3=False)) == pytest.approx(45, abs=0.1)
    assert wav_seconds(wav(12.5)) == pytest.approx(12.5)
    assert check_file(amr(59.9)).kind == "voice"


def test_a_large_jpeg_is_made_smaller_instead_of_refused(account: Account, editor: Any) -> None:
    data = noise((3600, 2400), "JPEG", quality=98)
    assert len(data) > limits.IMAGE_MAX_BYTES
    done = upload(account, editor, data, name="会场.jpg")
    m = done.material
    assert done.created and done.resized
    assert (m.width, m.height) == (1920, 1280)
    assert m.size <= limits.IMAGE_MAX_BYTES and m.content_type == "image/jpeg"
    with Image.open(io.BytesIO(content_of(m.file.name))) as img:
        assert img.format == "JPEG" and img.size == (1920, 1280)
    assert f"原图 {len(data) / MB:.1f} MB（3600×2400）超过微信允许的 10.0 MB" in done.note
    assert "已缩小为 1920×1280 的 JPG" in done.note and done.note in done.message
    assert AuditEvent.objects.get(name="material.uploaded").data["resized"] is True
    # the same large file again is the material already kept (its sha256 as uploaded)
    again = upload(account, editor, data)
    assert not again.created and again.material == m


def test_a_large_png_with_transparency_becomes_a_jpeg_on_white(
    account: Account, editor: Any
) -> None:
    img = Image.frombytes("RGBA", (2000, 1800), os.urandom(2000 * 1800 * 4))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    assert out.tell() > limits.IMAGE_MAX_BYTES
    done = upload(account, editor, out.getvalue(), name="地图.png")
    m = done.material
    assert done.resized and m.content_type == "image/jpeg" and m.size <= limits.IMAGE_MAX_BYTES
    assert (m.width, m.height) == (1920, 1728)
    assert "已缩小为 1920×1728 的 JPG" in done.note


def test_a_large_still_gif_is_made_smaller(account: Account, editor: Any) -> None:
    done = upload(account, editor, padded(still("GIF", (800, 600)), 10 * MB + 5))
    assert done.resized and done.material.content_type == "image/jpeg"
    assert (done.material.width, done.material.height) == (800, 600)


def test_a_phone_photo_turned_sideways_is_measured_upright(account: Account, editor: Any) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to show
    m = upload(account, editor, still("JPEG", (400, 300), exif=exif.tobytes())).material
    assert (m.width, m.height) == (300, 400)


def test_the_same_file_uploaded_again_is_the_material_already_there(
    account: Account, editor: Any, operator: Any, other_account: Account
) -> None:
    data = png_bytes((80, 60))
    first = upload(account, editor, data, name="a.png")
    again = upload(account, operator, data, name="b.png", title="另一个名字")
    assert first.created and not again.created and again.material == first.material
    assert again.message == "「a」已在素材库中（同一文件），未重复上传 / already in the library"
    assert Material.objects.count() == 1 and len(stored_files()) == 2  # file + thumbnail
    assert AuditEvent.objects.filter(name="material.uploaded").count() == 1
    # another account keeps its own copy
    from govwx.accounts.models import Membership

    Membership.objects.create(user=editor, account=other_account, role="editor")
    elsewhere = upload(other_account, editor, data)
    assert elsewhere.created and elsewhere.material.account == other_account


# ------------------------------------------------------------------ edit, where used, delete


def test_title_caption_and_tags_are_edited_and_audited(
    account: Account, editor: Any, picture: Material
) -> None:
    materials.edit_material(
        picture, title="东湖水厂", caption="清水池", tags="水务，民生、 水务", actor=editor
    )
    picture.refresh_from_db()
    assert (picture.title, picture.caption, picture.tags) == ("东湖水厂", "清水池", "水务 民生")
    event = AuditEvent.objects.get(name="material.edited")
    assert event.data["changed"]["title"] == ["水厂", "东湖水厂"]
    with pytest.raises(ValidationError, match="名称不能为空"):
        materials.edit_material(picture, title=" ", caption="", tags="", actor=editor)
    picture.refresh_from_db()
    assert picture.title == "东湖水厂"


def article(account: Account, title: str, body: list[Any], **kw: Any) -> Article:
    return Article.objects.create(account=account, title=title, body=body, **kw)


def test_where_used_finds_covers_and_blocks_and_nothing_else(
    account: Account, editor: Any, picture: Material, other_account: Account
) -> None:
    m = picture
    cover = article(account, "封面用", [], cover=m)
    in_body = article(
        account,
        "正文用",
        [{"type": "text", "html": "<p>x</p>"}, {"type": "image", "material": m.pk}],
    )
    as_text = article(account, "编号为文字", [{"type": "image", "material": str(m.pk)}])
    both = article(account, "两处都用", [{"type": "image", "material": m.pk}], cover=m)
    # a material whose id starts with this one's, a text that mentions it, another account
    article(account, "别的素材", [{"type": "image", "material": int(f"{m.pk}1")}])
    article(account, "文字提到", [{"type": "text", "html": f'<p>"material": {m.pk}</p>'}])
    article(other_account, "别的号", [{"type": "image", "material": m.pk}])
    uses = materials.where_used(m)
    found = {u.article.pk: u.where for u in uses if u.article is not None}
    assert found == {
        cover.pk: ["封面"],
        in_body.pk: ["正文"],
        as_text.pk: ["正文"],
        both.pk: ["封面", "正文"],
    }


def test_a_material_in_use_is_not_deleted_and_the_articles_are_named(
    account: Account, editor: Any, picture: Material
) -> None:
    article(account, "东湖区明日停水", [{"type": "image", "material": picture.pk}])
    article(account, "水厂开放日", [], cover=picture)
    with pytest.raises(MaterialInUse) as refused:
        materials.delete_material(picture, actor=editor)
    text = refused.value.messages[0]
    assert text.startswith("「水厂」正被使用，不能删除：")
    assert "《东湖区明日停水》" in text and "《水厂开放日》" in text
    assert Material.objects.filter(pk=picture.pk).exists()
    assert media_storage().exists(picture.file.name)
    assert not AuditEvent.objects.filter(name="material.deleted").exists()


def test_a_material_of_a_mass_send_is_not_deleted(
    account: Account, editor: Any, picture: Material
) -> None:
    from django.utils import timezone

    send = MassSend.objects.create(
        account=account, kind="image", image=picture, to_all=True, due_at=timezone.now()
    )
    with pytest.raises(MaterialInUse, match=f"群发 #{send.pk}"):
        materials.delete_material(picture, actor=editor)
    assert Material.objects.filter(pk=picture.pk).exists()


def test_an_unused_material_is_deleted_with_its_files(
    account: Account, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    m = upload(account, editor, still("PNG")).material
    assert len(stored_files()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        materials.delete_material(m, actor=editor)
    assert not Material.objects.exists()
    assert stored_files() == []
    event = AuditEvent.objects.get(name="material.deleted")
    assert (event.actor, event.data["title"], event.data["sha256"]) == (editor, "a", m.sha256)


# ------------------------------------------------------------------ a department liaison


def test_a_liaison_uploads_and_changes_only_their_own(
    account: Account,
    editor: Any,
    liaison: Any,
    department: Department,
    other_department: Department,
    picture: Material,
) -> None:
    data = png_bytes((30, 30), "#c33")
    mine = upload(account, liaison, data).material
    assert mine.uploaded_by == liaison and content_of(mine.file.name) == data
    materials.edit_material(mine, title="我的", caption="", tags="", actor=liaison)
    # the editor's picture: seen, not changed, not deleted
    assert materials.may_change(liaison, mine) and not materials.may_change(liaison, picture)
    with pytest.raises(PermissionDenied, match="部门联络员只能修改、删除自己上传的素材"):
        materials.edit_material(picture, title="改", caption="", tags="", actor=liaison)
    with pytest.raises(PermissionDenied):
        materials.delete_material(picture, actor=liaison)
    picture.refresh_from_db()
    assert picture.title == "水厂" and Material.objects.count() == 2
    # where used: their department's articles by name, the others only counted
    article(account, "水务局稿", [{"type": "image", "material": mine.pk}],
            source_department=department)  # fmt: skip
    article(account, "人社局稿", [{"type": "image", "material": mine.pk}],
            source_department=other_department)  # fmt: skip
    seen, hidden = materials.uses_for(liaison, mine)
    assert [u.title for u in seen] == ["水务局稿"] and hidden == 1
    with pytest.raises(MaterialInUse) as refused:
        materials.delete_material(mine, actor=liaison)
    assert "《水务局稿》等另外 1 处" in refused.value.messages[0]
    assert "人社局稿" not in refused.value.messages[0]
    assert len(materials.uses_for(editor, mine)[0]) == 2


# ------------------------------------------------------------------ search


def test_search_by_words_kind_tag_uploader_and_state(
    account: Account, editor: Any, operator: Any
) -> None:
    a = upload(account, editor, still("PNG", (10, 10)), title="东湖水厂", caption="清水池",
               tags="水务 民生").material  # fmt: skip
    b = upload(account, operator, still("PNG", (11, 11)), title="会议", caption="全市水务会议",
               tags="会议").material  # fmt: skip
    c = upload(account, editor, wav(3), name="广播.wav", tags="水务局").material
    Material.objects.filter(pk=b.pk).update(push_error="微信返回错误 -1")
    Material.objects.filter(pk=c.pk).update(wechat_media_id="MEDIA")

    def ids(**kw: Any) -> list[int]:
        return [m.pk for m in materials.search(editor, account, **kw)]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(q="水务") == [c.pk, b.pk, a.pk]
    assert ids(q="水务 会议") == [b.pk]
    assert ids(q="清水") == [a.pk]
    assert ids(kind="voice") == [c.pk]
    assert ids(tag="水务") == [a.pk]  # a tag, not part of one (水务局)
    assert ids(tag="#水务局") == [c.pk]
    assert ids(uploader=operator.pk) == [b.pk]
    assert ids(state="synced") == [c.pk]
    assert ids(state="failed") == [b.pk]
    assert ids(state="unsynced") == [a.pk]
    assert materials.tags_of(account) == ["会议", "民生", "水务", "水务局"]
    assert [name for _pk, name in materials.uploaders(account)] == ["editor", "operator"]
