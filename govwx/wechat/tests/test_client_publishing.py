"""The client's publishing methods against the sandbox platform over real HTTP: permanent
material and article pictures, drafts, freepublish and mass send, with WeChat's refusals
raised as typed errors that carry the errcode and a Chinese explanation."""

from __future__ import annotations

import urllib.request
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from govwx.accounts.models import Account
from govwx.wechat.client import (
    PUBLISH_STATUSES,
    ArticleRefused,
    DuplicateMassSend,
    InvalidArticleId,
    InvalidMediaId,
    InvalidPublishId,
    MassQuotaUsedUp,
    MassRetryTooFast,
    MediaRefused,
    Unauthorized,
    WeChatAPIError,
    WeChatClient,
)
from govwx.wechat.errors import (
    DraftNotPublishable,
    InvalidMsgId,
    MaterialInUse,
    MaterialLimitReached,
    OpenidListInvalid,
    PublishBanned,
    RateLimited,
    error_for,
)

from .mediafiles import amr, mp4, picture
from .test_client import Sandbox, live

ARTICLE = {
    "title": "示例市开展冬季供暖检查",
    "author": "市发布",
    "content": "<p>本市今日起开展冬季供暖设施安全检查。</p>",
    "content_source_url": "https://www.example.gov.cn/news/1",
    "need_open_comment": 1,
}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def run_jobs(sandbox: Sandbox, account: Account) -> list[dict[str, Any]]:
    return list(
        sandbox.call("POST", f"/api/accounts/{account.appid}/jobs/run", {"all": True})["finished"]
    )


def followers(sandbox: Sandbox, account: Account, n: int) -> list[str]:
    return [
        sandbox.call("POST", f"/api/accounts/{account.appid}/followers", {"follow": True})["openid"]
        for _ in range(n)
    ]


def as_service(sandbox: Sandbox, account: Account) -> None:
    sandbox.call(
        "POST",
        "/api/accounts",
        {
            "name": account.name,
            "appid": account.appid,
            "secret": account.app_secret,
            "token": account.token,
            "aes_key": account.aes_key,
            "mode": account.mode,
            "type": "service",
        },
    )


def with_cover(client: WeChatClient, **overrides: Any) -> dict[str, Any]:
    thumb, _ = client.add_material("thumb", "cover.jpg", picture(size=(120, 90)), "image/jpeg")
    return {**ARTICLE, "thumb_media_id": thumb, **overrides}


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("errcode", "cls", "explanation"),
    [
        (40007, InvalidMediaId, "不合法的媒体文件 ID（素材或草稿不存在）"),
        (45034, MaterialLimitReached, "素材库的该类素材数量已达上限"),
        (48005, MaterialInUse, "该素材被自动回复或自定义菜单引用，不能删除"),
        (45003, ArticleRefused, "标题超过限制（图文标题最多 32 个字）"),
        (45110, ArticleRefused, "作者字数超过限制（最多 16 个字）"),
        (53503, DraftNotPublishable, "该草稿未通过发布检查"),
        (53500, PublishBanned, "发布功能已被封禁"),
        (53501, RateLimited, "发布请求过于频繁"),
        (53502, InvalidPublishId, "发布任务 ID（publish_id）无效"),
        (53600, InvalidArticleId, "文章 ID（article_id）无效"),
        (45028, MassQuotaUsedUp, "群发配额已用完"),
        (45065, DuplicateMassSend, "相同 clientmsgid 已存在群发记录（24 小时内），未重复群发"),
        (45066, MassRetryTooFast, "相同 clientmsgid 重试过快，请间隔 1 分钟再试"),
        (40059, InvalidMsgId, "不合法的群发消息 ID"),
        (40130, OpenidListInvalid, "OpenID 列表长度不合法（至少 2 个）"),
        (40032, OpenidListInvalid, "OpenID 列表长度不合法（最多 10000 个）"),
        (48001, Unauthorized, "接口未授权（帐号类型或认证状态不支持该接口）"),
    ],
)
def test_publishing_errcodes_are_typed_and_explained(
    errcode: int, cls: type, explanation: str
) -> None:
    error = error_for(errcode, "errmsg from WeChat", {"errcode": errcode, "msg_id": 31})
    assert type(error) is cls
    assert (error.errcode, error.errmsg, error.explanation) == (
        errcode,
        "errmsg from WeChat",
        explanation,
    )
    assert str(error) == f"WeChat errcode {errcode}: errmsg from WeChat"


