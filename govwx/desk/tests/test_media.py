"""What citizens send, in the case: the batch writes one row per file and calls nobody;
the case page shows pictures (thumbnail → full size), voice with WeChat's recognition,
video, a place with the nearest office, a link; the files are served only to people who
may see the case; a picture reply reaches the citizen through the sandbox."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from govwx.accounts.models import Account, AuditEvent, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.desk import services
from govwx.desk.models import Case, CaseEvent, CaseMessage
from govwx.services.models import Office
from govwx.wechat import media as channel
from govwx.wechat.client import clear_local_tokens
from govwx.wechat.models import Follower, InboundMessage, MessageMedia, OutboundMessage
from govwx.wechat.tests.mediafiles import MB, padded, picture
from govwx.wechat.tests.test_client import Sandbox
from govwx.workcalendar.services import seed_from_package

SEQ = iter(range(1, 10**6))


def inbound(account: Account, openid: str, msg_type: str, **payload: Any) -> InboundMessage:
    now = datetime.now(UTC)
    Follower.objects.update_or_create(
        account=account,
        openid=openid,
        defaults={"subscribed": True, "first_seen_at": now, "last_interaction_at": now},
    )
    return InboundMessage.objects.create(
        account=account, openid=openid, dedup_key=f"m{next(SEQ)}", msg_type=msg_type,
        content=payload.pop("Content", ""), payload=payload, sent_at=now, received_at=now,
        handled_by="desk",
    )  # fmt: skip


def stored(row: MessageMedia, content: bytes, content_type: str) -> MessageMedia:
    """The file as the fetcher would have stored it."""
    name, thumb = channel.save_files(row.account_id, content, content_type)
    MessageMedia.objects.filter(pk=row.pk).update(
        status="stored", file=name, thumbnail=thumb, content_type=content_type, size=len(content)
    )
    row.refresh_from_db()
    return row


@pytest.mark.django_db
def test_the_batch_writes_the_media_rows_in_one_insert_and_calls_nobody(
    account: Account, settings: Any
) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9/unreachable"
    image = inbound(account, "oA", "image", PicUrl="http://p/1.jpg", MediaId="IMG1")
    voice = inbound(account, "oB", "voice", MediaId="VOX1", Format="amr", Recognition="路灯坏了")
    inbound(account, "oC", "location", Location_X="34.26", Location_Y="108.94", Label="钟楼")
    inbound(account, "oA", "text", Content="就在小区门口")
    video = inbound(account, "oD", "shortvideo", MediaId="VID1", ThumbMediaId="T1")
    with CaptureQueriesContext(connection) as queries:
        assert services.take_in_pending() == (5, 0)
    inserts = [q["sql"] for q in queries if 'INTO "wechat_messagemedia"' in q["sql"]]
    assert len(inserts) == 1
    rows = MessageMedia.objects.order_by("inbound_id")
    assert [(r.inbound_id, r.kind, r.media_id, r.status, r.attempts) for r in rows] == [
        (image.pk, "image", "IMG1", "pending", 0),
        (voice.pk, "voice", "VOX1", "pending", 0),
        (video.pk, "shortvideo", "VID1", "pending", 0),
    ]
    assert all(r.next_attempt_at == r.inbound.received_at for r in rows)
    assert Case.objects.count() == 4


@pytest.fixture
def city(account: Account) -> Organisation:
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    Office.objects.create(
        organisation=org, code="HALL", name="市政务服务中心", address="未央路 100 号",
        latitude=34.27, longitude=108.95,
    )  # fmt: skip
    return org


@pytest.mark.django_db
def test_the_case_page_shows_what_the_citizen_sent(
    client: Client, account: Account, operator: Any, city: Organisation
) -> None:
    jpeg = picture(size=(1000, 800))
    photo = inbound(account, "oA", "image", PicUrl="http://p/1.jpg", MediaId="IMG1")
    services.take_in_pending()
    stored(photo.media, jpeg, "image/jpeg")  # type: ignore[attr-defined]
    inbound(account, "oA", "voice", MediaId="VOX1", Format="amr", Recognition="井盖丢了")
    inbound(account, "oA", "video", MediaId="VID1", ThumbMediaId="T1")
    inbound(account, "oA", "location", Location_X="34.26", Location_Y="108.94", Scale="15",
            Label="钟楼东北角")  # fmt: skip
    inbound(account, "oA", "link", Title="积水照片", Description="昨晚", Url="https://example.cn/p")
    inbound(account, "oA", "link", Title="坏链接", Url="javascript:alert(1)")
    services.take_in_pending()
    voice = MessageMedia.objects.get(kind="voice")
    MessageMedia.objects.filter(kind="video").update(
        status="failed", error="40007 invalid media_id"
    )
    stored(voice, b"#!AMR\n" + b"\x3c" * 32, "audio/amr")
    case = Case.objects.get()
    client.force_login(operator)
    page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    photo_url = f"/desk/media/{photo.media.pk}/"  # type: ignore[attr-defined]
    assert f'<img class="media-thumb" src="{photo_url}?thumb=1"' in page
    assert f'<a href="{photo_url}" target="_blank"' in page
    assert (
        f'href="/desk/media/{voice.pk}/" class="btn media-download" download>下载语音（AMR）'
        in page
    )
    assert "语音识别：井盖丢了" in page
    assert "未能取回：微信已不再保存该文件（微信只保留三天，或媒体 ID 无效）。" in page
    assert "钟楼东北角" in page and "纬度 34.26，经度 108.94" in page
    assert "最近的办事网点：市政务服务中心（1.4 公里） · 未央路 100 号" in page
    assert (
        '<a href="https://example.cn/p" target="_blank" rel="noopener noreferrer nofollow"' in page
    )
    assert 'href="javascript:' not in page
    # the full picture and its thumbnail, to the case's own people
    full = client.get(photo_url)
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert b"".join(full.streaming_content) == jpeg  # type: ignore[attr-defined]
    thumb = client.get(photo_url + "?thumb=1")
    assert thumb["Content-Type"] == "image/jpeg" and len(b"".join(thumb.streaming_content)) < len(
        jpeg
    )  # type: ignore[attr-defined]
    download = client.get(f"/desk/media/{voice.pk}/")
    assert download["Content-Disposition"] == f'attachment; filename="voice-{voice.pk}.amr"'


@pytest.mark.django_db
def test_a_pending_file_says_it_is_on_its_way(
    client: Client, account: Account, operator: Any
) -> None:
    inbound(account, "oA", "image", PicUrl="http://p/1.jpg", MediaId="IMG1")
    services.take_in_pending()
    client.force_login(operator)
    page = client.get(f"/desk/cases/{Case.objects.get().pk}/").content.decode()
    assert "正在从微信取回文件…" in page
    assert "/desk/media/" not in page


@pytest.mark.django_db
def test_only_people_who_see_the_case_open_its_media(
    client: Client, account: Account, operator: Any, outsider: Any, django_user_model: Any
) -> None:
    photo = inbound(account, "oA", "image", PicUrl="http://p/1.jpg", MediaId="IMG1")
    services.take_in_pending()
    row = stored(MessageMedia.objects.get(inbound=photo), picture(), "image/jpeg")
    url = f"/desk/media/{row.pk}/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(url + "?thumb=1").status_code == 404
    # a liaison of a department that does not hold the case
    org = Organisation.objects.create(name="示例市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=org)
    account.refresh_from_db()
    dept = Department.objects.create(organisation=org, name="市水务局")
    liaison = django_user_model.objects.create_user("liaison-w", password="pw-l-1")
    add_member(account, liaison, Membership.Role.LIAISON, department=dept)
    client.force_login(liaison)
    assert client.get(url).status_code == 404
    client.force_login(operator)
    assert client.get(url).status_code == 200
    assert client.get(f"/desk/media/{row.pk + 1000}/").status_code == 404


@pytest.mark.django_db
def test_the_export_lists_the_media_by_link(
    client: Client, account: Account, operator: Any, settings: Any
) -> None:
    settings.GOVWX_PUBLIC_URL = "https://wx.example.gov.cn"
    photo = inbound(account, "oA", "image", PicUrl="http://p/1.jpg", MediaId="IMG1")
    services.take_in_pending()
    row = stored(MessageMedia.objects.get(inbound=photo), picture(), "image/jpeg")
    client.force_login(operator)
    response = client.get("/desk/cases/export.csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))  # type: ignore[attr-defined]
    assert lines[0][-1] == "附件"
    assert lines[1][-1] == f"https://wx.example.gov.cn/desk/media/{row.pk}/"


# ------------------------------------------------------------------ a picture as a reply


@pytest.fixture
def sandbox(live_server: Any, settings: Any, account: Account) -> Any:
    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    cache.clear()
    clear_local_tokens()
    seed_from_package()
    box = Sandbox(live_server.url + "/sandbox")
    box.register(account)
    yield box
    cache.clear()
    clear_local_tokens()


@pytest.mark.django_db(transaction=True)
def test_a_picture_reply_reaches_the_citizens_phone(
    client: Client, sandbox: Sandbox, account: Account, operator: Any
) -> None:
    openid = sandbox.follower_writing(account)
    msg = inbound(account, openid, "text", Content="井盖丢了")
    case = services.intake(msg.pk)
    client.force_login(operator)
    png = picture("PNG", size=(800, 600))
    response = client.post(
        f"/desk/cases/{case.pk}/picture/",
        {"revision": case.revision, "picture": SimpleUploadedFile("fixed.png", png, "image/png")},
    )
    assert response.status_code == 302
    out = CaseMessage.objects.get(case=case, direction="out")
    assert out.text == "[图片]" and out.author == operator
    assert out.outbound.status == OutboundMessage.Status.SENT
    media_id = out.outbound.payload["media_id"]
    entries = sandbox.call("GET", f"/api/accounts/{account.appid}/followers/{openid}/conversation")
    custom = [e for e in entries["entries"] if e["kind"] == "custom"]
    assert custom[-1]["payload"] == {"msg_type": "image", "media_id": media_id}
    # the phone shows the picture WeChat keeps for that media_id: the same bytes
    import urllib.request

    with urllib.request.urlopen(f"{sandbox.base}/media/{media_id}") as got:
        assert got.read() == png
    case.refresh_from_db()
    assert case.status == "answered"
    assert CaseEvent.objects.filter(case=case, name="case.replied", data={"picture": True}).exists()
    audit = AuditEvent.objects.get(name="case.picture_sent")
    assert (audit.actor, audit.account_id, audit.data["case"]) == (operator, account.pk, case.pk)
    sent = MessageMedia.objects.get(outbound=out.outbound)
    assert (sent.status, sent.content_type, sent.size) == ("stored", "image/png", len(png))
    page = client.get(f"/desk/cases/{case.pk}/").content.decode()
    assert f'src="/desk/media/{sent.pk}/?thumb=1"' in page
    assert "图片已发送给群众" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (padded(picture(), 10 * MB + 1), "图片有 10.0 MB，超过微信允许的 10 MB，请压缩后再发送。"),
        (picture("BMP"), "微信不接收 BMP 格式的图片，只能发送 JPG、PNG 或 GIF 图片。"),
        (b"%PDF-1.4", "这不是一张能识别的图片，只能发送 JPG、PNG 或 GIF 图片。"),
    ],
)
def test_a_picture_wechat_would_refuse_is_refused_before_any_call(
    client: Client, account: Account, operator: Any, settings: Any, content: bytes, message: str
) -> None:
    settings.GOVWX_WECHAT_API_BASE = "http://127.0.0.1:9/any-call-would-fail-differently"
    msg = inbound(account, "oA", "text", Content="井盖丢了")
    case = services.intake(msg.pk)
    client.force_login(operator)
    response = client.post(
        f"/desk/cases/{case.pk}/picture/",
        {"revision": case.revision, "picture": SimpleUploadedFile("x.jpg", content, "image/jpeg")},
        follow=True,
    )
    assert message in response.content.decode()
    case.refresh_from_db()
    assert case.status == "new" and case.revision == 1
    assert not OutboundMessage.objects.exists()
    assert not MessageMedia.objects.exists()
    assert not CaseMessage.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_an_outsider_cannot_reply_with_a_picture(
    client: Client, account: Account, outsider: Any
) -> None:
    msg = inbound(account, "oA", "text", Content="井盖丢了")
    case = services.intake(msg.pk)
    client.force_login(outsider)
    response = client.post(
        f"/desk/cases/{case.pk}/picture/",
        {"revision": case.revision, "picture": SimpleUploadedFile("a.png", picture("PNG"))},
    )
    assert response.status_code == 404
    assert not OutboundMessage.objects.exists()