def test_an_unknown_errcode_has_no_explanation_and_a_duplicate_names_its_send() -> None:
    assert error_for(99999).explanation == ""
    duplicate = error_for(45065, "clientmsgid exist", {"msg_id": 3147483661})
    assert isinstance(duplicate, DuplicateMassSend) and duplicate.msg_id == 3147483661
    assert (MassRetryTooFast.retryable, MassRetryTooFast.retry_after) == (True, 60.0)
    assert PUBLISH_STATUSES[3] == "常规失败"


# ------------------------------------------------------------------ material


@live
def test_it_adds_material_and_article_pictures(account: Account) -> None:
    client = WeChatClient(account)
    png = picture("PNG")
    media_id, url = client.add_material("image", "路灯.png", png, "image/png")
    assert url is not None and fetch(url) == png
    video_id, no_url = client.add_material(
        "video", "供暖.mp4", mp4(300), "video/mp4", title="冬季供暖", introduction="检查现场"
    )
    assert no_url is None
    client.add_material("voice", "通知.amr", amr(2), "audio/amr")
    client.add_material("thumb", "t.jpg", picture(size=(60, 40)), "image/jpeg")
    assert client.material_count() == {
        "voice_count": 1,
        "video_count": 1,
        "image_count": 2,
        "news_count": 0,
    }
    described = client.post("/cgi-bin/material/get_material", {"media_id": video_id})
    assert (described["title"], described["description"]) == ("冬季供暖", "检查现场")
    jpeg = picture()
    inside = client.upload_article_image("正文图.jpg", jpeg, "image/jpeg")
    assert fetch(inside) == jpeg
    client.delete_material(media_id)
    with pytest.raises(InvalidMediaId) as info:
        client.delete_material(media_id)
    assert info.value.errcode == 40007


@live
def test_refused_files_are_typed(account: Account) -> None:
    client = WeChatClient(account)
    with pytest.raises(MediaRefused) as info:
        client.add_material("image", "x.txt", b"not a picture", "text/plain")
    assert (info.value.errcode, info.value.explanation) == (
        40005,
        "不合法的文件类型（文件格式不被接受）",
    )
    with pytest.raises(MediaRefused) as thumb:
        client.add_material("thumb", "t.png", picture("PNG"), "image/png")
    assert thumb.value.errcode == 40005
    with pytest.raises(MediaRefused) as big:
        client.upload_article_image("big.jpg", picture() + b"\0" * (1024 * 1024), "image/jpeg")
    assert big.value.errcode == 40009
    with pytest.raises(ValueError, match="unknown permanent material type"):
        client.add_material("news", "n.jpg", picture(), "image/jpeg")


# ------------------------------------------------------------------ drafts and publishing


@live
def test_it_keeps_drafts(account: Account) -> None:
    client = WeChatClient(account)
    media_id = client.add_draft([with_cover(client), with_cover(client, title="第二篇")])
    client.update_draft(media_id, 1, with_cover(client, title="第二篇（更正）"))
    got = client.post("/cgi-bin/draft/get", {"media_id": media_id})
    assert [a["title"] for a in got["news_item"]] == ["示例市开展冬季供暖检查", "第二篇（更正）"]
    with pytest.raises(ArticleRefused) as info:
        client.add_draft([with_cover(client, title="长" * 33)])
    assert (info.value.errcode, info.value.explanation) == (
        45003,
        "标题超过限制（图文标题最多 32 个字）",
    )
    with pytest.raises(ArticleRefused) as author:
        client.update_draft(media_id, 0, with_cover(client, author="作" * 17))
    assert author.value.errcode == 45110
    for bad in ([], [ARTICLE] * 9):
        with pytest.raises(ValueError, match="one to eight articles"):
            client.add_draft(bad)
    client.delete_draft(media_id)
    with pytest.raises(InvalidMediaId):
        client.delete_draft(media_id)


@live
def test_it_publishes_and_follows_the_task(
    account: Account, sandbox: Sandbox, settings: Any
) -> None:
    settings.GOVWX_SANDBOX_PUBLISH_SECONDS = 60  # ends when the test runs the jobs
    client = WeChatClient(account)
    media_id = client.add_draft([with_cover(client)])
    publish_id, msg_data_id = client.submit_publish(media_id)
    assert publish_id.isdigit() and msg_data_id.isdigit()
    assert client.publish_status(publish_id) == {"publish_id": publish_id, "publish_status": 1}
    run_jobs(sandbox, account)
    done = client.publish_status(publish_id)
    assert done["publish_status"] == 0
    article_id = done["article_id"]
    url = done["article_detail"]["item"][0]["article_url"]
    assert "示例市开展冬季供暖检查" in fetch(url).decode()
    listed = client.published_articles()
    assert [i["article_id"] for i in listed] == [article_id]
    assert listed[0]["content"]["news_item"][0]["title"] == "示例市开展冬季供暖检查"
    assert "content" not in listed[0]["content"]["news_item"][0]
    with pytest.raises(ValueError, match="count 1 to 20"):
        client.published_articles(count=21)
    client.delete_published(article_id)
    assert client.publish_status(publish_id)["publish_status"] == 5
    assert client.published_articles() == []
    with pytest.raises(InvalidPublishId) as unknown:
        client.publish_status("1")
    assert unknown.value.errcode == 53502
    with pytest.raises(InvalidArticleId):
        client.delete_published("NOPE")


@live
def test_a_failed_publish_is_reported(account: Account, sandbox: Sandbox) -> None:
    client = WeChatClient(account)
    sandbox.call("POST", f"/api/accounts/{account.appid}/publish-failures", {"status": 2})
    publish_id, _ = client.submit_publish(client.add_draft([with_cover(client)]))
    run_jobs(sandbox, account)
    failed = client.publish_status(publish_id)
    assert (failed["publish_status"], failed["fail_idx"]) == (2, [1])
    assert PUBLISH_STATUSES[failed["publish_status"]] == "原创失败"
    with pytest.raises(InvalidMediaId):
        client.submit_publish("NOPE")


# ------------------------------------------------------------------ mass send


@live
def test_a_subscription_account_mass_sends_once_a_day(
    account: Account, sandbox: Sandbox, settings: Any
) -> None:
    settings.GOVWX_SANDBOX_MASS_SECONDS = 60
    openids = followers(sandbox, account, 2)
    client = WeChatClient(account)
    sent = client.mass_send_all("text", {"content": "今晚停水检修"}, clientmsgid="water-1")
    assert sent == {
        "errcode": 0,
        "errmsg": "send job submission success",
        "msg_id": sent["msg_id"],
    }  # no msg_data_id: not an article
    assert isinstance(sent["msg_id"], int)
    assert client.mass_status(str(sent["msg_id"])) == "SENDING"
    with pytest.raises(MassRetryTooFast) as again:
        client.mass_send_all("text", {"content": "今晚停水检修"}, clientmsgid="water-1")
    assert again.value.retryable
    run_jobs(sandbox, account)
    assert client.mass_status(sent["msg_id"]) == "SEND_SUCCESS"
    conversation = sandbox.call(
        "GET", f"/api/accounts/{account.appid}/followers/{openids[0]}/conversation"
    )
    assert conversation["entries"][-1]["payload"] == {"msg_type": "text", "content": "今晚停水检修"}
    with pytest.raises(MassQuotaUsedUp) as quota:
        client.mass_send_all("text", {"content": "再发一条"})
    assert (quota.value.errcode, quota.value.explanation) == (45028, "群发配额已用完")
    with pytest.raises(Unauthorized) as unauthorized:
        client.mass_send_openids(openids, "text", {"content": "只发给两位"})
    assert unauthorized.value.errcode == 48001
    with pytest.raises(ValueError, match="2 to 10 000 OpenIDs"):
        client.mass_send_openids(openids[:1], "text", {"content": "x"})
    with pytest.raises(ValueError, match="clientmsgid is 1 to 64 bytes"):
        client.mass_send_all("text", {"content": "x"}, clientmsgid="x" * 65)
    with pytest.raises(ValueError, match="text mass message needs content"):
        client.mass_send_all("text", {})


@live
def test_a_service_account_sends_articles_previews_and_deletes(
    account: Account, sandbox: Sandbox, settings: Any
) -> None:
    settings.GOVWX_SANDBOX_MASS_SECONDS = 60
    as_service(sandbox, account)
    openids = followers(sandbox, account, 3)
    client = WeChatClient(account)
    draft = client.add_draft([with_cover(client)])
    assert client.mass_preview(openids[0], "mpnews", {"media_id": draft}) > 0
    sent = client.mass_send_all("mpnews", {"media_id": draft}, send_ignore_reprint=True)
    assert isinstance(sent["msg_data_id"], int)
    with pytest.raises(InvalidMsgId):
        client.mass_delete(sent["msg_id"])  # still sending
    run_jobs(sandbox, account)
    client.mass_delete(str(sent["msg_id"]))  # as a caller may have kept it
    assert client.mass_status(sent["msg_id"]) == "DELETE"
    first = client.mass_send_openids(openids[:2], "text", {"content": "您的业务已办结"})
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        with pytest.raises(DuplicateMassSend) as repeat:
            client.mass_send_openids(openids[:2], "text", {"content": "您的业务已办结"})
    assert repeat.value.msg_id == first["msg_id"]
    with pytest.raises(WeChatAPIError) as unknown_type:
        client.mass_send_all("mpvideo", {"media_id": "x"})
    assert unknown_type.value.errcode == 40008
